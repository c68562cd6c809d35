"""An author writes a post with math, code, a wikilink and tags in the editor, saves it as a
draft, and publishes it; a visitor in another browser sees it only once it is published."""

import re

import pytest

from notes.models import Post
from tests.e2e.helpers import card_titles, log_in, make_admin
from tests.factories import make_post

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "Quadrature by hand"
SEARCH_WORD = "quadrature"
BODY = r"""An exercise in quadrature, worked without a computer first.

## The integral of a parabola

$$\int_0^1 x^2\,dx = \frac{1}{3}$$

```python
def area(n: int) -> float:
    return sum((i / n) ** 2 for i in range(n)) / n
```

The same bookkeeping as in [[Counting attention]].
"""
TAGS = "numerical methods, calculus"
TAG_SLUGS = ["numerical-methods", "calculus"]


@pytest.fixture
def linked_post(db):
    """The published post the new one links to; a second post keeps the listings non-empty."""
    make_post("An older note", days_ago=3)
    return make_post("Counting attention", slug="counting-attention", days_ago=2)


def formula_shown(scope, where: str) -> None:
    """The one display formula in `scope` is typeset by KaTeX with a real size, not raw TeX."""
    formula = scope.locator(".math-display .katex-html, .math-error").first
    formula.wait_for()
    error = formula.evaluate("node => node.matches('.math-error') && node.title")
    assert not error, f"{where}: the formula is a math error: {error}"
    box = formula.bounding_box()
    assert box["width"] > 0 and box["height"] > 0, where
    # KaTeX's struts take their height from the formula's stylesheet: it was linked and loaded.
    strut = formula.locator(".strut").first
    assert strut.evaluate("node => node.getBoundingClientRect().height") > 5, where
    assert "\\frac" not in scope.inner_text() and "$$" not in scope.inner_text(), where


def listed(anonymous, url: str) -> tuple[int, list[str]]:
    response = anonymous.goto(url)
    return response.status, card_titles(anonymous)


def test_a_draft_is_invisible_until_published_then_everywhere_at_once(
    page, new_context, linked_post
):
    make_admin()
    log_in(page)
    page.goto("/admin/notes/post/add/")
    page.locator("#id_title").press_sequentially(TITLE)
    assert page.input_value("#id_slug") == "quadrature-by-hand"
    page.fill("#id_body", BODY)

    # The live preview: heading, typeset formula, highlighted code and the resolved wikilink.
    preview = page.frame_locator(".kb-editor-preview").locator("#preview-body")
    formula_shown(preview, "preview")
    assert preview.locator("h2").inner_text().startswith("The integral of a parabola")
    assert preview.locator("pre span.k", has_text="def").count() == 1
    assert preview.locator("a.wikilink").get_attribute("href") == "/posts/counting-attention/"

    page.locator(".field-tags .select2-search__field").click()
    page.keyboard.type(TAGS.replace(", ", ",") + ",")
    page.click("button[name=_continue]")
    page.wait_for_url(re.compile(r"/admin/notes/post/\d+/change/$"))
    assert "Saved the draft" in page.locator(".messagelist").inner_text()
    post = Post.objects.get(slug="quadrature-by-hand")
    assert post.status == Post.Status.DRAFT
    assert sorted(post.tags.values_list("slug", flat=True)) == sorted(TAG_SLUGS)

    # A visitor, with no session, sees the draft nowhere. These visits also fill any page cache.
    anonymous = new_context("anonymous").new_page()
    urls = ["/", f"/tags/{TAG_SLUGS[0]}/", f"/search/?q={SEARCH_WORD}"]
    for url in urls:
        status, titles = listed(anonymous, url)
        # A tag only a draft carries is not public yet: its page may be a 404.
        assert status == 200 or (status == 404 and "/tags/" in url), (url, status)
        assert TITLE not in titles, url
    assert "No published posts match" in anonymous.locator(".search-results").inner_text()
    assert anonymous.goto(post.get_absolute_url()).status == 404
    anonymous.goto(linked_post.get_absolute_url())
    assert anonymous.locator("section[aria-labelledby=backlinks]").count() == 0

    # The author publishes it from the post list.
    page.goto("/admin/notes/post/")
    page.locator("#result_list a", has_text=TITLE).click()
    page.wait_for_url(re.compile(rf"/admin/notes/post/{post.pk}/change/$"))
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[name=_publish]")
    page.locator(".messagelist a", has_text="see it on the site").wait_for()

    # The same visitor reloads the same pages: the post is on each of them now.
    for url in urls:
        status, titles = listed(anonymous, url)
        assert status == 200, url
        assert TITLE in titles, url
    assert listed(anonymous, "/")[1][0] == TITLE  # the newest post comes first
    assert listed(anonymous, f"/tags/{TAG_SLUGS[1]}/")[1] == [TITLE]

    anonymous.goto(linked_post.get_absolute_url())
    backlinks = anonymous.locator("section[aria-labelledby=backlinks] a")
    assert backlinks.all_inner_texts() == [TITLE]
    backlinks.first.click()
    anonymous.wait_for_url(f"**{post.get_absolute_url()}")
    assert anonymous.locator("h1.post-title").inner_text() == TITLE
    formula_shown(anonymous.locator(".prose"), "published page")
    assert anonymous.locator(".prose pre span.nf", has_text="area").count() == 1
    tags = anonymous.locator(".post-header .tags a").all_inner_texts()
    assert sorted(tags) == ["calculus", "numerical methods"]
    assert page.js_errors == []
