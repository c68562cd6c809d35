"""A reader using assistive technology, or a phone: axe-core finds nothing on the public pages in
either theme, the header fits one row at 390 px and marks where the reader is, and the search
page is usable from the keyboard, with results that follow the typing.

axe-core is vendored (tests/e2e/vendor/axe.min.js, MPL-2.0, licence beside it) so the test
needs no network. It runs with the page's CSP bypassed, since the policy forbids the injected
script; the CSP itself is tested in test_public_pages_csp.py."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from notes.models import Series, Tag

pytestmark = pytest.mark.django_db(transaction=True)

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
PHONE = {"width": 390, "height": 844}


def public_pages(demo) -> dict[str, str]:
    post = demo.get(slug="attention-cost")
    tag = Tag.objects.filter(posts__in=demo).order_by("name").first()
    series = Series.objects.filter(posts__in=demo).first()
    return {
        "home": "/",
        "post": post.get_absolute_url(),
        "tags": "/tags/",
        "tag": tag.get_absolute_url(),
        "search": "/search/?q=attention",
        "no results": "/search/?q=attentoin+zebra",
        "archive": "/archive/",
        "series": series.get_absolute_url(),
        "404": "/no-such-page/",
    }


def axe_violations(page) -> list[str]:
    page.evaluate(AXE)
    results = page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:5])
        for v in results["violations"]
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violations_on_any_public_page(new_context, demo, scheme):
    page = new_context(f"axe-{scheme}", bypass_csp=True, color_scheme=scheme).new_page()
    found = {}
    for name, url in public_pages(demo).items():
        page.goto(url)
        expect(page.locator("button.theme-toggle")).to_be_visible()  # scripts have run
        if violations := axe_violations(page):
            found[name] = violations
    assert found == {}


def test_the_header_fits_one_row_on_a_phone_and_marks_the_section(new_context, demo):
    page = new_context("phone", viewport=PHONE).new_page()
    tag = Tag.objects.filter(posts__in=demo).order_by("name").first()
    for url, section in [("/", "Posts"), ("/tags/", "Tags"), (tag.get_absolute_url(), "Tags")]:
        page.goto(url)
        header = page.locator(".header-row").bounding_box()
        tops = page.evaluate(
            "[...document.querySelectorAll('.header-row > *')]"
            ".map(e => Math.round(e.getBoundingClientRect().top))"
        )
        assert header["height"] < 70 and max(tops) - min(tops) < 20, (url, tops)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        current = page.locator(".site-nav a[aria-current]")
        expect(current).to_have_count(1)
        expect(current).to_have_text(section)
    page.screenshot(path=str(Path(__file__).parents[2] / "test-artifacts" / "header-390.png"))


def test_the_text_is_set_in_the_self_hosted_font(page, demo):
    page.goto("/")
    page.evaluate("document.fonts.ready")
    assert page.evaluate("document.fonts.check('700 16px \"Charis SIL\"')")
    assert page.evaluate("document.fonts.check('16px \"Charis SIL\"')")
    loaded = page.evaluate(
        "[...document.fonts].filter(f => f.status === 'loaded').map(f => f.family)"
    )
    assert '"Charis SIL"' in loaded or "Charis SIL" in loaded


def test_slash_focuses_the_search_box_and_results_follow_the_typing(page, demo):
    page.goto("/")
    page.keyboard.press("/")
    expect(page.locator("#site-search-q")).to_be_focused()

    page.goto("/search/")
    expect(page.locator("form[role=search]")).to_have_count(1)  # one box on the search page
    page.locator("h1").click()
    page.keyboard.press("/")
    box = page.locator("#search-page-q")
    expect(box).to_be_focused()

    box.press_sequentially("diffusion", delay=30)
    expect(page).to_have_url("/search/?q=diffusion")
    expect(page.locator(".count-line")).to_contain_text("for “diffusion”")
    first = page.locator(".post-card-title a").first.inner_text()
    expect(page.locator(".search-snippet mark").first).to_be_visible()

    box.fill("")
    box.press_sequentially("guidance", delay=30)
    expect(page).to_have_url("/search/?q=guidance")
    expect(page.locator(".count-line")).to_contain_text("for “guidance”")

    page.go_back()  # one step back leaves the live search
    expect(page).to_have_url("/search/")
    expect(page.locator("#search-page-q")).to_have_value("")
    page.go_forward()
    expect(page.locator("#search-page-q")).to_have_value("guidance")
    assert first
    assert page.js_errors == []


def test_search_works_without_javascript(new_context, demo):
    page = new_context("no-js", java_script_enabled=False).new_page()
    page.goto("/search/")
    page.locator("#search-page-q").fill("diffusion")
    page.locator("#search-page-q").press("Enter")

    expect(page).to_have_url("/search/?q=diffusion")
    expect(page.locator(".count-line")).to_contain_text("for “diffusion”")
