"""Every kind of public page works under the Content-Security-Policy: nothing it needs (scripts,
styles, the math font) is blocked, and its scripts run."""

import pytest
from playwright.sync_api import expect

from notes.demo_content import load_demo
from notes.models import Post, Series

pytestmark = pytest.mark.django_db(transaction=True)

MATH_FONT_STATUS = """() => document.fonts.ready.then(() => Object.fromEntries(
    [...document.fonts].filter(f => f.family.startsWith("KaTeX"))
        .map(f => [`${f.family} ${f.weight} ${f.style}`, f.status])))"""


def test_public_pages_load_without_a_policy_violation(page, csp_violations):
    load_demo()
    post = Post.objects.published().get(slug="attention-cost")
    series = Series.objects.first()
    tag = post.tags.first()
    urls = [
        "/",
        post.get_absolute_url(),
        "/tags/",
        tag.get_absolute_url(),
        "/search/?q=attention",
        "/archive/",
        "/references/",
        series.get_absolute_url(),
    ]
    for url in urls:
        response = page.goto(url)
        assert response.status == 200, url
        assert "/static/ " in response.headers["content-security-policy"], url
        assert "script-src 'self'" not in response.headers["content-security-policy"], url
        # theme.js reveals the toggle: the page's own script was allowed to run.
        expect(page.locator("button.theme-toggle")).to_be_visible()
        if url == post.get_absolute_url():
            assert page.locator(".prose pre.highlight button.copy-code").count() > 0
            assert page.locator(".prose .katex-html").count() > 0
            # The shipped math fonts were fetched (font-src), and only the faces in use.
            faces = page.evaluate(MATH_FONT_STATUS)
            assert faces["KaTeX_Main 400 normal"] == "loaded"
            assert faces["KaTeX_Math 400 italic"] == "loaded"
            assert faces["KaTeX_Fraktur 700 normal"] == "unloaded"
    assert csp_violations == []
    assert page.js_errors == []
