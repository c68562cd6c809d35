"""Quick capture: a reader turns the page they are on, or a DOI or arXiv id, into a prefilled
summary draft, from fixture pages and fixture arXiv/Crossref answers on a local server."""

import time

import pytest
from django.core.management import CommandError, call_command

from notes.capture.identifiers import Identifier, parse_identifier
from notes.capture.metadata import read_page
from notes.models import Post, Reference
from tests.factories import make_tag
from tests.webserver import FIXTURES, Answer

pytestmark = pytest.mark.django_db


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


class TestPageMetadata:
    def test_highwire_first_then_json_ld_then_opengraph(self):
        meta = read_page(fixture("article.html"), "https://proceedings.example.org/p/42")
        assert meta.title == "Sliced Score Matching: A Scalable Approach"
        assert meta.authors == ["Song, Yang", "Garg, Sahaj", "Shi, Jiaxin", "Ermon, Stefano"]
        assert meta.published == "2019-07-22"
        assert meta.doi == "10.5555/kb.fixture.0002"
        assert meta.site_name == "Test Conference on Uncertainty"
        assert meta.description.startswith("Projecting the score onto random directions")
        assert meta.keywords == ["score matching", "generative models"]
        assert meta.url == "https://proceedings.example.org/papers/sliced-score-matching"

    def test_json_ld_graphs_and_opengraph_articles(self):
        meta = read_page(fixture("blog.html"), "https://blog.example.org/?p=7")
        assert meta.title == "Why Langevin sampling mixes slowly"
        assert meta.authors == ["Ada Example", "Bo Sample"]
        assert meta.published == "2023-03-14"
        assert meta.site_name == "A Sampling Blog"
        assert meta.url == "https://blog.example.org/langevin-mixing/"
        assert meta.description.startswith("Energy barriers")
        assert meta.keywords == ["sampling", "MCMC"]

    def test_twitter_cards_fill_what_opengraph_leaves(self):
        html = (
            '<title>Tab title</title><meta property="og:title" content="OG title">'
            '<meta name="twitter:title" content="Card title">'
            '<meta name="twitter:description" content="What the card says.">'
        )
        meta = read_page(html, "https://cards.example.org/")
        assert meta.title == "OG title" and meta.description == "What the card says."

    def test_a_plain_page(self):
        meta = read_page(fixture("plain.html"), "https://plain.example.org/")
        assert meta.title == "A page with only a title"
        assert meta.description == "And a short description."
        assert meta.authors == ["Someone Plain"]
        assert meta.url == "https://plain.example.org/"

    def test_garbage_is_not_an_error(self):
        meta = read_page("<meta name=citation_title><script type=application/ld+json>[1,", "x")
        assert meta.title == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2006.11239", Identifier("arxiv", "2006.11239")),
        ("arXiv:2006.11239v2", Identifier("arxiv", "2006.11239")),
        ("https://arxiv.org/abs/2006.11239v2", Identifier("arxiv", "2006.11239")),
        ("https://arxiv.org/pdf/2006.11239.pdf", Identifier("arxiv", "2006.11239")),
        ("hep-th/9901001", Identifier("arxiv", "hep-th/9901001")),
        ("10.48550/arXiv.2006.11239", Identifier("arxiv", "2006.11239")),
        ("10.1145/3458817.3476165", Identifier("doi", "10.1145/3458817.3476165")),
        ("doi:10.1038/NPHYS1170", Identifier("doi", "10.1038/nphys1170")),
        ("https://doi.org/10.1000/xyz123", Identifier("doi", "10.1000/xyz123")),
        ("https://dx.doi.org/10.1000%2Fxyz123", Identifier("doi", "10.1000/xyz123")),
        ("https://example.org/paper", None),
        ("not an id", None),
        ("", None),
    ],
)
def test_identifiers_as_people_paste_them(text, expected):
    assert parse_identifier(text) == expected


class TestCapturePage:
    def test_only_staff(self, client):
        response = client.get("/capture/?url=https://example.org/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]

    def test_the_bookmarklet_is_offered_with_instructions(self, staff_client):
        page = staff_client.get("/capture/").text
        assert 'href="javascript:(function(){' in page
        assert "http://testserver/capture/?url=" in page
        assert "Drag this link" in page

    def test_a_page_becomes_a_prefilled_summary_draft(self, staff_client, web_server, client):
        web_server.serve_file("/paper", "article.html", "text/html; charset=utf-8")
        score = make_tag("score matching")
        generative = make_tag("Generative models")
        make_tag("optimal transport")
        response = staff_client.get(
            "/capture/",
            {
                "url": web_server.url("/paper"),
                "title": "Sliced score matching (what the tab said)",
                "selection": "Sliced score matching projects the scores onto random vectors.",
            },
        )
        assert response.status_code == 200
        form = response.context["form"]
        assert form.initial["title"] == "Sliced score matching (what the tab said)"
        assert form.initial["source_url"] == web_server.url("/paper")
        assert form.initial["summary"].startswith("Projecting the score")
        body = form.initial["body"]
        assert body.startswith("Song, Yang et al. (2019), Test Conference on Uncertainty.")
        assert "DOI: [10.5555/kb.fixture.0002](https://doi.org/10.5555/kb.fixture.0002)" in body
        assert "> Sliced score matching projects the scores onto random vectors." in body
        assert set(form.initial["tags"]) == {score.pk, generative.pk}
        assert web_server.requests[-1]["User-Agent"].startswith("kb/")

        saved = staff_client.post(
            "/capture/",
            {
                "title": form.initial["title"],
                "source_url": form.initial["source_url"],
                "summary": form.initial["summary"],
                "body": body,
                "tags": [str(pk) for pk in form.initial["tags"]],
                "new_tags": "projections",
            },
        )
        post = Post.objects.get(title="Sliced score matching (what the tab said)")
        assert saved.status_code == 302
        assert saved["Location"] == f"/admin/notes/post/{post.pk}/change/"
        assert post.status == "draft" and post.is_summary
        assert sorted(t.name for t in post.tags.all()) == [
            "Generative models", "projections", "score matching"
        ]  # fmt: skip
        assert "<blockquote>" in post.body_html
        assert post.revisions.get().note == "Captured"
        assert client.get(post.get_absolute_url()).status_code == 404  # a draft

    def test_a_failed_fetch_leaves_what_the_bookmarklet_sent(self, staff_client, web_server):
        web_server.routes["/broken"] = Answer(500, b"oops")
        for url in [web_server.url("/broken"), "http://10.0.0.5/internal"]:
            response = staff_client.get(
                "/capture/", {"url": url, "title": "Kept title", "selection": "Kept quote."}
            )
            assert response.status_code == 200
            form = response.context["form"]
            assert form.initial["title"] == "Kept title"
            assert form.initial["source_url"] == url
            assert "> Kept quote." in form.initial["body"]
            assert "The form holds what the bookmarklet sent." in response.text

    def test_a_body_the_renderer_refuses_is_a_form_error(self, staff_client):
        from notes.rendering import MAX_SQUARE_BRACKETS

        body = "[" * (MAX_SQUARE_BRACKETS + 1)
        response = staff_client.post("/capture/", {"title": "Brackets", "body": body})
        assert response.status_code == 200
        assert "“[” characters" in response.text
        assert not Post.objects.exists()

    def test_invalid_form_input_is_a_form_error(self, staff_client):
        response = staff_client.post("/capture/", {"title": "", "body": "x", "source_url": "nope"})
        assert response.status_code == 200
        assert set(response.context["form"].errors) == {"title", "source_url"}
        assert not Post.objects.exists()


class TestPapersByIdentifier:
    def test_an_arxiv_id_from_the_arxiv_api_cached(self, staff_client, papers):
        make_tag("cs.LG")
        response = staff_client.get("/capture/", {"id": "arXiv:2006.11239v2"})
        form = response.context["form"]
        assert form.initial["title"] == "Denoising Diffusion Probabilistic Models"
        assert form.initial["source_url"] == "https://arxiv.org/abs/2006.11239"
        assert form.initial["body"].startswith(
            "Jonathan Ho, Ajay Jain and Pieter Abbeel (2020), arXiv."
        )
        assert "arXiv: [2006.11239](https://arxiv.org/abs/2006.11239)" in form.initial["body"]
        assert form.initial["summary"].startswith("A fixture summary written for kb's tests")
        assert len(form.initial["tags"]) == 1
        asked = len(papers.requests)
        staff_client.get("/capture/", {"id": "2006.11239"})
        assert len(papers.requests) == asked  # from the cache

    def test_an_arxiv_address_from_the_bookmarklet_asks_the_api(self, staff_client, papers):
        response = staff_client.get(
            "/capture/", {"url": "https://arxiv.org/abs/2006.11239", "title": "[2006.11239] DDPM"}
        )
        form = response.context["form"]
        assert form.initial["title"] == "[2006.11239] DDPM"
        assert form.initial["source_url"] == "https://arxiv.org/abs/2006.11239"
        assert "Jonathan Ho" in form.initial["body"]
        assert papers.requests[-1]["path"].startswith("/arxiv/query?id_list=2006.11239")

    def test_a_doi_from_crossref(self, staff_client, papers):
        transport = make_tag("Optimal transport")
        response = staff_client.get("/capture/", {"id": "https://doi.org/10.5555/kb.fixture.0001"})
        form = response.context["form"]
        assert form.initial["title"] == "Optimal Transport for Generative Models: a fixture"
        assert form.initial["source_url"] == "https://doi.org/10.5555/kb.fixture.0001"
        assert form.initial["summary"] == (
            "An abstract written for kb's tests about moving probability mass cheaply."
        )
        assert form.initial["body"].startswith(
            "Marie Curie-Test and Alan Fixture (2021), Journal of Test Fixtures."
        )
        assert form.initial["tags"] == [transport.pk]

    def test_saving_a_looked_up_paper_adds_it_to_the_bibliography(self, staff_client, papers):
        page = staff_client.get("/capture/", {"id": "2006.11239"})
        assert "Saving also adds arXiv:2006.11239 to the bibliography" in page.text
        form = page.context["form"]
        sent = {k: v for k, v in form.initial.items() if k != "reference"} | {"tags": []}
        saved = staff_client.post("/capture/", sent, follow=True)
        reference = Reference.objects.get(arxiv_id="2006.11239")
        post = Post.objects.get()
        assert post.reference == reference and post.status == "draft"
        assert "It is attached to [@ho2020denoising]" in saved.text
        # A second capture of the same paper reuses its entry.
        staff_client.post("/capture/", {**sent, "title": "Second notes"})
        assert Reference.objects.count() == 1
        assert Post.objects.get(title="Second notes").reference == reference

    def test_a_page_that_is_not_a_paper_adds_nothing_to_the_bibliography(
        self, staff_client, web_server
    ):
        sent = {"title": "A page", "body": "Notes.", "source_url": web_server.url("/x")}
        staff_client.post("/capture/", {**sent, "paper": ""})
        assert Post.objects.get().reference is None and not Reference.objects.exists()

    def test_unknown_and_unreachable_are_clear_messages(self, staff_client, papers, settings):
        unknown = staff_client.get("/capture/", {"id": "9999.99999"})
        assert "arXiv knows no paper 9999.99999." in unknown.text
        assert "is not a DOI or an arXiv id" in staff_client.get("/capture/", {"id": "hello"}).text
        settings.KB_FETCH_ALLOWED_HOSTS = [papers.host, "127.0.0.1:9"]
        settings.KB_CROSSREF_API_URL = "http://127.0.0.1:9/works/"
        started = time.monotonic()
        down = staff_client.get("/capture/", {"id": "10.5555/kb.fixture.0001"})
        assert time.monotonic() - started < 5
        assert down.status_code == 200 and "Could not reach Crossref" in down.text
        assert (
            down.context["form"].initial["source_url"] == "https://doi.org/10.5555/kb.fixture.0001"
        )


class TestAddReferenceCommand:
    def test_a_reference_and_a_draft_attached_to_it_from_an_arxiv_id(
        self, papers, staff_user, capsys, client
    ):
        call_command("add_reference", "2006.11239", user="editor")
        out = capsys.readouterr().out
        reference = Reference.objects.get()
        assert reference.key == "ho2020denoising"
        assert reference.title == "Denoising Diffusion Probabilistic Models"
        assert reference.authors[0] == {"family": "Ho", "given": "Jonathan"}
        assert [a["family"] for a in reference.authors] == ["Ho", "Jain", "Abbeel"]
        assert reference.year == 2020 and reference.arxiv_id == "2006.11239"
        assert "Added [@ho2020denoising] to the bibliography" in out
        post = Post.objects.get()
        assert post.title == "Denoising Diffusion Probabilistic Models"
        assert post.status == "draft" and post.author == staff_user
        assert post.source_url == "https://arxiv.org/abs/2006.11239"
        assert post.reference == reference
        assert "Saved “Denoising Diffusion Probabilistic Models” as a draft" in out
        # Its BibTeX is ready to cite: an arXiv entry with its eprint.
        bibtex = " ".join(reference.as_bibtex.split())
        assert bibtex.startswith("@misc{ho2020denoising,")
        assert "eprint = {2006.11239}, archiveprefix = {arXiv}," in bibtex

        call_command("add_reference", "https://arxiv.org/abs/2006.11239v1", user="editor")
        again = capsys.readouterr().out
        assert "Already in the bibliography as [@ho2020denoising]" in again
        assert "Already saved" in again
        assert Post.objects.count() == 1 and Reference.objects.count() == 1

    def test_a_doi_from_crossref_keeps_its_venue_and_split_names(self, papers, staff_user):
        call_command("add_reference", "doi:10.5555/KB.fixture.0001", no_draft=True)
        reference = Reference.objects.get()
        assert reference.key == "curietest2021optimal"
        assert reference.authors == [
            {"family": "Curie-Test", "given": "Marie"},
            {"family": "Fixture", "given": "Alan"},
        ]
        assert reference.venue == "Journal of Test Fixtures"
        assert reference.entry_type == "article" and reference.doi == "10.5555/kb.fixture.0001"
        assert reference.month == 5
        assert (reference.volume, reference.number, reference.pages) == ("7", "2", "101-120")
        assert reference.publisher == "Fixture Society Press"
        assert "Curie-Test, M., & Fixture, A. (2021)" in reference.full_citation
        assert not Post.objects.exists()  # --no-draft

    def test_a_key_already_taken_gets_a_letter(self, papers, staff_user):
        Reference.objects.create(key="ho2020denoising", title="Another paper by another Ho")
        call_command("add_reference", "2006.11239", no_draft=True)
        assert Reference.objects.get(arxiv_id="2006.11239").key == "ho2020denoisingb"

    def test_errors_are_clear(self, papers, staff_user, settings):
        with pytest.raises(CommandError, match="not a DOI or an arXiv id"):
            call_command("add_reference", "hello", user="editor")
        with pytest.raises(CommandError, match="Crossref"):
            call_command("add_reference", "10.5555/unknown", user="editor")
        settings.KB_ARXIV_API_URL = "http://127.0.0.1:9/api/query"
        settings.KB_FETCH_ALLOWED_HOSTS = ["127.0.0.1:9"]
        with pytest.raises(CommandError, match="Could not reach arXiv"):
            call_command("add_reference", "2101.00001", user="editor")
        assert not Post.objects.exists() and not Reference.objects.exists()
