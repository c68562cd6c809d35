"""A reader and an author, in a real browser."""

import re

import pytest

from notes.models import Post
from tests.e2e.helpers import log_in, make_admin

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin_user(db):
    return make_admin()


def test_reader_browses_from_listing_to_post_to_tag(page, demo):
    newest = demo.first()
    page.goto("/")
    cards = page.locator("article.post-card")
    assert cards.count() == min(10, demo.count())
    assert cards.first.locator("h2").inner_text() == newest.title
    assert re.search(r"\d+ min read", cards.first.inner_text())

    page.click(f"text={newest.title}")
    page.wait_for_url(f"**{newest.get_absolute_url()}")
    assert page.locator("h1.post-title").inner_text() == newest.title

    tag = newest.tags.first()
    page.locator(".post-header .tags a", has_text=tag.name).click()
    page.wait_for_url(f"**{tag.get_absolute_url()}")
    assert page.locator("h1").inner_text() == tag.name
    assert page.locator("article.post-card h2", has_text=newest.title).count() == 1
    assert page.js_errors == []


def test_math_and_code_are_rendered_without_client_side_scripts(page, demo):
    post = next(p for p in demo if "$$" in p.body or "\\[" in p.body)
    page.goto(post.get_absolute_url())
    assert page.locator(".prose math").count() > 0
    assert page.locator(".math-error").count() == 0
    # Formulas are typeset HTML, not raw TeX left for a script to find.
    assert "\\frac" not in page.locator(".prose").inner_text()


def test_listing_fits_a_phone_screen(mobile_page, demo):
    mobile_page.goto("/")
    overflow = mobile_page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0


def test_author_writes_previews_and_publishes_a_post(page, admin_user, demo):
    log_in(page)
    page.goto("/admin/notes/post/add/")
    # Typed key by key, as the slug is prepopulated from keystrokes.
    page.locator("#id_title").press_sequentially("Notes from the browser")
    assert page.input_value("#id_slug") == "notes-from-the-browser"
    page.locator("#id_body").press_sequentially("Some **bold** prose and [[attention-cost]].")
    # The live preview comes back from the staff-only endpoint, into the reader's styles.
    preview = page.frame_locator(".kb-editor-preview")
    preview.locator("strong", has_text="bold").wait_for()
    page.locator(".field-tags .select2-search__field").click()
    page.keyboard.type("browser,testing,")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[name=_publish]")
    page.locator(".messagelist a", has_text="see it on the site").wait_for()

    post = Post.objects.get(title="Notes from the browser")
    page.goto(post.get_absolute_url())
    assert page.locator("h1.post-title").inner_text() == "Notes from the browser"
    assert page.locator(".post-header .tags a", has_text="testing").count() == 1
    page.goto("/")
    assert page.locator("article.post-card h2").first.inner_text() == "Notes from the browser"


def test_static_files_are_served_as_in_production(page, long_post):
    """Hashed names from the manifest, through WhiteNoise, cacheable for good; none missing."""
    static = []
    page.on("response", lambda r: static.append(r) if "/static/" in r.url else None)
    page.goto(long_post.get_absolute_url())
    page.wait_for_load_state("networkidle")

    stylesheet = page.locator("link[rel=stylesheet]").first.get_attribute("href")
    assert re.fullmatch(r"/static/css/site\.[0-9a-f]{12}\.css", stylesheet)
    assert {r.status for r in static} == {200}
    css = next(r for r in static if r.url.endswith(stylesheet))
    assert "immutable" in css.headers["cache-control"]
    assert any(r.url.endswith(".woff2") for r in static)  # the math font, on a page with math
