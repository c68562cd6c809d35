"""Exploring connections and reading a post in Chromium: link previews by pointer and keyboard,
margin notes on a wide screen and footnotes read in place on a phone, where the text starts,
the contents beside it, and the graph with and without JavaScript."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1400, "height": 900}


def box(locator) -> dict:
    return locator.bounding_box()


def test_hovering_a_wikilink_previews_the_post_and_the_link_still_navigates(
    page, demo, csp_violations
):
    page.goto("/posts/attention-cost/")
    target = demo.get(slug="chinchilla")
    link = page.locator(".prose a.wikilink[href='/posts/chinchilla/']").first
    card = page.locator(".preview-card")

    link.hover()
    expect(card).to_be_visible()
    expect(card.locator(".preview-title")).to_have_text(target.title)
    expect(card).to_contain_text("min read")
    # Beside the link, not somewhere else on the page.
    assert abs(box(card)["y"] - (box(link)["y"] + box(link)["height"])) < 40

    page.mouse.move(5, 5)
    expect(card).to_be_hidden()

    link.click()
    expect(page).to_have_url(re.compile(r"/posts/chinchilla/$"))
    assert csp_violations == [] and page.js_errors == []


def test_a_focused_link_previews_escape_closes_and_enter_follows(page, demo):
    page.goto("/posts/attention-cost/")
    link = page.locator(".prose a.wikilink[href='/posts/chinchilla/']").first
    card = page.locator(".preview-card")

    link.focus()
    expect(card).to_be_visible()
    assert link.get_attribute("aria-describedby") == "link-preview"
    page.keyboard.press("Escape")
    expect(card).to_be_hidden()
    expect(link).to_be_focused()

    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/posts/chinchilla/$"))


def test_external_links_get_no_preview(page, demo):
    page.goto("/posts/chinchilla/")
    page.locator("a[href^='https://']").first.hover()
    page.wait_for_timeout(900)
    assert page.locator(".preview-card:visible").count() == 0


def test_a_tap_follows_the_link_without_a_card(new_context, demo):
    context = new_context("touch", viewport=PHONE, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto("/posts/attention-cost/")
    page.locator(".prose a.wikilink[href='/posts/chinchilla/']").first.tap()
    expect(page).to_have_url(re.compile(r"/posts/chinchilla/$"))


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("slug", ["attention-cost", "diffusion-reverse-process"])
def test_the_first_paragraph_starts_within_the_first_screen(new_context, demo, viewport, slug):
    page = new_context("reader", viewport=viewport).new_page()
    page.goto(f"/posts/{slug}/")
    first = page.locator(".prose > p").first
    top = box(first)["y"]
    assert top + 40 < viewport["height"], f"first paragraph at y={top}"


def test_margin_notes_sit_beside_their_reference_on_a_wide_screen(new_context, demo):
    page = new_context("wide", viewport=WIDE).new_page()
    page.goto("/posts/attention-cost/")
    reference = page.locator(".prose sup.footnote-ref").first
    note = page.locator(".prose .sidenote").first
    expect(note).to_be_visible()
    prose = box(page.locator(".prose"))
    assert box(note)["x"] >= prose["x"] + prose["width"]
    assert abs(box(note)["y"] - box(reference)["y"]) < 30
    # The list at the end is left to screen readers.
    assert box(page.locator(".prose .footnotes"))["height"] <= 1

    contents = page.locator(".post-toc-side")
    expect(contents).to_be_visible()
    assert box(contents)["x"] + box(contents)["width"] <= prose["x"]
    heading = page.locator(".prose > h2").nth(2)
    heading.evaluate("h => window.scrollTo(0, h.getBoundingClientRect().top + scrollY - 60)")
    current = page.locator(f".post-toc-side a[href='#{heading.get_attribute('id')}']")
    expect(current).to_have_attribute("aria-current", "true")
    # Sticky: still on screen far down the page.
    assert 0 <= box(contents)["y"] < WIDE["height"]


def test_on_a_phone_a_footnote_opens_in_place(new_context, demo):
    page = new_context("phone", viewport=PHONE).new_page()
    page.goto("/posts/attention-cost/")
    expect(page.locator(".post-toc-side")).to_be_hidden()
    expect(page.locator("details.post-toc-inline")).not_to_have_attribute("open", "")
    note = page.locator(".prose .sidenote").first
    expect(note).to_be_hidden()
    expect(page.locator(".prose .footnotes")).to_be_visible()

    reference = page.locator(".prose sup.footnote-ref a").first
    reference.scroll_into_view_if_needed()
    before = page.evaluate("window.scrollY")
    reference.click()
    expect(note).to_be_visible()
    assert page.evaluate("window.scrollY") == before
    assert 0 < box(note)["y"] - box(reference)["y"] < 120


def test_the_graph_works_without_javascript(new_context, demo):
    page = new_context("no-js", java_script_enabled=False).new_page()
    page.goto("/graph/")
    nodes = page.locator("svg.graph-svg a.graph-node")
    assert nodes.count() == demo.count()
    expect(page.locator("svg.graph-svg text").first).to_be_visible()
    page.locator("svg.graph-svg a.graph-node[href='/posts/attention-cost/'] circle").click()
    expect(page).to_have_url(re.compile(r"/posts/attention-cost/$"))


def test_the_graph_zooms_and_highlights_with_javascript(page, demo, csp_violations):
    page.goto("/graph/")
    svg = page.locator("svg.graph-svg")
    before = svg.get_attribute("viewBox")
    page.locator(".graph-frame").hover()
    page.mouse.wheel(0, -300)
    expect(svg).not_to_have_attribute("viewBox", before)
    page.locator("a.graph-node[href='/posts/attention-cost/'] circle").hover()
    expect(svg).to_have_class("graph-svg highlighting")
    assert csp_violations == [] and page.js_errors == []


def test_hovering_a_tag_previews_its_posts(page, demo):
    page.goto("/posts/attention-cost/")
    page.locator(".post-header a.tag").first.hover()
    card = page.locator(".preview-card")
    expect(card).to_be_visible()
    expect(card.locator(".preview-meta")).to_contain_text("Tag ·")
