"""Finding and following posts: archive, sitemap, robots, /index.json, /llms.txt, the meta tags
a link preview reads, series, related posts, older/newer, citation and the two themes."""

from __future__ import annotations

import datetime
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.utils import timezone

from notes.models import Post, Series, UpdateNote
from notes.related import related_posts
from notes.sitemaps import SECTION_LIMIT, PostSitemap
from tests.factories import link, make_draft, make_post, make_scheduled, make_tag, make_user

pytestmark = pytest.mark.django_db

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


class PageHead(HTMLParser):
    """The parts of a page a crawler or link preview reads."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, list[str]] = {}
        self.links: list[dict[str, str]] = []
        self.scripts: list[dict[str, str]] = []
        self.json_ld: list[str] = []
        self._in_json_ld = False

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        if tag == "meta" and ("property" in attrs or "name" in attrs):
            key = attrs.get("property") or attrs["name"]
            self.meta.setdefault(key, []).append(attrs.get("content", ""))
        elif tag == "link":
            self.links.append(attrs)
        elif tag == "script":
            self.scripts.append(attrs)
            self._in_json_ld = attrs.get("type") == "application/ld+json"
            if self._in_json_ld:
                self.json_ld.append("")

    def handle_data(self, data):
        if self._in_json_ld:
            self.json_ld[-1] += data

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_json_ld = False


def head_of(response) -> PageHead:
    parser = PageHead()
    parser.feed(response.text)
    return parser


def section(response, marker: str) -> str:
    """The HTML from an attribute (`id="..."` or `class="..."`) to the end of its section or nav."""
    match = re.search(rf"{marker}.*?</(section|nav)>", response.text, re.S)
    assert match, f"no {marker} on the page"
    return match.group(0)


def link_texts(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", t).strip() for t in re.findall(r"<a [^>]*>(.*?)</a>", html)]


def at(year: int, month: int, day: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(year, month, day, 12))


class TestArchive:
    def test_groups_published_posts_by_year_and_month_with_counts(self, client):
        make_post("Spring note", published_at=at(2023, 4, 11))
        make_post("Another April note", published_at=at(2023, 4, 2))
        make_post("Winter note", published_at=at(2023, 1, 24))
        make_post("Last year's note", published_at=at(2022, 12, 30))
        make_draft("Draft note")
        make_scheduled("Future note")

        response = client.get("/archive/")

        assert response.status_code == 200
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text))
        assert "4 posts" in text
        assert "2023 3 posts April 2 posts" in text
        assert "January 1 post" in text and "2022 1 post December 1 post" in text
        order = [text.index(t) for t in ["Spring", "Another April", "Winter", "Last year"]]
        assert order == sorted(order)
        assert "Draft note" not in text and "Future note" not in text

    def test_is_linked_from_every_page(self, client):
        assert 'href="/archive/"' in client.get("/").text

    def test_empty_archive_says_so(self, client):
        assert "Nothing published yet." in client.get("/archive/").text


class TestSitemapAndRobots:
    def test_sitemap_lists_public_pages_with_last_modified_dates(self, client):
        tag, secret = make_tag("optimizers"), make_tag("secret")
        post = make_post("Adam", tags=[tag], published_at=at(2023, 4, 11))
        UpdateNote.objects.create(post=post, date=datetime.date(2024, 1, 24), text="typo")
        series = Series.objects.create(title="Optimizers", slug="optimizers")
        make_post("Part one", series=series, series_order=1)
        draft = make_draft("Hidden", tags=[secret])

        index = client.get("/sitemap.xml")
        sections = [
            s.findtext(f"{SITEMAP}loc")
            for s in ET.fromstring(index.content).findall(f"{SITEMAP}sitemap")
        ]
        urls = {}
        for section in sections:
            response = client.get(urlsplit(section).path)
            assert response.status_code == 200
            urls |= {
                u.findtext(f"{SITEMAP}loc"): u.findtext(f"{SITEMAP}lastmod")
                for u in ET.fromstring(response.content).findall(f"{SITEMAP}url")
            }

        assert index.status_code == 200
        assert sorted(urlsplit(s).path for s in sections) == [
            "/sitemap-pages.xml",
            "/sitemap-posts.xml",
            "/sitemap-series.xml",
            "/sitemap-tags.xml",
        ]
        base = "http://testserver"
        assert urls[base + post.get_absolute_url()].startswith("2024-01-24")
        assert base + tag.get_absolute_url() in urls
        assert base + series.get_absolute_url() in urls
        assert {base + "/", base + "/tags/", base + "/archive/"} <= set(urls)
        assert base + draft.get_absolute_url() not in urls
        assert base + secret.get_absolute_url() not in urls
        for url in urls:
            assert client.get(urlsplit(url).path).status_code == 200

    def test_a_section_once_rendered_is_served_from_the_cache(
        self, client, django_assert_max_num_queries
    ):
        make_post("Cached in the sitemap")
        first = client.get("/sitemap-posts.xml")
        with django_assert_max_num_queries(1):  # the site's state, nothing rendered
            again = client.get("/sitemap-posts.xml")
        assert again.content == first.content and "Cached in the sitemap" not in first.text
        assert "/posts/cached-in-the-sitemap/" in first.text

    def test_a_long_section_is_split_into_pages_of_at_most_the_limit(self, client):
        for i in range(5):
            make_post(f"Post {i}")
        PostSitemap.limit = 2
        try:
            index = client.get("/sitemap.xml").text
            pages = [client.get("/sitemap-posts.xml", {"p": n}) for n in (1, 2, 3, 4)]
        finally:
            PostSitemap.limit = SECTION_LIMIT

        assert "http://testserver/sitemap-posts.xml?p=3" in index
        assert [page.status_code for page in pages] == [200, 200, 200, 404]
        counts = [page.text.count("<url>") for page in pages[:3]]
        assert counts == [2, 2, 1]

    def test_robots_points_at_the_sitemap_and_keeps_crawlers_out_of_admin(self, client):
        response = client.get("/robots.txt")
        assert response["Content-Type"].startswith("text/plain")
        lines = response.text.splitlines()
        assert "Disallow: /admin/" in lines
        assert "Sitemap: http://testserver/sitemap.xml" in lines


class TestMachineReadableIndexes:
    def test_index_json_lists_every_published_post(self, client):
        tag = make_tag("vision")
        newer = make_post("CLIP", summary="Contrastive pairs.", tags=[tag], days_ago=1)
        older = make_post("ViT", days_ago=3)
        make_draft("Draft")
        make_scheduled("Scheduled")

        response = client.get("/index.json")

        assert response["Content-Type"] == "application/json"
        data = response.json()
        assert data["title"] == settings.KB_SITE_TITLE
        assert [p["title"] for p in data["posts"]] == ["CLIP", "ViT"]
        first = data["posts"][0]
        assert first["url"] == "http://testserver" + newer.get_absolute_url()
        assert first["summary"] == "Contrastive pairs."
        assert first["tags"] == ["vision"]
        assert datetime.datetime.fromisoformat(first["date"]) == newer.published_at
        assert datetime.datetime.fromisoformat(data["posts"][1]["date"]) == older.published_at

    def test_llms_txt_is_a_plain_list_of_posts_with_summaries(self, client):
        post = make_post(
            "Chinchilla [notes]", summary="Tokens and parameters should grow together."
        )
        make_draft("Draft")

        response = client.get("/llms.txt")

        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert response.text.startswith(f"# {settings.KB_SITE_TITLE}\n")
        url = "http://testserver" + post.get_absolute_url()
        expected = rf"- [Chinchilla \[notes\]]({url}): Tokens and parameters should grow together."
        assert expected in response.text.splitlines()
        assert "Draft" not in response.text

    @pytest.mark.parametrize("path", ["/index.json", "/llms.txt"])
    def test_cached_copy_follows_publishing_and_unpublishing(
        self, client, django_assert_max_num_queries, path
    ):
        from notes import services

        first = make_post("First")
        assert "First" in client.get(path).text
        with django_assert_max_num_queries(1):  # the cached copy: only the site-state check
            assert "First" in client.get(path).text

        draft = make_draft("Second")
        assert "Second" not in client.get(path).text
        services.publish([draft])
        assert "Second" in client.get(path).text
        services.unpublish([first])
        assert "First" not in client.get(path).text


class TestPostMeta:
    def test_link_previews_and_search_engines_get_title_summary_and_dates(self, client):
        tag = make_tag("diffusion")
        post = make_post(
            "Denoising diffusion",
            summary="Learning to reverse a noising process.",
            tags=[tag],
            published_at=at(2023, 4, 11),
        )
        UpdateNote.objects.create(post=post, date=datetime.date(2024, 2, 1), text="new section")

        response = client.get(post.get_absolute_url())
        head = head_of(response)

        url = "http://testserver" + post.get_absolute_url()
        assert "<title>Denoising diffusion · " in response.text
        assert head.meta["description"] == ["Learning to reverse a noising process."]
        assert {"rel": "canonical", "href": url} in head.links
        assert head.meta["og:title"] == ["Denoising diffusion"]
        assert head.meta["og:url"] == [url]
        assert head.meta["og:type"] == ["article"]
        assert head.meta["twitter:card"] == ["summary"]
        assert head.meta["article:tag"] == ["diffusion"]
        [data] = [json.loads(block) for block in head.json_ld]
        assert data["@type"] == "BlogPosting"
        assert data["headline"] == "Denoising diffusion"
        assert data["author"]["name"] == "Grace Hopper"
        assert datetime.datetime.fromisoformat(data["datePublished"]) == post.published_at
        assert data["dateModified"].startswith("2024-02-01")

    def test_a_title_cannot_break_out_of_the_json_ld(self, client):
        title = "</script><script>alert(1)</script> & more"
        post = make_post(title)

        response = client.get(post.get_absolute_url())

        assert "<script>alert(1)" not in response.text
        [block] = head_of(response).json_ld
        assert json.loads(block)["headline"] == title

    def test_staff_preview_of_a_draft_is_not_indexed(self, staff_client):
        post = make_draft("Unfinished")
        head = head_of(staff_client.get(post.get_absolute_url()))
        assert head.meta["robots"] == ["noindex"]


class TestSeriesNavigation:
    @pytest.fixture
    def series(self):
        series = Series.objects.create(title="Learning with little data", slug="little-data")
        parts = [
            make_post(f"Part {n} post", series=series, series_order=n, days_ago=10 - n)
            for n in (1, 2, 4)
        ]
        make_draft("Unwritten part", series=series, series_order=3)
        return series, parts

    def test_middle_part_shows_its_place_the_list_and_both_neighbours(self, client, series):
        series_obj, (_, two, _) = series

        nav = section(client.get(two.get_absolute_url()), 'id="series-nav-title"')

        # One line: the place, the series, previous and next; the parts behind a disclosure.
        assert "Part 2 of 3 · " in nav
        assert f'href="{series_obj.get_absolute_url()}"' in nav
        assert link_texts(nav) == [
            "Learning with little data",
            "← Previous",
            "Next →",
            "Part 1 post",
            "Part 4 post",
        ]
        assert 'title="Part 1: Part 1 post"' in nav and 'title="Part 3: Part 4 post"' in nav
        assert '<details class="series-all"><summary>All 3 parts</summary>' in nav
        assert '<span aria-current="page">Part 2 post</span>' in nav
        assert "Unwritten part" not in nav

    def test_first_part_has_no_previous(self, client, series):
        _, (one, _, _) = series
        nav = section(client.get(one.get_absolute_url()), 'id="series-nav-title"')
        assert "Part 1 of 3" in nav and 'rel="prev"' not in nav and 'rel="next"' in nav

    def test_post_outside_a_series_shows_none(self, client):
        post = make_post("Standalone")
        assert "series-nav" not in client.get(post.get_absolute_url()).text


class TestRelatedAndNeighbours:
    def test_related_posts_rank_links_and_shared_tags_and_skip_drafts(self, client):
        a, b, c = make_tag("a"), make_tag("b"), make_tag("c")
        post = make_post("Subject", tags=[a, b, c])
        make_post("Three shared tags", tags=[a, b, c], days_ago=9)
        linked_to = make_post("Linked from subject", days_ago=8)
        linked_back = make_post("Links to subject", tags=[a, b], days_ago=7)
        make_post("One shared tag", tags=[c], days_ago=6)
        make_post("Unrelated", days_ago=5)
        make_draft("Draft sharing everything", tags=[a, b, c])
        make_scheduled("Scheduled sharing everything", tags=[a, b, c])
        for i in range(3):
            make_post(f"Also one tag {i}", tags=[b], days_ago=20 + i)
        link(post, linked_to)
        link(linked_back, post)

        # A shared tag scores 1 and a link in either direction 2; ties go to the newer post.
        assert [p.title for p in related_posts(post)] == [
            "Links to subject",
            "Three shared tags",
            "Linked from subject",
            "One shared tag",
            "Also one tag 0",
        ]
        # On the page, posts already listed above it ("see also", "linked from", older and
        # newer) give way to the next in rank.
        page = client.get(post.get_absolute_url())
        related = link_texts(section(page, 'id="related-title"'))
        foot = re.search(r'class="post-links".*?</footer>', page.text, re.S).group(0)
        elsewhere = link_texts(foot)
        if 'class="post-nav"' in page.text:
            elsewhere += [
                t.split(" ", 2)[-1] for t in link_texts(section(page, 'class="post-nav"'))
            ]
        assert "Links to subject" in elsewhere and "Linked from subject" in elsewhere
        assert len(related) >= 3 and not set(related) & set(elsewhere)
        ranked = [p.title for p in related_posts(post, limit=20)]
        assert related == [title for title in ranked if title not in elsewhere][:5]

    def test_post_with_nothing_in_common_has_no_related_section(self, client):
        post = make_post("Alone", tags=[make_tag("lonely")])
        make_post("Other")
        assert 'id="related-title"' not in client.get(post.get_absolute_url()).text

    def test_older_and_newer_skip_drafts_and_scheduled_posts(self, client):
        older = make_post("Older one", days_ago=10)
        make_draft("Draft between", published_at=timezone.now() - datetime.timedelta(days=7))
        post = make_post("Middle", days_ago=5)
        newer = make_post("Newer one", days_ago=1)
        make_scheduled("Future")

        nav = section(client.get(post.get_absolute_url()), 'class="post-nav"')
        assert link_texts(nav) == ["← Older Older one", "Newer → Newer one"]

        newest_nav = section(client.get(newer.get_absolute_url()), 'class="post-nav"')
        assert link_texts(newest_nav) == ["← Older Middle"]
        assert "Newer →" not in client.get(older.get_absolute_url()).text.split("post-nav")[0]

    def test_a_draft_previewed_by_staff_shows_where_it_would_stand(self, staff_client):
        make_post("Before the draft", days_ago=3)
        draft = make_draft("Work in progress", published_at=timezone.now() - datetime.timedelta(2))
        make_post("After the draft", days_ago=1)
        nav = section(staff_client.get(draft.get_absolute_url()), 'class="post-nav"')
        assert link_texts(nav) == ["← Older Before the draft", "Newer → After the draft"]

    def test_a_scheduled_post_joins_the_chain_and_related_posts_when_it_comes_out(
        self, client, clock
    ):
        tag = make_tag("results")
        thursday = make_post("Thursday notes", tags=[tag], published_at=clock.now())
        make_post("Friday results", tags=[tag], published_at=clock.now() + datetime.timedelta(1))
        page = client.get(thursday.get_absolute_url())
        assert "Friday results" not in page.text

        clock.go(days=1, minutes=1)  # no save: its time has come

        page = client.get(thursday.get_absolute_url())
        assert link_texts(section(page, 'class="post-nav"'))[-1] == "Newer → Friday results"

    def test_posts_published_at_the_same_moment_still_chain(self, client):
        moment = timezone.now() - datetime.timedelta(days=1)
        first = make_post("Same time A", published_at=moment)
        second = make_post("Same time B", published_at=moment)
        assert "Same time A" in section(client.get(second.get_absolute_url()), 'class="post-nav"')
        assert "Same time B" in section(client.get(first.get_absolute_url()), 'class="post-nav"')


class TestCitation:
    def test_cite_as_line_and_bibtex_block(self, client):
        author = make_user("weng", first_name="Lilian", last_name="Weng")
        post = make_post(
            "The 50% solution: {braces} & co", author=author, published_at=at(2023, 6, 23)
        )

        citation = section(client.get(post.get_absolute_url()), 'id="cite-title"')

        url = "http://testserver" + post.get_absolute_url()
        cite_as = re.search(r'<p class="cite-as">(.*?)</p>', citation).group(1)
        assert cite_as == (
            f"Weng, Lilian. (Jun 2023). The 50% solution: {{braces}} &amp; co. "
            f"{settings.KB_SITE_TITLE}. {url} (accessed {timezone.localdate():%Y-%m-%d})"
        )
        bibtex = re.search(r"<code>(.*?)</code>", citation, re.S).group(1)
        assert bibtex.startswith("@misc{weng2023solution,\n")
        assert r"title        = {The 50\% solution: \{braces\} \&amp; co}," in bibtex
        assert "author       = {Weng, Lilian}," in bibtex
        assert "year         = {2023}," in bibtex and "month        = jun," in bibtex
        assert f"url          = {{{url}}}," in bibtex
        assert f"urldate      = {{{timezone.localdate():%Y-%m-%d}}}" in bibtex
        assert '<pre class="highlight bibtex"' in citation  # picked up by the copy button

    def test_author_without_full_name_is_cited_by_username(self, client):
        post = make_post("Notes", author=make_user("anonymouse"), published_at=at(2021, 1, 5))
        citation = section(client.get(post.get_absolute_url()), 'id="cite-title"')
        assert "anonymouse. (Jan 2021). Notes." in citation
        assert "@misc{anonymouse2021notes," in citation

    def test_draft_preview_has_no_citation(self, staff_client):
        post = make_draft("Not citable yet")
        assert 'id="cite-title"' not in staff_client.get(post.get_absolute_url()).text


class TestThemesAndAssets:
    def test_pages_load_the_theme_before_paint_and_run_no_inline_script(self, client):
        response = client.get("/")
        head = response.text.split("</head>")[0]
        assert head.index("js/theme-init.js") < head.index("css/site.css")
        # Every executable script is a file, so a strict script-src 'self' policy can apply.
        for script in head_of(response).scripts:
            assert script.get("src") or script.get("type") == "application/ld+json"
        assert '<button class="theme-toggle icon-button"' in response.text
        assert 'rel="icon" href="/static/favicon.svg"' in response.text

    def test_every_asset_a_post_page_names_exists_locally(self, client):
        post = make_post("Assets", body="Code:\n\n```python\nx = 1\n```\n\n$$x^2$$")
        text = client.get(post.get_absolute_url()).text
        names = set(re.findall(r'(?:href|src)="/static/([^"]+)"', text))
        assert {"js/theme-init.js", "js/theme.js", "css/print.css", "favicon.svg"} <= names
        # No CDN: every script, stylesheet and icon comes from this site's static files, or
        # (the layout of the post's formulas) from its own /math/ stylesheets.
        assets = re.findall(
            r'<script src="([^"]+)"|<link rel="(?:stylesheet|icon)" href="([^"]+)"', text
        )
        assert assets and all(
            (src or href).startswith(("/static/", "/math/")) for src, href in assets
        )
        for name in names:
            assert finders.find(name), f"/static/{name} is missing"

    def test_the_text_font_is_self_hosted_licensed_and_preloaded(self, client):
        text = client.get("/").text
        preloads = re.findall(r'<link rel="preload" href="/static/([^"]+)" as="font"', text)
        css = (Path(settings.BASE_DIR) / "static/css/site.css").read_text()

        assert preloads == [
            "fonts/charis-sil-latin-400-normal.woff2",
            "fonts/charis-sil-latin-700-normal.woff2",
        ]
        assert text.index('rel="preload"') < text.index("css/site.css")
        for name in preloads:
            assert finders.find(name) and f'url("../{name}")' in css
        assert "Open Font License" in Path(finders.find("fonts/LICENSE-charis-sil.txt")).read_text()
        assert '--serif: "Charis SIL",' in css

    @pytest.mark.parametrize("theme", ["light", "dark"])
    def test_text_colours_meet_wcag_aa_in_both_themes(self, theme):
        css = (Path(settings.BASE_DIR) / "static/css/site.css").read_text()
        selector = ":root {" if theme == "light" else 'html[data-theme="dark"] {'
        block = css.split(selector, 1)[1].split("}", 1)[0]
        colours = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", block))
        pairs = [
            ("fg", "bg"),
            ("muted", "bg"),
            ("accent", "bg"),
            ("accent-visited", "bg"),
            ("broken", "bg"),
            ("muted", "code-bg"),
            ("fg", "code-bg"),
            ("accent", "code-bg"),
            ("banner-fg", "banner-bg"),
        ]
        for text, background in pairs:
            ratio = contrast(colours[text], colours[background])
            assert ratio >= 4.5, f"{theme}: --{text} on --{background} is {ratio:.2f}:1"

    def test_system_dark_preference_uses_the_same_palette_as_the_toggle(self):
        css = (Path(settings.BASE_DIR) / "static/css/site.css").read_text()
        toggle = css.split('html[data-theme="dark"] {', 1)[1].split("}", 1)[0]
        system = css.split('html:not([data-theme="light"]) {', 1)[1].split("}", 1)[0]
        assert toggle.split() == system.split()


def contrast(first: str, second: str) -> float:
    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted([luminance(first), luminance(second)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.usefixtures("no_page_cache")
def test_discovery_pages_cost_the_same_queries_however_many_posts(
    client, django_assert_max_num_queries, rows
):
    tags = [make_tag() for _ in range(3)]
    series = Series.objects.create(title="Series", slug="series")
    for i in range(rows):
        post = make_post(tags=tags, days_ago=i * 40, series=series, series_order=i + 1)
        UpdateNote.objects.create(post=post, date=datetime.date.today(), text="note")
    with django_assert_max_num_queries(2):  # the site settings, then every post
        assert client.get("/archive/").status_code == 200
    # The index: the site settings, a count for each section and the posts' newest dates; a
    # section: a count for its paginator, then the rows.
    with django_assert_max_num_queries(6):
        assert client.get("/sitemap.xml").status_code == 200
    with django_assert_max_num_queries(4):
        assert client.get("/sitemap-posts.xml").status_code == 200
    for path in ["/index.json", "/llms.txt"]:
        with django_assert_max_num_queries(5):
            assert client.get(path).status_code == 200


@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.usefixtures("no_page_cache")
def test_post_in_a_series_costs_the_same_queries_however_many_posts(
    client, django_assert_max_num_queries, rows
):
    tags = [make_tag() for _ in range(3)]
    series = Series.objects.create(title="Long series", slug="long")
    for i in range(rows):
        make_post(tags=tags, series=series, series_order=i + 1, days_ago=i)
    post = Post.objects.published().get(series_order=2)
    for other in Post.objects.exclude(pk=post.pk)[:rows]:
        link(other, post)
    # The post, its tags and update notes, its links both ways, the site's state and settings,
    # the series' parts; and, as the first page since the posts were written, when the next
    # scheduled post is due (two) and the worker's catalogue (four), which answers the rest.
    with django_assert_max_num_queries(13):
        assert client.get(post.get_absolute_url()).status_code == 200
