"""A reader on a long post (formulas, code, contents, backlinks), following a tag through its
pages, and the other public pages at phone width."""

import re

import pytest
from playwright.sync_api import expect

from notes.models import Link, Post
from tests.e2e.helpers import card_titles, horizontal_overflow
from tests.factories import make_post, make_tag

pytestmark = pytest.mark.django_db(transaction=True)


def test_formulas_are_typeset_and_no_raw_tex_shows(page, long_post):
    page.goto(long_post.get_absolute_url())
    formulas = page.locator(".prose .math-display .katex-html")
    assert formulas.count() >= 2
    for index in range(formulas.count()):
        box = formulas.nth(index).bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0, index
    inline = page.locator(".prose .math-inline .katex-html").first.bounding_box()
    assert inline["width"] > 0 and inline["height"] > 0
    text = page.locator("article.post").inner_text()
    for raw in ("$$", "\\frac", "\\[", "\\begin", "\\mathbb"):
        assert raw not in text, raw
    assert page.locator(".math-error").count() == 0
    assert page.js_errors == []


def test_code_is_highlighted_in_colour(page, long_post):
    page.goto(long_post.get_absolute_url())
    block = page.locator(".prose pre.highlight", has=page.locator("span.nf")).first
    assert block.get_attribute("data-lang") == "python"
    assert block.locator("span[class]").count() > 10
    keyword = block.locator("span.k").first
    assert keyword.inner_text() == "def"
    # The token classes are styled: a keyword is not the colour of the plain code around it.
    plain = block.evaluate("pre => getComputedStyle(pre.querySelector('code')).color")
    assert keyword.evaluate("span => getComputedStyle(span).color") != plain


def test_table_of_contents_links_scroll_to_their_headings(page, long_post):
    page.goto(long_post.get_absolute_url())
    # The contents beside the text (the page is 1200 px wide).
    links = page.locator("nav.post-toc-side a")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert len(hrefs) >= 5
    for href in hrefs:
        assert re.fullmatch(r"#h-[a-z0-9-]+", href), href
        heading = page.locator(f".prose :is(h2, h3, h4)[id='{href[1:]}']")
        assert heading.count() == 1, href
        assert heading.inner_text().startswith(links.nth(hrefs.index(href)).inner_text())

    # The last section is far below the fold until its entry is clicked.
    target = hrefs[-1]
    heading = page.locator(f"[id='{target[1:]}']")
    expect(heading).not_to_be_in_viewport()
    links.last.click()
    page.wait_for_url(f"**{long_post.get_absolute_url()}{target}")
    assert page.evaluate("location.hash") == target
    expect(heading).to_be_in_viewport()
    assert page.evaluate("window.scrollY") > 500

    # A nested entry works the same way.
    nested = page.locator("nav.post-toc-side ul ul a").first
    nested_target = nested.get_attribute("href")
    nested.click()
    assert page.evaluate("location.hash") == nested_target
    expect(page.locator(f"[id='{nested_target[1:]}']")).to_be_in_viewport()


def test_backlinks_list_the_posts_that_link_here(page, long_post):
    sources = [
        link.source
        for link in Link.objects.filter(
            target=long_post, source__in=Post.objects.published()
        ).select_related("source")
    ]
    assert len(sources) >= 2
    page.goto(long_post.get_absolute_url())
    backlinks = page.locator("section[aria-labelledby=backlinks]")
    assert backlinks.locator("h2").text_content() == "Linked from"
    shown = backlinks.locator("li > a")
    # A post it also links to is listed once, under "See also".
    see_also = set(page.locator("section[aria-labelledby=see-also] li > a").all_inner_texts())
    expected = [s.title for s in sources if s.title not in see_also]
    assert expected and sorted(shown.all_inner_texts()) == sorted(expected)
    sources = [s for s in sources if s.title not in see_also]

    source = sources[0]
    shown.filter(has_text=source.title).click()
    page.wait_for_url(f"**{source.get_absolute_url()}")
    assert page.locator("h1.post-title").inner_text() == source.title
    # …which links to the page the reader came from, in its text or under "See also".
    back = page.locator(f":is(.prose, .post-links) a[href='{long_post.get_absolute_url()}']")
    assert back.count() >= 1


def test_backlinks_of_posts_made_in_the_test(page):
    target = make_post("Where things point", days_ago=2)
    source = make_post("Pointing at it", body="See [[Where things point]].", days_ago=1)
    make_post("Unrelated", days_ago=1)
    page.goto(target.get_absolute_url())
    assert page.locator("section[aria-labelledby=backlinks] li a").all_inner_texts() == [
        source.title
    ]
    page.goto(source.get_absolute_url())
    assert page.locator("section[aria-labelledby=backlinks]").count() == 0
    assert page.locator(".prose a.wikilink").get_attribute("href") == target.get_absolute_url()


def test_a_tag_leads_from_a_post_to_its_second_page(page):
    tag = make_tag("long threads")
    other = make_tag("elsewhere")
    # Twelve posts, the newest first: a tag page shows ten, the second page the two oldest.
    posts = [
        make_post(f"Thread part {n:02d}", days_ago=n, tags=[tag] if n != 5 else [tag, other])
        for n in range(1, 13)
    ]
    make_post("Not in the thread", days_ago=0.5, tags=[other])
    newest, oldest_two = posts[0], [p.title for p in posts[10:]]

    page.goto(newest.get_absolute_url())
    page.locator(".post-header .tags a", has_text="long threads").click()
    page.wait_for_url(f"**{tag.get_absolute_url()}")
    assert page.locator("h1").inner_text() == "long threads"
    assert card_titles(page) == [p.title for p in posts[:10]]
    pagination = page.locator("nav.pagination")
    assert pagination.locator("[aria-current=page]").inner_text() == "1"

    pagination.locator("a[rel=next]").click()
    page.wait_for_url(re.compile(r"\?page=2$"))
    assert card_titles(page) == oldest_two
    assert pagination.locator("[aria-current=page]").inner_text() == "2"
    assert pagination.locator("a[rel=next]").count() == 0

    # Back by page number, to where the reader started.
    pagination.locator("a", has_text=re.compile(r"^1$")).click()
    page.wait_for_url(re.compile(r"\?page=1$"))
    assert card_titles(page)[0] == newest.title
    assert page.js_errors == []


@pytest.mark.parametrize(
    "url",
    ["/tags/", "/tags/transformers/", "/search/?q=attention", "/archive/", "/posts/clip/"],
)
def test_other_public_pages_fit_a_phone(mobile_page, demo, url):
    # The listing and the long post have their own tests (test_browser, test_reading_experience).
    assert mobile_page.goto(url).status == 200
    assert horizontal_overflow(mobile_page) <= 0
