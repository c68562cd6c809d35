"""Ctrl+S in the editor saves and stays: no reload, the bar says "Saved" and the time, the
next Ctrl+S saves again, a save made elsewhere in between is shown as a conflict without losing
a word, and `[[` finds a post by the words of its title."""

from __future__ import annotations

import re

import pytest

from notes import services
from notes.models import Post
from tests.e2e.helpers import log_in, make_admin
from tests.factories import make_post

pytestmark = pytest.mark.django_db(transaction=True)

SAVED = re.compile(r"^Saved \d\d:\d\d$")


@pytest.fixture
def author(db):
    return make_admin()


def open_editor(page, post: Post) -> list[str]:
    """Open the post's change page; returns the list the page's later navigations go into."""
    log_in(page)
    page.goto(f"/admin/notes/post/{post.pk}/change/")
    page.wait_for_load_state("load")
    page.evaluate("window.kbStillHere = 'the same page'")
    navigations: list[str] = []
    page.on("framenavigated", lambda f: navigations.append(f.url) if f == page.main_frame else 0)
    return navigations


def bar(page) -> str:
    return page.locator(".kb-save-state").inner_text()


def wait_for_bar(page, pattern: re.Pattern) -> None:
    for _ in range(100):
        if pattern.search(bar(page)):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"The bar says {bar(page)!r}")


def test_ctrl_s_saves_in_place_and_again(page, author, csp_violations):
    post = make_post("In place", body="First words.", author=author)
    revisions = post.revisions.count()
    navigations = open_editor(page, post)
    body = page.locator("#id_body")
    body.press("End")
    page.keyboard.type(" Second words.")
    assert bar(page) == "Unsaved changes"

    page.keyboard.press("Control+s")
    wait_for_bar(page, SAVED)
    post.refresh_from_db()
    assert post.body == "First words. Second words."
    assert post.revisions.count() == revisions + 1
    assert page.evaluate("window.kbStillHere") == "the same page" and navigations == []
    # Still typing where the author was: focus and caret untouched.
    assert page.evaluate("document.activeElement.id") == "id_body"
    assert page.evaluate("document.activeElement.selectionStart") == len(body.input_value())
    assert page.input_value("[name=base_version]") == str(post.version)

    page.keyboard.type(" Third.")
    assert bar(page) == "Unsaved changes"
    page.keyboard.press("Control+s")
    wait_for_bar(page, SAVED)
    post.refresh_from_db()
    assert post.body == "First words. Second words. Third."
    assert post.revisions.count() == revisions + 2
    assert page.evaluate("window.kbStillHere") == "the same page" and navigations == []
    assert page.locator("#edit-conflict").count() == 0
    assert csp_violations == [] and page.js_errors == []


def test_a_new_title_saved_in_place_names_the_page_and_the_tab(page, author):
    post = make_post("Working title", body="Words.", author=author)
    navigations = open_editor(page, post)
    assert page.locator("#content > h2").inner_text() == "Working title"
    page.fill("#id_title", "Final title")
    page.locator("#id_body").click()
    page.keyboard.press("Control+s")
    wait_for_bar(page, SAVED)
    assert page.locator("#content > h2").inner_text() == "Final title"
    assert "Final title" in page.title() and "Working title" not in page.title()
    assert navigations == []


def test_ctrl_s_after_someone_elses_save_shows_the_conflict_and_keeps_the_text(page, author):
    post = make_post("Shared", body="The first words.", author=author)
    navigations = open_editor(page, post)
    # Someone else saves in between.
    other = Post.objects.get(pk=post.pk)
    other.body = "Their words."
    services.save_post(other)
    page.locator("#id_body").press("End")
    page.keyboard.type(" My words.")

    page.keyboard.press("Control+s")
    conflict = page.locator("#edit-conflict")
    conflict.wait_for()
    assert "saved elsewhere" in conflict.locator(".errorlist.nonfield").inner_text()
    assert "Their words." in conflict.locator("del").inner_text()
    assert "someone else saved" in bar(page)
    assert page.input_value("#id_body") == "The first words. My words."
    assert page.evaluate("window.kbStillHere") == "the same page" and navigations == []
    post.refresh_from_db()
    assert post.body == "Their words."

    # Saving again, having seen the difference, is deliberate.
    page.keyboard.press("Control+s")
    wait_for_bar(page, SAVED)
    assert page.locator("#edit-conflict").count() == 0
    post.refresh_from_db()
    assert post.body == "The first words. My words."
    assert page.js_errors == []


def test_ctrl_s_that_removes_a_wikilinks_row_fetches_a_fresh_page_and_saves_again(page, author):
    make_post("Counting attention", slug="counting-attention")
    post = make_post("Linking", body="See [[counting-attention]].", author=author)
    open_editor(page, post)
    assert page.locator("#id_outgoing_links-0-id").input_value() != ""  # the row is shown
    page.fill("#id_body", "No link now.")
    page.locator("#id_body").press("End")
    page.keyboard.press("Control+s")
    # The row went with the wikilink: a fresh page, which says it saved, caret kept.
    page.locator(".messagelist .success").wait_for()
    assert bar(page) == "Saved"
    assert page.locator("#id_outgoing_links-0-id").input_value() == ""
    assert page.evaluate("document.activeElement.id") == "id_body"
    page.keyboard.type(" Later.")
    page.keyboard.press("Control+s")
    wait_for_bar(page, SAVED)
    post.refresh_from_db()
    assert post.body == "No link now. Later." and not post.outgoing_links.exists()
    assert page.js_errors == []


def test_ctrl_s_with_an_error_shows_it_on_its_field(page, author):
    post = make_post("Named", body="Kept text.", author=author)
    open_editor(page, post)
    page.fill("#id_title", "")
    page.locator("#id_body").press("End")
    page.keyboard.type(" More.")
    page.keyboard.press("Control+s")
    # The form comes back as a page, each error on its field, the text as it was typed.
    page.locator(".errornote").wait_for()
    assert "Give the post a title." in page.locator(".field-title .errorlist").inner_text()
    assert page.input_value("#id_body") == "Kept text. More."
    assert "Not saved" in bar(page)
    post.refresh_from_db()
    assert post.title == "Named" and post.body == "Kept text."


def test_double_brackets_and_a_title_word_list_the_post_and_enter_links_it(page, author):
    make_post("Denoising Diffusion Models", slug="ddpm")
    make_post("Model cards", slug="model-cards")
    log_in(page)
    page.goto("/admin/notes/post/add/")
    page.locator("#id_body").click()
    page.keyboard.type("As in [[diff mod")
    option = page.locator(".kb-complete [role=option]", has_text="Denoising Diffusion Models")
    option.wait_for()
    assert page.locator(".kb-complete [role=option]").count() == 1
    page.keyboard.press("Enter")
    assert page.input_value("#id_body") == "As in [[ddpm|Denoising Diffusion Models]]"
    assert page.locator(".kb-complete").is_hidden()
