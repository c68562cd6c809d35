"""Citing papers: [@key] citations in a post, its References list, the bibliography's pages,
and a post that others can cite (Highwire tags, BibTeX, CSL-JSON, RIS)."""

from __future__ import annotations

import datetime
import json
import re
from html import unescape
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from notes import services
from notes.bibliography.importing import import_bibtex_file
from notes.bibliography.parsing import parse_bibtex
from notes.models import Post, Reference
from tests.factories import make_draft, make_post, make_user
from tests.test_bibliography import MESSY

pytestmark = pytest.mark.django_db


@pytest.fixture
def bibliography():
    import_bibtex_file(MESSY)


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", "", html)).split())


class Citations(HTMLParser):
    """The text of each <span class="cite"> (which holds spans of its own), in order."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.depth = 0

    def handle_starttag(self, tag, attrs):
        if tag == "span" and self.depth:
            self.depth += 1
        elif tag == "span" and ("class", "cite") in attrs:
            self.depth = 1
            self.found.append("")

    def handle_endtag(self, tag):
        if tag == "span" and self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.found[-1] += data


def citations_in(html: str) -> list[str]:
    """What a reader sees for each citation, in order."""
    parser = Citations()
    parser.feed(html)
    return [" ".join(text.split()) for text in parser.found]


def references_section(html: str) -> list[str]:
    match = re.search(r'<section class="references".*?</section>', html, re.S)
    assert match, "no References section"
    return [text_of(li) for li in re.findall(r"<li [^>]*>(.*?)</li>", match.group(0), re.S)]


EVERY_FORM = """As @vaswani2017 shows, attention suffices [@vaswani2017].

Diffusion [@ho2020; @song2021] works; see the bound [@vaswani2017, p. 5], the samplers
[see @ho2020], and the same year again [-@ho2020]. @vaswani2017 [pp. 3-4] says more.
"""


class TestCitationsInAPost:
    def test_every_citation_form_renders_author_year(self, bibliography):
        post = make_post("Reading notes", body=EVERY_FORM)

        assert citations_in(post.body_html) == [
            "Vaswani et al. (2017)",
            "(Vaswani et al., 2017)",
            "(Ho et al., 2020; Song et al., 2021)",
            "(Vaswani et al., 2017, p. 5)",
            "(see Ho et al., 2020)",
            "(2020)",
            "Vaswani et al. (2017, pp. 3-4)",
        ]
        assert "As Vaswani et al. (2017) shows, attention" in text_of(post.body_html)

    def test_each_citation_links_to_its_entry_and_shows_it_on_hover(self, bibliography):
        post = make_post("Reading notes", body="Diffusion [@ho2020].")
        link = re.search(r'<a class="cite-ref" href="([^"]+)" title="([^"]+)">', post.body_html)
        assert link.group(1) == "#ref-ho2020"
        assert unescape(link.group(2)) == (
            "Ho, J., Jain, A., & Abbeel, P. (2020). Denoising Diffusion Probabilistic Models. "
            "Advances in Neural Information Processing Systems 33. "
            "https://doi.org/10.48550/arXiv.2006.11239"
        )
        assert '<li id="ref-ho2020">' in post.body_html

    def test_the_references_section_lists_every_cited_work_once_sorted_apa_style(
        self, bibliography
    ):
        post = make_post("Reading notes", body=EVERY_FORM + "\nAnd [@goedel1931] and [@knuth1984].")

        assert references_section(post.body_html) == [
            "Gödel, K. (1931). Über formal unentscheidbare Sätze der Principia Mathematica und "
            "verwandter Systeme I. Monatshefte für Mathematik und Physik, 38(1), 173–198. "  # noqa: RUF001 (an en dash, as BibTeX's --)
            "https://doi.org/10.1007/BF01700692",
            "Ho, J., Jain, A., & Abbeel, P. (2020). Denoising Diffusion Probabilistic Models. "
            "Advances in Neural Information Processing Systems 33. "
            "https://doi.org/10.48550/arXiv.2006.11239",
            "Knuth, D. E. (1984). The TeXbook. Addison-Wesley.",
            "Song, Y., Sohl-Dickstein, J., Kingma, D. P., Kumar, A., Ermon, S., & Poole, B. "
            "(2021). Score-Based Generative Modeling through Stochastic Differential Equations. "
            "International Conference on Learning Representations. "
            "https://arxiv.org/abs/2011.13456",
            "Vaswani, A., Shazeer, N., Parmar, N., Uszkoreit, J., Jones, L., Gomez, A. N., "
            "Kaiser, Ł., & Polosukhin, I. (2017). Attention Is All You Need. Advances in Neural "
            "Information Processing Systems, 30, 5998–6008. https://arxiv.org/abs/1706.03762",  # noqa: RUF001 (an en dash, as BibTeX's --)
        ]
        section = re.search(r'<section class="references".*?</section>', post.body_html, re.S)
        assert '<h2 id="ref-list">References</h2>' in section.group(0)
        assert "<em>The TeXbook</em>" in section.group(0)
        assert '<a href="https://doi.org/10.1007/BF01700692"' in section.group(0)
        page = make_client_get(post)
        assert page.index('<div class="prose">') < page.index("ref-list") < page.index("cite-title")

    def test_two_authors_and_others_in_the_text(self, bibliography):
        post = make_post("Notes", body="[@loshchilov2019] and @loshchilov2019 and [@brown2020].")
        assert citations_in(post.body_html) == [
            "(Loshchilov & Hutter, 2019)",
            "Loshchilov and Hutter (2019)",
            "(Brown et al., 2020)",
        ]
        assert "Brown, T. B., Mann, B., Ryder, N., et al. (2020)." in text_of(post.body_html)

    def test_an_unknown_key_stays_visible_is_listed_and_is_mended_by_an_import(self, staff_client):
        post = make_post("Notes", body="Known soon [@ho2020], never [@nobody1999].")

        assert citations_in(post.body_html) == ["(ho2020?)", "(nobody1999?)"]
        assert 'class="cite-unknown" title="No reference with the key “nobody1999”"' in (
            post.body_html
        )
        assert post.unknown_citation_list == ["ho2020", "nobody1999"]
        assert 'class="references"' not in post.body_html
        change = staff_client.get(reverse("admin:notes_post_change", args=[post.pk]))
        assert "<code>[@ho2020]</code>, <code>[@nobody1999]</code>" in change.text
        make_post("Fine", body="No citations.")
        listed = staff_client.get(
            reverse("admin:notes_post_changelist"), {"wikilinks": "unknown-citations"}
        )
        assert "Notes" in listed.text and ">Fine<" not in listed.text

        import_bibtex_file(MESSY)

        post.refresh_from_db()
        assert citations_in(post.body_html) == ["(Ho et al., 2020)", "(nobody1999?)"]
        assert post.unknown_citation_list == ["nobody1999"]
        assert list(post.cited_references.values_list("key", flat=True)) == ["ho2020"]

    def test_the_preview_renders_citations_and_reports_unknown_keys(
        self, staff_client, bibliography
    ):
        response = staff_client.post(
            "/admin/markdownx/markdownify/", {"content": "[@ho2020] and [@missing]"}
        )
        assert "No reference with the key “missing”" in response.text
        assert "Ho et al., 2020" in text_of(response.text)

    @pytest.mark.parametrize(
        "body",
        [
            "Write `[@ho2020]` and `@ho2020` in code.",
            "```\n[@ho2020] @ho2020\n```",
            "    [@ho2020] indented code",
            "Math $a[@ho2020]b$ and $$x @ho2020$$ stay TeX.",
            "Mail me@ho2020.org or ho@ho2020.",
            "See <https://medium.com/@ho2020> and https://medium.com/@ho2020 too.",
            "A [@ho2020](https://example.org/@ho2020) link is a link.",
            "An [email me@example.org] bracket.",
        ],
        ids=["code span", "fence", "indented", "math", "e-mail", "urls", "link", "bracket"],
    )
    def test_code_math_urls_and_addresses_are_not_citations(self, bibliography, body):
        post = make_post("Notes", body=body)
        assert 'class="cite' not in post.body_html
        assert "References" not in post.body_html
        assert post.unknown_citations == ""
        assert not post.cited_references.exists()

    def test_changing_a_reference_rerenders_the_posts_citing_it(self, bibliography):
        post = make_post("Notes", body="[@song2021]")
        song = Reference.objects.get(key="song2021")
        song.year = 2020
        services.save_reference(song)
        post.refresh_from_db()
        assert citations_in(post.body_html) == ["(Song et al., 2020)"]

        services.delete_reference(song)
        post.refresh_from_db()
        assert citations_in(post.body_html) == ["(song2021?)"]


def make_client_get(post: Post) -> str:
    from django.test import Client

    return Client().get(post.get_absolute_url()).text


class TestTheBibliographyOnTheSite:
    def test_references_lists_what_published_posts_cite_with_counts(self, client, bibliography):
        make_post("One", body="[@ho2020] [@vaswani2017]")
        make_post("Two", body="[@ho2020]")
        make_draft("Draft", body="[@knuth1984] [@ho2020]")

        page = client.get(reverse("notes:reference-list"))

        assert page.status_code == 200
        rows = re.findall(
            r'<li><a href="([^"]+)">(.*?)</a>.*?<span class="count"[^>]*>(\d+)<', page.text
        )
        assert rows == [
            ("/references/ho2020/", "Ho et al., 2020", "2"),
            ("/references/vaswani2017/", "Vaswani et al., 2017", "1"),
        ]
        assert "Knuth" not in page.text  # only a draft cites it
        assert "2 works cited" in page.text

    def test_sorting_and_searching_by_title_or_author(self, client, bibliography):
        make_post("One", body="[@ho2020] [@vaswani2017] [@goedel1931]")

        def keys(**params):
            page = client.get(reverse("notes:reference-list"), params)
            return re.findall(r'<li><a href="/references/([^/]+)/">', page.text)

        assert keys() == ["goedel1931", "ho2020", "vaswani2017"]
        assert keys(sort="year") == ["ho2020", "vaswani2017", "goedel1931"]
        assert keys(sort="title") == ["vaswani2017", "ho2020", "goedel1931"]
        assert keys(q="abbeel") == ["ho2020"]
        assert keys(q="attention") == ["vaswani2017"]
        assert keys(q="Gödel") == ["goedel1931"]
        assert keys(q="nothing-like-this") == []
        assert keys(sort="bogus") == ["goedel1931", "ho2020", "vaswani2017"]
        assert client.get(reverse("notes:reference-list"), {"q": "a\x00"}).status_code == 400

    def test_a_reference_page_shows_the_citation_bibtex_links_and_citing_posts(
        self, client, bibliography
    ):
        ho = Reference.objects.get(key="ho2020")
        make_post("Citing it", body="[@ho2020]")
        make_post("My DDPM notes", body="A summary.", reference=ho)
        make_draft("Draft citing it", body="[@ho2020]")

        page = client.get(ho.get_absolute_url())

        assert page.status_code == 200
        text = text_of(page.text)
        assert "Ho, J., Jain, A., & Abbeel, P. (2020). Denoising Diffusion" in text
        assert 'href="https://doi.org/10.48550/arXiv.2006.11239"' in page.text
        assert 'href="https://arxiv.org/abs/2006.11239"' in page.text
        notes = re.search(r'id="my-notes".*?</section>', page.text, re.S).group(0)
        assert "My DDPM notes" in notes
        cited_by = re.search(r'id="cited-by".*?</section>', page.text, re.S).group(0)
        assert "Citing it" in cited_by and "Draft citing it" not in page.text
        bibtex = unescape(re.search(r"<code>(.*?)</code>", page.text, re.S).group(1))
        assert parse_bibtex(bibtex).entries[0].fields["title"] == ho.title
        download = client.get(reverse("notes:reference-bib", args=["ho2020"]))
        assert parse_bibtex(download.content.decode()).entries[0].key == "ho2020"

    def test_a_reference_only_drafts_cite_is_not_public(self, client, bibliography):
        make_draft("Draft", body="[@knuth1984]")
        assert client.get("/references/knuth1984/").status_code == 404
        assert client.get("/references/knuth1984.bib").status_code == 404
        assert client.get("/references/no-such-key/").status_code == 404
        whole = client.get(reverse("notes:references-bib")).content.decode()
        assert whole == ""

    def test_a_summary_post_shows_its_paper(self, client, bibliography):
        post = make_post("DDPM notes", reference=Reference.objects.get(key="ho2020"))
        header = re.search(
            r'<p class="source summary-of">(.*?)</p>',
            client.get(post.get_absolute_url()).text,
            re.S,
        )
        assert text_of(header.group(1)).startswith("A summary of Ho, J., Jain, A., & Abbeel, P.")
        assert 'href="/references/ho2020/"' in header.group(1)

    @pytest.mark.parametrize("rows", [3, 30])
    @pytest.mark.usefixtures("no_page_cache")
    def test_query_counts_stay_flat(self, client, django_assert_max_num_queries, rows):
        references = [
            Reference.objects.create(
                key=f"k{i}", title=f"Work {i}", authors=[{"family": f"A{i}", "given": "B"}]
            )
            for i in range(rows)
        ]
        body = " ".join(f"[@k{i}]" for i in range(rows))
        for n in range(rows):
            make_post(f"Post {n}", body=body)
        with django_assert_max_num_queries(4):
            assert client.get(reverse("notes:reference-list")).status_code == 200
        with django_assert_max_num_queries(6):
            assert client.get(references[1].get_absolute_url()).status_code == 200


class HighwireTags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "meta" and attributes.get("name", "").startswith("citation_"):
            self.tags.append((attributes["name"], attributes["content"]))


def published_post():
    author = make_user("weng", first_name="Lilian", last_name="Weng")
    when = timezone.make_aware(datetime.datetime(2023, 6, 23, 12))
    return make_post(
        "Diffusion models explained", author=author, published_at=when, summary="A tour."
    )


class TestPostsOthersCanCite:
    def test_every_published_post_carries_highwire_tags(self, client, settings):
        post = published_post()
        parser = HighwireTags()
        parser.feed(client.get(post.get_absolute_url()).text)
        url = "http://testserver" + post.get_absolute_url()
        assert parser.tags == [
            ("citation_title", "Diffusion models explained"),
            ("citation_author", "Weng, Lilian"),
            ("citation_publication_date", "2023/06/23"),
            ("citation_online_date", "2023/06/23"),
            ("citation_journal_title", settings.KB_SITE_TITLE),
            ("citation_publisher", settings.KB_SITE_TITLE),
            ("citation_fulltext_html_url", url),
            ("citation_abstract_html_url", url),
        ]

    def test_a_draft_preview_has_no_highwire_tags_and_no_downloads(self, staff_client):
        draft = make_draft("Unfinished")
        parser = HighwireTags()
        parser.feed(staff_client.get(draft.get_absolute_url()).text)
        assert parser.tags == []
        for name in ("notes:post-bibtex", "notes:post-csl-json", "notes:post-ris"):
            assert staff_client.get(reverse(name, args=[draft.slug])).status_code == 404

    def test_bibtex_csl_json_and_ris_downloads_parse_back(self, client, settings):
        post = published_post()
        url = "http://testserver" + post.get_absolute_url()
        today = timezone.localdate()
        page = client.get(post.get_absolute_url()).text
        assert f'href="{reverse("notes:post-ris", args=[post.slug])}"' in page

        bib = client.get(reverse("notes:post-bibtex", args=[post.slug]))
        assert bib["Content-Disposition"] == f'attachment; filename="{post.slug}.bib"'
        entry = parse_bibtex(bib.content.decode()).entries[0]
        assert entry.key == "weng2023diffusion"
        assert entry.fields["title"] == "Diffusion models explained"
        assert entry.fields["authors"] == [{"family": "Weng", "given": "Lilian"}]
        assert (entry.fields["year"], entry.fields["month"], entry.fields["url"]) == (2023, 6, url)
        assert f"urldate      = {{{today:%Y-%m-%d}}}" in bib.content.decode()

        csl = json.loads(client.get(reverse("notes:post-csl-json", args=[post.slug])).content)
        assert csl == [
            {
                "id": "weng2023diffusion",
                "type": "post-weblog",
                "title": "Diffusion models explained",
                "author": [{"family": "Weng", "given": "Lilian"}],
                "issued": {"date-parts": [[2023, 6, 23]]},
                "accessed": {"date-parts": [[today.year, today.month, today.day]]},
                "container-title": settings.KB_SITE_TITLE,
                "publisher": settings.KB_SITE_TITLE,
                "URL": url,
                "abstract": "A tour.",
            }
        ]

        ris = client.get(reverse("notes:post-ris", args=[post.slug])).content.decode()
        records = [
            re.match(r"([A-Z][A-Z0-9])  - ?(.*)", line).groups()
            for line in ris.split("\r\n")
            if line
        ]
        assert records == [
            ("TY", "BLOG"),
            ("TI", "Diffusion models explained"),
            ("AU", "Weng, Lilian"),
            ("PY", "2023"),
            ("DA", "2023/06/23"),
            ("T2", settings.KB_SITE_TITLE),
            ("PB", settings.KB_SITE_TITLE),
            ("UR", url),
            ("Y2", f"{today:%Y/%m/%d}"),
            ("AB", "A tour."),
            ("ER", ""),
        ]

    def test_one_posts_references_as_a_bib_file(self, client, bibliography):
        post = make_post(
            "Notes",
            body="[@ho2020] and @song2021",
            reference=Reference.objects.get(key="goedel1931"),
        )
        page = client.get(post.get_absolute_url()).text
        href = reverse("notes:post-references-bib", args=[post.slug])
        assert f'href="{href}"' in page
        entries = parse_bibtex(client.get(href).content.decode()).entries
        assert [e.key for e in entries] == ["goedel1931", "ho2020", "song2021"]
        plain = make_post("Plain", body="No citations.")
        assert (
            client.get(reverse("notes:post-references-bib", args=[plain.slug])).status_code == 404
        )


class TestSearchingForAnAuthor:
    def test_a_post_search_for_an_author_finds_the_posts_citing_them(self, client, bibliography):
        make_post("Citing DDPM", body="Diffusion models [@ho2020] are neat.")
        make_post("Unrelated", body="Nothing about that here.")
        page = client.get(reverse("notes:search"), {"q": "Abbeel"})
        titles = re.findall(r'class="post-card-title"><a href="[^"]+">([^<]+)</a>', page.text)
        assert titles == ["Citing DDPM"]


def test_a_posts_excerpt_reads_its_citations(bibliography):
    post = make_post("Notes", body="Sampling follows @ho2020, refined [see @song2021, ch. 2].")
    assert post.excerpt == (
        "Sampling follows Ho et al. (2020), refined (see Song et al., 2021, ch. 2)."
    )
    unknown = make_post("Unknown", body="As [@who2000] says.")
    assert unknown.excerpt == "As (who2000?) says."


def test_the_demo_cites_its_papers(client):
    from notes.demo_content import load_demo

    load_demo()
    load_demo()  # twice, as `make run` may: nothing doubles
    guidance = Post.objects.get(slug="classifier-free-guidance")
    assert "Ho and Salimans (2022) asked whether" in text_of(guidance.body_html)
    assert references_section(guidance.body_html)[0].startswith("Dhariwal, P., & Nichol, A.")
    page = client.get(reverse("notes:reference-list"))
    assert "7 works cited" in page.text
    assert Post.objects.exclude(unknown_citations="").count() == 0


def test_a_cached_page_shows_a_citation_once_its_reference_arrives(client, settings):
    settings.KB_PAGE_CACHE_SECONDS = 3600
    post = make_post("Cached", body="Diffusion [@ho2020].")
    assert "ho2020?" in client.get(post.get_absolute_url()).text
    assert "ho2020?" in client.get(post.get_absolute_url()).text  # from the page cache

    import_bibtex_file(MESSY)

    page = client.get(post.get_absolute_url()).text
    assert "ho2020?" not in page and "Ho et al., 2020" in page


def test_past_the_citation_limit_the_rest_stays_text():
    from notes.rendering import render_markdown
    from notes.rendering.results import MAX_CITATIONS

    rendered = render_markdown("@a " * (MAX_CITATIONS + 5), None, lambda keys: {})
    assert rendered.html.count('class="cite"') == MAX_CITATIONS
    assert rendered.html.endswith("@a @a @a @a @a</p>\n")
