"""The admin and the editor under the Content-Security-Policy, and autosave, in a real browser."""

import io
import re

import pytest
from PIL import Image

from notes import services
from notes.models import Post
from tests.e2e.helpers import log_in, make_admin, wait_until
from tests.factories import make_post

pytestmark = pytest.mark.django_db(transaction=True)


def small_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), (10, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def author(db):
    return make_admin()


def test_the_editor_and_its_preview_work_under_the_policy(page, author, csp_violations):
    log_in(page)
    response = page.goto("/admin/notes/post/add/")
    assert "/static/ " in response.headers["content-security-policy"]
    assert "script-src 'self'" not in response.headers["content-security-policy"]
    page.locator("#id_title").press_sequentially("Under a strict policy")
    # The slug is filled in by the admin's own script, which the policy must allow.
    assert page.input_value("#id_slug") == "under-a-strict-policy"
    page.locator("#id_body").press_sequentially("Some *emphasis* and `code`.")
    page.frame_locator(".kb-editor-preview").locator("em", has_text="emphasis").wait_for()
    page.click("button[name=_continue]")
    page.wait_for_url(re.compile(r"/admin/notes/post/\d+/change/$"))
    assert "Saved the draft" in page.locator(".messagelist").inner_text()
    assert csp_violations == []
    assert page.js_errors == []


def test_an_image_dropped_on_the_editor_is_uploaded_and_inserted(
    page, author, csp_violations, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    log_in(page)
    page.goto("/admin/notes/post/add/")
    page.evaluate(
        """bytes => {
            const file = new File([new Uint8Array(bytes)], "figure.png", {type: "image/png"});
            const data = new DataTransfer();
            data.items.add(file);
            const editor = document.querySelector("#id_body");
            editor.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true}));
        }""",
        list(small_png()),
    )
    wait_until(page, "() => document.querySelector('#id_body').value.includes('/media/uploads/')")
    assert re.search(
        r"!\[\]\(/media/uploads/\d{4}/\d{2}/[0-9a-f]{32}\.png\)", page.input_value("#id_body")
    )
    assert csp_violations == []


def test_history_compare_restore_and_trash_pages_work_under_the_policy(
    page, author, csp_violations
):
    post = make_post("Versioned", body="First words.", author=author)
    post.body = "Second words."
    services.save_post(post)
    log_in(page)

    page.goto(f"/admin/notes/post/{post.pk}/history/")
    page.click("text=Compare selected revisions")
    assert page.locator("del", has_text="First words.").count() == 1
    page.go_back()
    page.locator("button", has_text="Restore").first.click()
    assert "Restored revision 1" in page.locator(".messagelist").inner_text()
    post.refresh_from_db()
    assert post.body == "First words."

    page.goto(f"/admin/notes/post/{post.pk}/delete/")
    page.click("input[type=submit]")
    page.goto("/admin/notes/post/trash/")
    page.locator("button", has_text="Restore").click()
    assert "Restored “Versioned”" in page.locator(".messagelist").inner_text()
    assert Post.objects.published().filter(pk=post.pk).exists()
    assert csp_violations == []


def test_unsaved_text_survives_a_reload_and_is_restored_on_request(page, author):
    log_in(page)
    page.goto("/admin/notes/post/add/")
    page.locator("#id_title").press_sequentially("Half-written thoughts")
    page.locator("#id_body").press_sequentially("A paragraph I would hate to lose.")
    wait_until(page, "() => Object.keys(localStorage).some(k => k.startsWith('kb-autosave:'))")
    page.wait_for_timeout(600)  # past the autosave delay, so the last keystrokes are kept

    page.reload()
    prompt = page.locator(".autosave-prompt")
    prompt.wait_for()
    assert "kept text you had not saved" in prompt.inner_text()
    assert page.input_value("#id_body") == ""
    page.click("text=Restore it")
    assert page.input_value("#id_title") == "Half-written thoughts"
    assert page.input_value("#id_body") == "A paragraph I would hate to lose."
    page.frame_locator(".kb-editor-preview").locator("p", has_text="hate to lose").wait_for()

    # Once the server has the text, the copy is dropped and the prompt does not come back.
    page.fill("#id_slug", "half-written-thoughts")
    page.click("button[name=_continue]")
    page.wait_for_url(re.compile(r"/admin/notes/post/\d+/change/$"))
    page.goto("/admin/notes/post/add/")
    page.wait_for_load_state("load")
    assert page.locator(".autosave-prompt").count() == 0


def test_discarding_the_kept_text_forgets_it(page, author):
    post = make_post("Existing", body="Saved words.", author=author)
    log_in(page)
    page.goto(f"/admin/notes/post/{post.pk}/change/")
    page.locator("#id_body").press_sequentially(" And more.")
    page.wait_for_timeout(600)
    page.reload()
    page.click("text=Discard it")
    page.reload()
    page.wait_for_load_state("load")
    assert page.locator(".autosave-prompt").count() == 0
    assert page.input_value("#id_body") == "Saved words."
