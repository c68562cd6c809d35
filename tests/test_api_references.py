"""Scripting the bibliography through the API: references read, written, imported as BibTeX
and looked up by DOI or arXiv id, with the admin's guarantees (citing posts re-rendered, the
page cache told, nothing half-written)."""

import pytest
from django.contrib.admin.models import LogEntry
from openapi_spec_validator import validate

from notes.models import Post, Reference
from tests.api_callers import API
from tests.factories import make_draft, make_post

pytestmark = pytest.mark.django_db

BIB = """@article{vaswani2017,
  author = {Vaswani, Ashish and Shazeer, Noam},
  title = {Attention Is All You Need},
  journal = {Advances in Neural Information Processing Systems},
  year = {2017}
}

@misc{song2021,
  author = {Song, Yang},
  title = {Score-Based Generative Modeling},
  year = 2021
}
"""


def make_reference(key: str, title: str, **extra) -> Reference:
    reference = Reference(key=key, title=title, **extra)
    reference.save()
    return reference


@pytest.fixture
def bibliography():
    cited = make_reference("ho2020", "Denoising Diffusion", authors=[{"family": "Ho"}], year=2020)
    secret = make_reference("draft2024", "Only a draft cites this")
    make_post("Public notes", body="As shown in [@ho2020].")
    make_draft("Private notes", body="See [@draft2024].")
    return cited, secret


class TestWhoMayDoWhat:
    def test_each_credential_gets_what_it_may(
        self, bibliography, reader, writer, expired, revoked, anonymous
    ):
        endpoints = [
            ("get", "/references/", None, 200),
            ("get", "/references/ho2020/", None, 200),
            ("post", "/references/", {"title": "New work"}, 403),
            ("patch", "/references/ho2020/", {"pages": "1-10"}, 403),
            ("post", "/references/import-bibtex/", {"bibtex": BIB}, 403),
            ("post", "/papers/", {"identifier": "2006.11239"}, 403),
            ("delete", "/references/ho2020/", None, 403),
        ]
        for method, path, body, read_status in endpoints:
            for caller in (anonymous, expired, revoked):
                answer = caller.get(path) if method == "get" else caller.send(method, path, body)
                assert answer.status_code == 401, (caller, path)
            answer = reader.get(path) if method == "get" else reader.send(method, path, body)
            assert answer.status_code == read_status, path
        assert Reference.objects.count() == 2  # nothing written by a read-only token

    def test_a_read_token_sees_only_what_the_site_shows(self, bibliography, reader, writer):
        assert [r["key"] for r in reader.get("/references/").json()["items"]] == ["ho2020"]
        assert reader.get("/references/draft2024/").status_code == 404
        assert {r["key"] for r in writer.get("/references/").json()["items"]} == {
            "ho2020",
            "draft2024",
        }


class TestReadingAndWriting:
    def test_a_reference_reads_as_the_site_prints_it(self, bibliography, reader):
        found = reader.get("/references/ho2020/").json()
        assert found["title"] == "Denoising Diffusion" and found["year"] == 2020
        assert found["authors"] == [{"family": "Ho", "given": "", "literal": ""}]
        assert found["citation"].startswith("Ho (2020). Denoising Diffusion")
        assert found["bibtex"].startswith("@misc{ho2020,")
        assert found["page_url"] == "http://testserver/references/ho2020/"

    def test_create_makes_a_key_validates_and_logs(self, writer, client):
        made = writer.post(
            "/references/",
            {
                "title": "The Annotated Transformer",
                "authors": [{"family": "Rush", "given": "Alexander"}],
                "year": 2018,
                "url": "https://nlp.example.org/annotated",
            },
        )
        assert made.status_code == 201, made.content
        assert made.json()["key"] == "rush2018annotated"
        reference = Reference.objects.get(key="rush2018annotated")
        assert reference.author_names == "Rush Alexander"
        assert LogEntry.objects.filter(object_id=str(reference.pk)).exists()
        # A post citing it now renders the citation, on the public site at once.
        make_post("Reading list", body="Start with [@rush2018annotated].")
        page = client.get(Post.objects.get(title="Reading list").get_absolute_url())
        assert "Rush, 2018" in page.text

    def test_validation_errors_name_the_field(self, bibliography, writer):
        taken = writer.post("/references/", {"key": "ho2020", "title": "Clash"})
        assert taken.status_code == 400 and "key" in taken.json()["errors"]
        no_title = writer.post("/references/", {"key": "x2020"})
        assert no_title.status_code == 400 and "title" in no_title.json()["errors"]
        bad_key = writer.post("/references/", {"key": "has space", "title": "T"})
        assert bad_key.status_code == 400 and "key" in bad_key.json()["errors"]
        nameless = writer.post("/references/", {"title": "T", "authors": [{"given": "Only"}]})
        assert nameless.status_code == 400 and "authors" in nameless.json()["errors"]
        writer.patch("/references/ho2020/", {"doi": "10.1/ABC"})
        same_doi = writer.post("/references/", {"title": "Twin", "doi": "10.1/abc"})
        assert same_doi.status_code == 400, same_doi.content
        assert Reference.objects.count() == 2
        assert writer.get("/references/nobody/").status_code == 404

    def test_an_edit_rerenders_the_posts_citing_it(self, bibliography, writer, client):
        post = Post.objects.get(title="Public notes")
        assert "Ho, 2020" in client.get(post.get_absolute_url()).text
        changed = writer.patch(
            "/references/ho2020/", {"authors": [{"family": "Hopper", "given": "Grace"}]}
        )
        assert changed.status_code == 200, changed.content
        assert changed.json()["authors"][0]["family"] == "Hopper"
        assert "Hopper, 2020" in client.get(post.get_absolute_url()).text

    def test_deleting_leaves_the_citation_visible_as_unknown(self, bibliography, writer, client):
        assert writer.delete("/references/ho2020/").status_code == 204
        page = client.get(Post.objects.get(title="Public notes").get_absolute_url())
        assert 'class="cite-unknown"' in page.text and "ho2020?" in page.text
        assert writer.delete("/references/ho2020/").status_code == 404

    def test_search_and_pages(self, writer):
        for i in range(5):
            make_reference(f"w{i}", f"Work number {i}", authors=[{"family": f"Author{i}"}])
        listed = writer.get("/references/", q="work author3").json()
        assert [r["key"] for r in listed["items"]] == ["w3"]
        second = writer.get("/references/", page=2, page_size=2).json()
        assert second["count"] == 5 and second["pages"] == 3 and len(second["items"]) == 2

    def test_list_queries_stay_flat(self, writer, reader, django_assert_max_num_queries):
        make_reference("a1", "One")
        with django_assert_max_num_queries(4) as few:
            writer.get("/references/")
        with django_assert_max_num_queries(4):
            reader.get("/references/")
        for i in range(30):
            make_reference(f"b{i}", f"Work {i}", authors=[{"family": "X"}])
        with django_assert_max_num_queries(len(few.captured_queries)):
            assert len(writer.get("/references/").json()["items"]) == 31


class TestImportingBibtex:
    def test_an_import_creates_then_reports_unchanged(self, writer):
        first = writer.post("/references/import-bibtex/", {"bibtex": BIB})
        assert first.status_code == 200, first.content
        assert sorted(first.json()["created"]) == ["song2021", "vaswani2017"]
        again = writer.post("/references/import-bibtex/", {"bibtex": BIB}).json()
        assert sorted(again["unchanged"]) == ["song2021", "vaswani2017"] and not again["created"]
        assert Reference.objects.get(key="vaswani2017").venue.startswith("Advances")

    def test_a_dry_run_writes_nothing(self, writer):
        report = writer.post("/references/import-bibtex/", {"bibtex": BIB, "dry_run": True})
        assert report.json()["dry_run"] and len(report.json()["created"]) == 2
        assert not Reference.objects.exists()

    def test_a_broken_file_names_each_line_and_writes_nothing(self, writer):
        broken = BIB + "\n@article{bad2020,\n  title = {No end\n"
        broken = broken.replace("year = 2021", "year = {twenty}")
        answer = writer.post("/references/import-bibtex/", {"bibtex": broken})
        assert answer.status_code == 400
        problems = answer.json()["errors"]["bibtex"]
        assert any(p.startswith("line 8:") and "twenty" in p for p in problems), problems
        assert not Reference.objects.exists()


class TestPapersByIdentifier:
    def test_an_arxiv_id_becomes_a_reference_and_a_summary_draft(self, papers, writer):
        added = writer.post("/papers/", {"identifier": "arXiv:2006.11239"})
        assert added.status_code == 201, added.content
        answer = added.json()
        assert answer["reference"]["key"] == "ho2020denoising"
        assert answer["reference_created"] and answer["post_created"]
        post = Post.objects.get(pk=answer["post"])
        assert post.status == "draft" and post.reference.key == "ho2020denoising"
        again = writer.post("/papers/", {"identifier": "https://arxiv.org/abs/2006.11239v2"})
        assert again.status_code == 200
        assert again.json()["post"] == post.pk and not again.json()["post_created"]
        assert Reference.objects.count() == 1 and Post.objects.count() == 1

    def test_only_the_reference(self, papers, writer):
        added = writer.post("/papers/", {"identifier": "10.5555/kb.fixture.0001", "draft": False})
        assert added.status_code == 201 and added.json()["post"] is None
        assert added.json()["reference"]["venue"] == "Journal of Test Fixtures"
        assert not Post.objects.exists()

    def test_unknown_unreachable_and_not_an_identifier(self, papers, writer, settings):
        assert writer.post("/papers/", {"identifier": "9999.99999"}).status_code == 404
        refused = writer.post("/papers/", {"identifier": "hello"})
        assert refused.status_code == 400 and "identifier" in refused.json()["errors"]
        settings.KB_FETCH_ALLOWED_HOSTS = [papers.host, "127.0.0.1:9"]
        settings.KB_CROSSREF_API_URL = "http://127.0.0.1:9/works/"
        down = writer.post("/papers/", {"identifier": "10.5555/kb.fixture.0001"})
        assert down.status_code == 502 and "Could not reach Crossref" in down.json()["detail"]
        assert not Reference.objects.exists() and not Post.objects.exists()


def test_the_schema_describes_the_bibliography(staff_client):
    schema = staff_client.get(f"{API}/schema/").json()
    validate(schema)
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/references/"])
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/references/{key}/"])
    assert "502" in paths["/api/v1/papers/"]["post"]["responses"]
