"""Keeping a bibliography: importing a real-world .bib file (from the command line and the
admin), exporting it again, and taking it along in exports and backups."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from notes import backup, services
from notes.bibliography.importing import (
    BibliographyImportError,
    bibliography_paths,
    import_bibtex,
    import_bibtex_file,
)
from notes.bibliography.parsing import parse_bibtex
from notes.bibliography.writing import bibliography_bibtex
from notes.exporters import export_to_directory
from notes.importing import InvalidImport, import_markdown
from notes.models import Post, Reference
from tests.factories import make_post

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "bibliography_fixtures"
MESSY = FIXTURES / "messy.bib"
BAD = FIXTURES / "bad.bib"
MESSY_KEYS = [
    "brown2020", "goedel1931", "ho2020", "knuth1984", "loshchilov2019", "radford2021",
    "song2021", "vaswani2017",
]  # fmt: skip


def reference(key: str) -> Reference:
    return Reference.objects.get(key=key)


class TestImportingAMessyBibFile:
    def test_every_entry_arrives_with_what_bibtex_means(self):
        report = import_bibtex_file(MESSY)

        assert sorted(report.created) == MESSY_KEYS
        assert sorted(Reference.objects.values_list("key", flat=True)) == MESSY_KEYS
        vaswani = reference("vaswani2017")
        assert vaswani.entry_type == "inproceedings"
        assert len(vaswani.authors) == 8
        assert vaswani.authors[0] == {"family": "Vaswani", "given": "Ashish"}
        assert vaswani.authors[6] == {"family": "Kaiser", "given": "Łukasz"}  # {\L}ukasz
        # @string macro, month macro, arXiv from eprint + archivePrefix, "--" as a dash.
        assert vaswani.venue == "Advances in Neural Information Processing Systems"
        assert (vaswani.year, vaswani.month, vaswani.arxiv_id) == (2017, 12, "1706.03762")
        assert vaswani.pages == "5998–6008"  # noqa: RUF001 (an en dash, as BibTeX's --)
        # A macro joined to a quoted string with #, a quoted title, a bare-number year.
        ho = reference("ho2020")
        assert ho.venue == "Advances in Neural Information Processing Systems 33"
        assert (ho.title, ho.year, ho.doi) == (
            "Denoising Diffusion Probabilistic Models",
            2020,
            "10.48550/arXiv.2006.11239",
        )
        assert [a["family"] for a in ho.authors] == ["Ho", "Jain", "Abbeel"]  # "Given Family"
        # LaTeX accents and protective braces.
        goedel = reference("goedel1931")
        assert goedel.title == (
            "Über formal unentscheidbare Sätze der Principia Mathematica und verwandter Systeme I"
        )
        assert goedel.authors == [{"family": "Gödel", "given": "Kurt"}]
        assert goedel.venue == "Monatshefte für Mathematik und Physik"
        assert reference("knuth1984").title == "The TeXbook"
        assert reference("song2021").month == 5
        assert reference("song2021").arxiv_id == "2011.13456"  # from the note
        # Kept as written, with the @string definition it needs to stand alone.
        assert reference("ho2020").bibtex.startswith(
            '@string{neurips = "Advances in Neural Information Processing Systems"}\n'
            "@ARTICLE{ho2020,"
        )

    def test_importing_again_changes_nothing_and_an_edited_entry_updates(self, tmp_path):
        import_bibtex_file(MESSY)
        again = import_bibtex_file(MESSY)
        assert (again.created, again.updated, sorted(again.unchanged)) == ([], [], MESSY_KEYS)

        edited = tmp_path / "edited.bib"
        edited.write_text(
            MESSY.read_text().replace("Decoupled Weight Decay", "Decoupled weight decay")
        )
        report = import_bibtex_file(edited)
        assert report.updated == ["loshchilov2019"]
        assert reference("loshchilov2019").title == "Decoupled weight decay Regularization"
        assert Reference.objects.count() == len(MESSY_KEYS)

    def test_a_dry_run_reports_and_writes_nothing(self):
        report = import_bibtex_file(MESSY, dry_run=True)
        assert sorted(report.created) == MESSY_KEYS
        assert "8 references would be created" in report.summary()
        assert not Reference.objects.exists()

    def test_every_bad_entry_is_reported_with_its_line_and_nothing_is_written(self):
        with pytest.raises(BibliographyImportError) as refused:
            import_bibtex_file(BAD)

        assert [str(p) for p in refused.value.problems] == [
            "line 8: fine2020: the key is used twice (first at line 2)",
            "line 14: notitle2019: the entry has no title",
            "line 19: badyear: the year “soon” is not a year",
            "line 25: unreadable entry (unexpectedly reached end of file)",
        ]
        assert f"{BAD}: line 14: notitle2019" in str(refused.value)
        assert not Reference.objects.exists()  # not even the good fine2020

    def test_a_doi_another_reference_holds_is_refused(self):
        import_bibtex_file(MESSY)
        clash = "@article{ho-again,\n  title = {DDPM},\n  doi = {10.48550/ARXIV.2006.11239}\n}\n"
        with pytest.raises(BibliographyImportError) as refused:
            import_bibtex(clash, name="clash.bib")
        assert "line 1: ho-again: its DOI belongs to the reference ho2020" in str(refused.value)

    def test_an_undefined_macro_and_a_non_utf8_file_are_clear_errors(self, tmp_path):
        with pytest.raises(BibliographyImportError, match="line 2: x: “nips” is not a defined"):
            import_bibtex("\n@inproceedings{x, title = {T}, booktitle = nips}\n")
        latin = tmp_path / "latin1.bib"
        latin.write_bytes(b"@book{a,\n title = {G\xf6del}\n}\n")
        with pytest.raises(BibliographyImportError, match="line 2: this is not UTF-8 text"):
            import_bibtex_file(latin)


class TestCommands:
    def test_import_bibtex_with_a_dry_run_then_for_real(self, capsys):
        call_command("import_bibtex", str(MESSY), "--dry-run")
        assert "Dry run, nothing written: 8 references would be created" in capsys.readouterr().out
        assert not Reference.objects.exists()
        call_command("import_bibtex", str(MESSY))
        assert "8 references were created, 0 updated, 0 unchanged" in capsys.readouterr().out
        assert Reference.objects.count() == 8

    def test_import_bibtex_names_every_bad_line(self):
        with pytest.raises(CommandError) as refused:
            call_command("import_bibtex", str(BAD))
        message = str(refused.value)
        assert "4 problem(s), nothing imported" in message
        for line in (8, 14, 19, 25):
            assert f"bad.bib: line {line}:" in message
        with pytest.raises(CommandError, match="No such file"):
            call_command("import_bibtex", "/nonexistent.bib")

    def test_export_bibtex_writes_back_what_was_imported_byte_for_byte(self, tmp_path):
        import_bibtex_file(MESSY)
        first = tmp_path / "first.bib"
        call_command("export_bibtex", str(first))
        Reference.objects.all().delete()

        import_bibtex_file(first)
        second = tmp_path / "second.bib"
        call_command("export_bibtex", str(second))

        assert first.read_bytes() == second.read_bytes()
        parsed = parse_bibtex(first.read_text())
        assert [e.key for e in parsed.entries] == MESSY_KEYS and not parsed.problems

    def test_a_reference_typed_in_by_hand_is_exported_from_its_fields(self):
        typed = Reference(
            key="hand2024",
            entry_type="article",
            title="Costs & {Benefits} of 100% recall",
            authors=[{"family": "Hand", "given": "Ada"}, {"family": "Type", "given": "Bo"}],
            year=2024,
            month=3,
            venue="Journal of Things",
            pages="1–9",  # noqa: RUF001 (an en dash, as BibTeX's --)
            doi="10.1/xyz",
        )
        services.save_reference(typed)
        text = bibliography_bibtex([typed])
        entry = parse_bibtex(text).entries[0]
        assert entry.fields["title"] == "Costs & {Benefits} of 100% recall"
        assert entry.fields["authors"] == typed.authors
        assert (entry.fields["venue"], entry.fields["month"]) == ("Journal of Things", 3)
        assert (entry.fields["pages"], entry.fields["doi"]) == ("1–9", "10.1/xyz")  # noqa: RUF001 (an en dash, as BibTeX's --)


class TestAdminUpload:
    def upload(self, client, path: Path, *, dry_run: bool):
        data = {"file": SimpleUploadedFile(path.name, path.read_bytes())}
        if dry_run:
            data["dry_run"] = "on"
        return client.post(reverse("admin:notes_reference_import"), data)

    def test_a_dry_run_then_the_import(self, staff_client):
        page = self.upload(staff_client, MESSY, dry_run=True)
        assert page.status_code == 200
        assert "8 references would be created" in page.text and "vaswani2017" in page.text
        assert not Reference.objects.exists()

        done = self.upload(staff_client, MESSY, dry_run=False)
        assert done.status_code == 302
        assert Reference.objects.count() == 8
        listing = staff_client.get(done["Location"])
        assert "Imported messy.bib: 8 references were created" in listing.text

    def test_a_bad_file_lists_its_problems(self, staff_client):
        page = self.upload(staff_client, BAD, dry_run=False)
        assert page.status_code == 200
        assert "Nothing was imported: 4 problems found." in page.text
        assert "bad.bib: line 19: badyear: the year “soon” is not a year" in page.text
        assert not Reference.objects.exists()

    def test_search_by_author_and_the_whole_bibliography_as_a_download(self, staff_client):
        import_bibtex_file(MESSY)
        found = staff_client.get(reverse("admin:notes_reference_changelist"), {"q": "Abbeel"})
        assert "ho2020" in found.text and "vaswani2017" not in found.text
        download = staff_client.get(reverse("admin:notes_reference_export"))
        assert download["Content-Disposition"] == 'attachment; filename="references.bib"'
        assert len(parse_bibtex(download.content.decode()).entries) == 8

    def test_editing_a_reference_rerenders_the_posts_citing_it(self, staff_client):
        import_bibtex_file(MESSY)
        post = make_post("Notes", body="As shown [@ho2020].")
        ho = reference("ho2020")
        form = {
            "key": "ho2020", "entry_type": "article", "title": "Diffusion, renamed",
            "authors": '[{"family": "Ho", "given": "Jonathan"}]', "year": "2020", "month": "",
            "venue": "", "volume": "", "number": "", "pages": "", "publisher": "", "doi": "",
            "arxiv_id": "", "url": "", "abstract": "", "bibtex": ho.bibtex,
        }  # fmt: skip
        response = staff_client.post(reverse("admin:notes_reference_change", args=[ho.pk]), form)
        assert response.status_code == 302
        post.refresh_from_db()
        assert "(Ho, 2020)" in post.body_html.replace("</a>", "").replace(
            '<a class="cite-ref" href="#ref-ho2020" title="Ho, J. (2020). Diffusion, renamed.">', ""
        )
        assert "Diffusion, renamed" in post.body_html
        # Edited by hand, so the stale imported text is not what gets exported.
        assert "Diffusion, renamed" in reference("ho2020").as_bibtex

    @pytest.mark.parametrize(
        ("field", "value", "error"),
        [
            ("authors", '"Ho"', "A list like"),
            ("authors", '[{"given": "Jonathan"}]', "A list like"),
            ("key", "has spaces", "A key is letters"),
            ("key", "trailing.", "A key is letters"),
        ],
    )
    def test_a_reference_typed_in_badly_is_a_form_error(self, staff_client, field, value, error):
        form = {
            "key": "ok2020", "entry_type": "misc", "title": "T", "authors": "[]", "year": "",
            "month": "", "venue": "", "volume": "", "number": "", "pages": "", "publisher": "",
            "doi": "", "arxiv_id": "", "url": "", "abstract": "", "bibtex": "",
        }  # fmt: skip
        response = staff_client.post(reverse("admin:notes_reference_add"), {**form, field: value})
        assert response.status_code == 200
        assert error in response.text
        assert not Reference.objects.exists()


class TestTakingTheBibliographyAlong:
    def test_the_markdown_export_writes_references_bib_beside_the_posts(self, tmp_path):
        import_bibtex_file(MESSY)
        body = "Diffusion [@ho2020, p. 3] builds on @song2021.\n"
        make_post(
            "Diffusion notes", slug="diffusion-notes", body=body, reference=reference("ho2020")
        )

        report = export_to_directory(tmp_path)

        assert report.references == 8
        exported = (tmp_path / "references.bib").read_text()
        assert [e.key for e in parse_bibtex(exported).entries] == MESSY_KEYS
        markdown = (tmp_path / "diffusion-notes.md").read_text()
        assert markdown.endswith(body)  # citations stay as written
        assert "reference: ho2020\n" in markdown

    def test_a_backup_restores_references_and_what_cites_them(self):
        import_bibtex_file(MESSY)
        post = make_post("Citing", body="See [@vaswani2017].", reference=reference("ho2020"))
        archive = io.BytesIO()
        manifest = backup.create_backup(archive)
        assert manifest["counts"]["notes.Reference"] == 8

        Post.objects.all().delete()
        Reference.objects.all().delete()
        counts = backup.restore_backup(io.BytesIO(archive.getvalue()))

        assert counts["notes.Reference"] == 8
        restored = Post.objects.get(pk=post.pk)
        assert restored.reference.key == "ho2020"
        assert list(restored.cited_references.values_list("key", flat=True)) == ["vaswani2017"]
        assert "references.bib" not in zipfile.ZipFile(archive).namelist()


class TestWhatTheMarkdownImportReads:
    def test_a_bibliography_front_matter_value_names_files_beside_the_post(self, tmp_path):
        (tmp_path / "refs").mkdir()
        bib = tmp_path / "refs" / "papers.bib"
        bib.write_text(MESSY.read_text())
        note = tmp_path / "note.md"

        assert bibliography_paths(note, "refs/papers.bib") == [bib.resolve()]
        assert bibliography_paths(note, ["refs/papers.bib", "./refs/papers.bib"]) == [bib.resolve()]
        for bad in ("../outside.bib", "missing.bib", 42, [""]):
            with pytest.raises(BibliographyImportError, match=r"note\.md: line 1: bibliography"):
                bibliography_paths(note, bad)

        report = import_bibtex_file(bibliography_paths(note, "refs/papers.bib")[0])
        assert len(report.created) == 8

    def test_an_export_imports_into_an_empty_site_with_its_bibliography(self, tmp_path):
        import_bibtex_file(MESSY)
        body = "Diffusion [@ho2020, p. 3] builds on @song2021.\n"
        make_post(
            "Diffusion notes", slug="diffusion-notes", body=body, reference=reference("ho2020")
        )
        first, second = tmp_path / "first", tmp_path / "second"
        export_to_directory(first)
        author = Post.objects.get().author
        Post.objects.all().delete()
        Reference.objects.all().delete()

        import_markdown([first], author=author)

        assert Reference.objects.count() == 8
        post = Post.objects.get(slug="diffusion-notes")
        assert post.reference.key == "ho2020"
        assert 'class="cite-unknown"' not in post.body_html
        assert "References" in post.body_html
        export_to_directory(second)
        for path in first.rglob("*"):
            if path.is_file():
                assert (second / path.relative_to(first)).read_bytes() == path.read_bytes()

    def test_a_bibliography_key_in_front_matter_is_imported_with_the_post(self, tmp_path):
        (tmp_path / "papers.bib").write_text(MESSY.read_text())
        (tmp_path / "note.md").write_text(
            "---\ntitle: Notes on DDPM\nbibliography: papers.bib\nreference: ho2020\n---\n"
            "As [@ho2020] shows.\n"
        )
        import_markdown([tmp_path], author=make_post("Someone").author)
        post = Post.objects.get(slug="note")
        assert post.reference.key == "ho2020"
        assert Reference.objects.count() == 8

    def test_a_bad_bibliography_refuses_the_whole_import(self, tmp_path):
        (tmp_path / "references.bib").write_text(BAD.read_text())
        (tmp_path / "note.md").write_text("---\ntitle: A note\n---\nText.\n")
        with pytest.raises(InvalidImport) as refused:
            import_markdown([tmp_path], author=make_post("Someone").author)
        assert "references.bib:" in str(refused.value.problems[0])
        assert not Post.objects.filter(slug="note").exists()
        assert not Reference.objects.exists()

    def test_an_unknown_reference_key_is_reported_not_lost_silently(self, tmp_path):
        (tmp_path / "note.md").write_text("---\ntitle: A note\nreference: nobody2020\n---\nT.\n")
        report = import_markdown([tmp_path], author=make_post("Someone").author)
        assert any("nobody2020" in str(w) for w in report.warnings)
