"""A reader's comfort in a real browser: the theme toggle, a phone-width post, copying BibTeX."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)

DARK_BACKGROUND = "rgb(21, 23, 27)"
LIGHT_BACKGROUND = "rgb(253, 252, 250)"


def background(page) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


LIGHT_ON = "Light theme is on: switch to dark"
DARK_ON = "Dark theme is on: switch to light"


def visible_icon(page) -> str:
    """Which of the toggle's two icons the reader sees."""
    sun = page.locator(".theme-toggle .icon-sun").is_visible()
    moon = page.locator(".theme-toggle .icon-moon").is_visible()
    assert sun != moon
    return "sun" if sun else "moon"


def theme_attribute(page) -> str | None:
    return page.evaluate("document.documentElement.getAttribute('data-theme')")


def test_dark_mode_toggle_is_remembered_across_reloads(page, long_post):
    page.emulate_media(color_scheme="light")
    page.goto(long_post.get_absolute_url())
    toggle = page.locator("button.theme-toggle")
    assert toggle.is_visible()
    expect(toggle).to_have_accessible_name(LIGHT_ON)
    assert visible_icon(page) == "sun"
    assert background(page) == LIGHT_BACKGROUND

    toggle.click()
    assert theme_attribute(page) == "dark"
    expect(toggle).to_have_accessible_name(DARK_ON)
    assert visible_icon(page) == "moon"
    assert background(page) == DARK_BACKGROUND

    # The choice is applied by the blocking init script in <head>, not by the deferred toggle
    # script, so it holds even when that script never arrives: no flash of the light theme.
    page.route("**/theme.js", lambda route: route.abort())
    page.reload()
    assert theme_attribute(page) == "dark"
    assert background(page) == DARK_BACKGROUND

    page.unroute("**/theme.js")
    page.reload()
    page.locator("button.theme-toggle").click()
    page.reload()
    assert theme_attribute(page) == "light"
    assert background(page) == LIGHT_BACKGROUND
    assert page.js_errors == []


def test_system_dark_preference_applies_until_the_reader_chooses(page, long_post):
    page.emulate_media(color_scheme="dark")
    page.goto("/")
    assert theme_attribute(page) is None
    assert background(page) == DARK_BACKGROUND
    toggle = page.locator("button.theme-toggle")
    expect(toggle).to_have_accessible_name(DARK_ON)
    assert visible_icon(page) == "moon"

    toggle.click()
    page.reload()
    assert background(page) == LIGHT_BACKGROUND


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_long_post_with_math_and_code_fits_a_phone(mobile_page, long_post, scheme):
    mobile_page.emulate_media(color_scheme=scheme)
    mobile_page.goto(long_post.get_absolute_url())
    assert mobile_page.locator(".prose math").count() > 0
    assert mobile_page.locator(".prose pre").count() > 0
    overflow = mobile_page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0


def test_bibtex_block_has_a_working_copy_button(page, long_post):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(long_post.get_absolute_url())
    block = page.locator(".citation pre")
    button = block.locator("button")

    button.click()

    expect(button).to_have_text("Copied")  # the clipboard write resolves asynchronously
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("@misc{lindqvist2023selfattention,")
    assert f"url          = {{{page.url}}}" in copied
    assert page.js_errors == []


def test_the_compact_listing_is_remembered(page, demo):
    page.goto("/")
    expect(page.locator(".post-card").first).to_be_visible()

    page.locator(".view-switch a[data-view=compact]").click()
    expect(page).to_have_url("/?view=compact")
    page.goto("/")  # a plain visit later: the blocking head script goes to the compact view
    expect(page).to_have_url("/?view=compact")
    expect(page.locator(".compact-item").first).to_be_visible()

    page.locator(".view-switch a[data-view=full]").click()
    page.goto("/")
    expect(page).to_have_url("/")
    expect(page.locator(".post-card").first).to_be_visible()
    assert page.js_errors == []
