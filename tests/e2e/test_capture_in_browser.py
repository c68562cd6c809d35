"""A reader on someone else's page selects a passage, clicks the bookmarklet, and gets a
prefilled summary draft in kb, saved and opened in the editor in one more click. Staff also
browse the API's docs, under the same strict Content-Security-Policy."""

import re

import pytest

from notes.models import Post
from tests.e2e.helpers import log_in, make_admin, wait_until
from tests.factories import make_tag

pytestmark = pytest.mark.django_db(transaction=True)

PASSAGE = "The article text, which capture does not copy."


def test_the_bookmarklet_turns_a_page_into_a_summary_draft(page, web_server, csp_violations):
    web_server.serve_file("/paper", "article.html", "text/html; charset=utf-8")
    make_tag("score matching")
    make_tag("optimal transport")
    make_admin()
    log_in(page)

    page.goto("/capture/")
    bookmarklet = page.locator("#bookmarklet").get_attribute("href")
    assert bookmarklet.startswith("javascript:")
    assert csp_violations == []

    # On the paper's page (another site), the reader selects a passage and clicks the bookmark.
    page.goto(web_server.url("/paper"))
    page.evaluate(
        "() => { const p = document.querySelector('p'); const range = document.createRange();"
        " range.selectNodeContents(p); getSelection().removeAllRanges();"
        " getSelection().addRange(range); }"
    )
    page.evaluate(bookmarklet.removeprefix("javascript:"))
    page.wait_for_url(re.compile(r"/capture/\?url="))

    assert (
        page.input_value("#id_title") == "Sliced Score Matching | Proceedings of a Test Conference"
    )
    assert page.input_value("#id_source_url") == web_server.url("/paper")
    body = page.input_value("#id_body")
    assert body.startswith("Song, Yang et al. (2019), Test Conference on Uncertainty.")
    assert f"> {PASSAGE}" in body
    assert page.input_value("#id_summary").startswith("Projecting the score")
    checked = page.locator("#id_tags input:checked").evaluate_all(
        "boxes => boxes.map(box => box.parentElement.textContent.trim())"
    )
    assert checked == ["score matching"]

    page.click("text=Save draft and edit it")
    page.wait_for_url(re.compile(r"/admin/notes/post/\d+/change/$"))
    assert "as a draft" in page.inner_text(".messagelist")
    post = Post.objects.get()
    assert post.status == "draft" and post.source_url == web_server.url("/paper")
    assert page.input_value("#id_title") == post.title
    assert csp_violations == []


def test_staff_browse_the_api_docs(page, csp_violations):
    make_admin()
    log_in(page)
    page.goto("/api/v1/docs/")
    wait_until(page, "!!document.querySelector('.swagger-ui .info .title')")
    assert "kb API" in page.inner_text(".swagger-ui .info .title")
    wait_until(page, "document.querySelectorAll('.opblock').length > 10")
    assert "/api/v1/posts/" in page.inner_text(".swagger-ui")
    assert csp_violations == []
