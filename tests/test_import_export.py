"""Bringing notes in from Markdown folders and feeds, taking them out again, backing up and
restoring: what the author sees in the database, the files and the admin."""

from __future__ import annotations

import datetime
import functools
import io
import os
import subprocess
import sys
import threading
import uuid
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from PIL import Image

from notes import backup
from notes.exporters import export_to_directory
from notes.importing import InvalidImport, feeds, import_feed, import_markdown
from notes.models import Link, Post, Series, Tag, UpdateNote
from notes.views import admin_import
from tests.factories import image_bytes, link, make_draft, make_post, make_tag, make_user

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent / "import_fixtures"
ROOT = Path(__file__).resolve().parent.parent
UTC = datetime.UTC


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def author(db):
    return make_user("importer", first_name="Ida", last_name="Porter", is_superuser=True)


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def note(**front: str) -> str:
    lines = "".join(f"{key}: {value}\n" for key, value in front.items())
    return f"---\n{lines}---\nA short body about gradient noise.\n"


def empty_the_database() -> None:
    for model in reversed(backup.notes_models()):
        model._base_manager.all().delete()
    get_user_model().objects.all().delete()


def snapshot() -> dict[str, tuple]:
    """Everything an export promises to carry, per post."""
    posts = Post.objects.select_related("series", "author").prefetch_related(
        "tags", "update_notes", "outgoing_links__target"
    )
    return {
        p.slug: (
            p.title,
            p.status,
            p.published_at,
            p.updated_at,
            p.summary,
            p.aliases,
            p.body,
            p.source_url,
            p.series.title if p.series else None,
            p.series_order,
            sorted(t.name for t in p.tags.all()),
            p.author.username,
            sorted((k.target.slug, k.note, k.from_wikilink) for k in p.outgoing_links.all()),
            sorted((n.date, n.text) for n in p.update_notes.all()),
        )
        for p in posts
    }


class TestImportingMarkdown:
    def test_hugo_front_matter_becomes_the_post(self, author):
        report = import_markdown([FIXTURES / "hugo"], author=author)

        assert sorted(report.created) == ["kernel-trick", "layer-norm-placement"]
        post = Post.objects.get(slug="layer-norm-placement")
        assert post.title == "Why layer normalization sits where it does"
        assert post.published_at == datetime.datetime(2023, 1, 27, 9, 0, tzinfo=UTC)
        assert post.updated_at == datetime.datetime(2023, 3, 2, 7, 30, tzinfo=UTC)
        assert sorted(t.name for t in post.tags.all()) == ["Optimization", "transformers"]
        assert post.summary.startswith("Pre-norm trains without warm-up")
        assert post.status == Post.Status.PUBLISHED and post.is_published
        # No account is made up from a name: the post is the importer's, and the report says so.
        assert (
            post.author == author
            and not get_user_model().objects.filter(username="hugo-writer").exists()
        )
        assert any("no user is called 'hugo-writer'" in str(w) for w in report.warnings)
        assert post.source_url == "https://arxiv.org/abs/2002.04745"
        assert (post.series.title, post.series_order) == ("Transformer details", 2)

        bundle = Post.objects.get(slug="kernel-trick")  # a page bundle: the folder names it
        assert bundle.author == author
        assert bundle.summary.startswith("Inner products in a feature space")
        assert sorted(t.name for t in bundle.tags.all()) == ["classical ML", "kernels"]
        assert (bundle.series, bundle.series_order) == (post.series, 1)
        assert Link.objects.filter(source=post, target=bundle, from_wikilink=True).exists()

    def test_an_image_beside_the_file_is_copied_into_media_and_the_link_rewritten(
        self, author, media_root
    ):
        import_markdown([FIXTURES / "hugo"], author=author)

        post = Post.objects.get(slug="kernel-trick")
        assert "figure.png" not in post.body.replace("/figure.png", "")
        (stored,) = [p for p in Path(media_root).rglob("*.png")]
        url = default_storage.url(stored.relative_to(media_root).as_posix())
        assert f'![The feature map]({url} "lifting points")' in post.body
        assert f'src="{url}"' in post.body_html
        source = FIXTURES / "hugo/content/posts/kernel-trick/figure.png"
        assert stored.read_bytes() == source.read_bytes()

    def test_obsidian_vault_inline_tags_wikilinks_by_name_and_alias_and_embeds(self, author):
        report = import_markdown([FIXTURES / "obsidian"], author=author)

        assert sorted(report.created) == ["attention-budget", "sparse-patterns"]  # not .obsidian/
        budget = Post.objects.get(slug="attention-budget")
        sparse = Post.objects.get(slug="sparse-patterns")
        assert budget.title == "Attention budget"  # from the heading, which leaves the body
        assert not budget.body.startswith("#")
        assert sparse.title == "Sparse patterns"  # from the file name
        assert sorted(t.name for t in budget.tags.all()) == ["efficiency/memory", "transformers"]
        assert "[[Sparse patterns]]" in budget.body  # it names the title: nothing to do
        assert "[[BigBird|the BigBird note]]" in budget.body  # an alias kb keeps
        assert Link.objects.filter(source=budget, target=sparse, from_wikilink=True).count() == 1
        assert sparse.get_absolute_url() in budget.body_html
        assert "the BigBird note" in budget.body_html
        assert '<img src="/media/imports/' in budget.body_html
        assert "# this is a comment, not a #tag" in budget.body  # code is left alone

    def test_jekyll_post_takes_its_date_from_the_file_name(self, author, settings):
        settings.TIME_ZONE = "Europe/Paris"
        import_markdown([FIXTURES / "jekyll"], author=author)

        post = Post.objects.get()
        assert post.slug == "dropout-as-ensembles"
        assert post.status == Post.Status.DRAFT  # published: false
        assert post.published_at == datetime.datetime(2021, 6, 13, 22, 0, tzinfo=UTC)
        assert post.updated_at == datetime.datetime(2021, 7, 1, 7, 15, tzinfo=UTC)
        assert sorted(t.name for t in post.tags.all()) == ["ensembles", "regularization"]

    @pytest.mark.parametrize(
        ("date", "expected"),
        [
            ("2023-01-27", datetime.datetime(2023, 1, 26, 23, 0, tzinfo=UTC)),
            ("2023-01-27T10:00:00+01:00", datetime.datetime(2023, 1, 27, 9, 0, tzinfo=UTC)),
            ("2023-01-27T10:00:00Z", datetime.datetime(2023, 1, 27, 10, 0, tzinfo=UTC)),
            ("'2023-01-27 10:00'", datetime.datetime(2023, 1, 27, 9, 0, tzinfo=UTC)),
            ("2023-01-27T10:00:00-05:00", datetime.datetime(2023, 1, 27, 15, 0, tzinfo=UTC)),
        ],
    )
    def test_dates_without_an_offset_are_in_the_site_time_zone(
        self, author, tmp_path, settings, date, expected
    ):
        settings.TIME_ZONE = "Europe/Paris"
        write(tmp_path, "dated.md", note(title="Dated", date=date))

        import_markdown([tmp_path], author=author)

        assert Post.objects.get().published_at == expected

    @pytest.mark.parametrize(
        ("front", "field", "expected"),
        [
            ({"title": "Noise", "description": "From the description key"}, "summary", None),
            ({"title": "Noise", "updated": "2024-02-03"}, "updated_at", None),
            ({"title": "Noise", "lastmod": "2024-02-03"}, "updated_at", None),
            ({"title": "Noise", "draft": "true"}, "status", "draft"),
            ({"title": "Noise", "published": "false"}, "status", "draft"),
            ({"title": "Noise", "tags": "'a, b ,c'"}, "tags", ["a", "b", "c"]),
            ({"title": "Noise", "tags": "[a, '#b']"}, "tags", ["a", "b"]),
            ({"title": "No"}, "title", "No"),
            ({"title": "Noise", "slug": "my-own-slug"}, "slug", "my-own-slug"),
            ({"title": "Noise"}, "slug", "file-name"),
            ({}, "title", "file-name"),
            ({"title": "Noise", "source": "https://example.com/paper"}, "source_url", None),
            ({"title": "Noise", "series": "Basics"}, "series", "Basics"),
            ({"title": "Noise", "author": "'Grace Hopper'"}, "author", "Grace Hopper"),
        ],
    )
    def test_every_front_matter_key_and_alias(self, author, tmp_path, front, field, expected):
        make_user("grace", first_name="Grace", last_name="Hopper")  # `author` names an account
        write(tmp_path, "file-name.md", note(**front))

        import_markdown([tmp_path], author=author)

        post = Post.objects.get()
        values = {
            "summary": post.summary,
            "updated_at": post.updated_at.date().isoformat(),
            "status": post.status,
            "tags": sorted(t.name for t in post.tags.all()),
            "title": post.title,
            "slug": post.slug,
            "source_url": post.source_url,
            "series": str(post.series),
            "author": post.author.get_full_name(),
        }
        wanted = {
            "summary": "From the description key",
            "updated_at": "2024-02-03",
            "source_url": "https://example.com/paper",
        }
        assert values[field] == (expected if expected is not None else wanted[field])

    def test_importing_the_same_folder_twice_creates_nothing_and_a_changed_file_updates(
        self, author, tmp_path
    ):
        for n in range(3):
            write(tmp_path, f"note-{n}.md", note(title=f"Note {n}", date="2024-01-0" + str(n + 1)))
        first = import_markdown([tmp_path], author=author)
        ids = set(Post.objects.values_list("pk", flat=True))

        again = import_markdown([tmp_path], author=author)
        write(tmp_path, "note-1.md", note(title="Note 1, revised", date="2024-01-02"))
        changed = import_markdown([tmp_path], author=author)

        assert (len(first.created), len(again.created), len(again.unchanged)) == (3, 0, 3)
        assert (len(changed.updated), len(changed.unchanged)) == (1, 2)
        assert set(Post.objects.values_list("pk", flat=True)) == ids
        assert Post.objects.get(slug="note-1").title == "Note 1, revised"

    @pytest.mark.parametrize(
        ("content", "line", "reason"),
        [
            ("---\ntitle: [unclosed\ndate: 2024-01-01\n---\nBody\n", 3, "invalid YAML"),
            (note(title="Bad date", date="2023-02-30"), 3, "not a date"),
            (note(title="Bad date", date="next tuesday"), 3, "not a date"),
            ("---\ntitle: Nul\n---\nBody\x00 here\n", 4, "NUL byte"),
            ("---\ntitle: Latin\n---\nna\xefve\n".encode("latin-1"), 4, "not UTF-8"),
            (note(title="Twin", slug="note-0"), None, "also used by"),
        ],
    )
    def test_one_broken_file_among_many_leaves_the_database_untouched(
        self, author, tmp_path, content, line, reason
    ):
        for n in range(5):
            write(tmp_path, f"note-{n}.md", note(title=f"Note {n}", tags="[kept-out]"))
        write(tmp_path, "broken.md", content)

        with pytest.raises(CommandError) as raised:
            call_command("import_markdown", str(tmp_path))

        assert Post.objects.count() == Tag.objects.count() == 0
        where = f"broken.md:{line}: " if line else "broken.md: "
        assert where in str(raised.value) and reason in str(raised.value)

    def test_text_pasted_from_a_pdf_is_imported_without_its_page_breaks(
        self, author, tmp_path, client
    ):
        write(tmp_path, "pdf.md", "---\ntitle: From a PDF\n---\nPage one.\x0cPage two.\x0b\x01\n")

        call_command("import_markdown", str(tmp_path))

        assert Post.objects.get().body == "Page one.\nPage two.\n\n"
        assert client.get("/feed/").status_code == 200

    def test_every_bad_file_is_listed(self, author, tmp_path):
        write(tmp_path, "a.md", note(title="A", date="soon"))
        write(tmp_path, "b.md", note(title="B", source="not a url"))
        write(tmp_path, "c.md", note(title="C"))

        with pytest.raises(InvalidImport) as raised:
            import_markdown([tmp_path], author=author)

        assert [p.path for p in raised.value.problems] == ["a.md", "b.md"]

    def test_skip_invalid_imports_the_rest_and_lists_what_was_skipped(
        self, author, tmp_path, capsys
    ):
        write(tmp_path, "good.md", note(title="Good"))
        write(tmp_path, "bad.md", note(title="Bad", date="2023-13-01"))

        call_command("import_markdown", str(tmp_path), "--skip-invalid")

        out, err = capsys.readouterr()
        assert list(Post.objects.values_list("title", flat=True)) == ["Good"]
        assert "1 created, 0 updated, 0 unchanged, 1 skipped" in out
        assert "skipped bad.md:3: 'date' is not a date" in err

    def test_dry_run_reports_and_writes_nothing(self, author, tmp_path, capsys):
        write(tmp_path, "a.md", note(title="A"))
        make_post("B", slug="b")
        write(tmp_path, "b.md", note(title="B changed"))

        call_command("import_markdown", str(tmp_path), "--dry-run")

        assert "Dry run, nothing written: 1 would be created, 1 would be updated" in (
            capsys.readouterr().out
        )
        assert list(Post.objects.values_list("title", flat=True)) == ["B"]

    def test_a_file_needs_an_author_when_there_is_no_superuser(self, tmp_path):
        write(tmp_path, "a.md", note(title="A"))

        with pytest.raises(CommandError, match=r"a\.md: no author"):
            call_command("import_markdown", str(tmp_path))

    def test_demo_loader_uses_the_importer(self, author):
        call_command("load_demo")

        assert Post.objects.filter(slug="ddpm", status="published").exists()
        assert not import_markdown([ROOT / "notes/demo"], author=author).created


class TestExportAndRoundTrip:
    def make_site(self):
        ml = make_tag("machine learning")
        series = Series.objects.create(title="Diffusion, step by step", slug="diffusion-steps")
        # A real image: imports check media as the editor's upload does.
        picture = io.BytesIO()
        Image.new("RGB", (4, 4), (10, 120, 200)).save(picture, "PNG")
        default_storage.save("uploads/2024/05/plot.png", ContentFile(picture.getvalue()))
        forward = make_post(
            "Forward process",
            slug="forward",
            body="Noise is added in $T$ steps.\n\n![plot](/media/uploads/2024/05/plot.png)\n",
            tags=[ml],
            series=series,
            series_order=1,
            summary="How the data is destroyed.",
            aliases="Noising\nForward kernel: q(x_t, x_0)",
        )
        reverse = make_post(
            "Reverse process",
            slug="reverse",
            body="Undoes [[forward]] one step at a time, [[Noising]] in reverse.\r\n"
            "Windows line ends stay.",
            tags=[ml, make_tag("sampling")],
            series=series,
            series_order=2,
            source_url="https://arxiv.org/abs/2006.11239",
        )
        make_draft("Half-written thoughts: yes", slug="draft-thoughts", body="Not yet.")
        link(forward, reverse, note="read next")
        UpdateNote.objects.create(post=forward, date=datetime.date(2024, 5, 2), text="Fixed a sign")
        return forward, reverse

    def test_export_writes_every_post_with_its_front_matter(self, tmp_path, capsys):
        self.make_site()

        call_command("export_markdown", str(tmp_path / "out"))

        files = sorted(p.name for p in (tmp_path / "out").glob("*.md"))
        assert files == ["draft-thoughts.md", "forward.md", "reverse.md"]
        draft = (tmp_path / "out/draft-thoughts.md").read_text()
        assert "\ndraft: true\n" in draft and "title: 'Half-written thoughts: yes'" in draft
        forward = (tmp_path / "out/forward.md").read_text()
        assert "series: Diffusion, step by step\nseries_order: 1\n" in forward
        assert "aliases: [Noising, 'Forward kernel: q(x_t, x_0)']\n" in forward
        assert "![plot](media/uploads/2024/05/plot.png)" in forward
        assert (tmp_path / "out/media/uploads/2024/05/plot.png").read_bytes().startswith(b"\x89")
        assert "3 posts, 0 references and 1 media files exported" in capsys.readouterr().out

    def test_an_export_imported_into_an_empty_database_is_the_same_site(self, tmp_path):
        self.make_site()
        before = snapshot()
        export_to_directory(tmp_path / "first")

        authors = {p.author.username for p in Post.objects.select_related("author")}
        empty_the_database()
        default_storage.delete("uploads/2024/05/plot.png")
        for username in authors:  # the author's account exists where the site moves to
            make_user(username)
        report = import_markdown([tmp_path / "first"], author=None)
        export_to_directory(tmp_path / "second")

        assert len(report.created) == 3
        assert snapshot() == before
        assert default_storage.exists("uploads/2024/05/plot.png")
        first = {
            p.relative_to(tmp_path / "first"): p.read_bytes() for p in _files(tmp_path / "first")
        }
        second = {
            p.relative_to(tmp_path / "second"): p.read_bytes() for p in _files(tmp_path / "second")
        }
        assert first == second

    def test_export_of_an_import_of_an_obsidian_vault_is_stable(self, author, tmp_path):
        import_markdown([FIXTURES / "obsidian"], author=author)
        export_to_directory(tmp_path / "first")
        again = import_markdown([tmp_path / "first"], author=author)
        export_to_directory(tmp_path / "second")

        assert len(again.unchanged) == 2
        assert [p.read_bytes() for p in _files(tmp_path / "first")] == [
            p.read_bytes() for p in _files(tmp_path / "second")
        ]

    def test_admin_export_button_downloads_the_zip(self, staff_client):
        self.make_site()
        page = staff_client.get("/admin/notes/post/")
        response = staff_client.get("/admin/notes/post/export/")

        assert 'href="/admin/notes/post/export/"' in page.content.decode()
        assert response["Content-Disposition"].startswith('attachment; filename="kb-export-')
        archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
        assert "reverse.md" in archive.namelist()
        assert "media/uploads/2024/05/plot.png" in archive.namelist()


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


class TestImportingFeeds:
    def test_rss_entries_become_summaries_of_other_peoples_work(self, author, capsys):
        call_command("import_feed", str(FIXTURES / "feeds/rss2.xml"))

        grok = Post.objects.get(source_url="https://reading.example.org/grokking")
        assert grok.title == "Grokking, revisited"
        assert grok.is_summary and grok.is_published and grok.author == author
        assert grok.published_at == datetime.datetime(2023, 3, 14, 15, 20, tzinfo=UTC)
        assert sorted(t.name for t in grok.tags.all()) == ["generalization", "training dynamics"]
        assert grok.summary.startswith("Small transformers trained on modular arithmetic")
        assert "<em>" not in grok.body and "Weight decay seems" in grok.body_html
        assert Post.objects.get(slug="label-smoothing-calibration").title == (
            "Label smoothing & calibration"
        )
        assert "2 created, 0 updated, 0 unchanged, 0 skipped" in capsys.readouterr().out

    def test_atom_entries_become_summaries(self, author):
        call_command("import_feed", str(FIXTURES / "feeds/atom.xml"), "--tag", "reading list")

        moe = Post.objects.get(feed_entry_id="tag:notebook.example.net,2024:moe-routing")
        ssm = Post.objects.get(source_url="https://notebook.example.net/ssm")
        assert moe.published_at == datetime.datetime(2024, 4, 30, 5, 45, tzinfo=UTC)
        assert ssm.published_at == datetime.datetime(2024, 3, 11, 18, 0, tzinfo=UTC)  # updated
        assert sorted(t.name for t in moe.tags.all()) == [
            "mixture of experts",
            "reading list",
            "routing",
        ]
        assert "constant-time per token" in ssm.body

    def test_reimporting_matches_entries_by_id_and_by_link(self, author, tmp_path):
        feed = (FIXTURES / "feeds/rss2.xml").read_text()
        import_feed(feed.encode(), label="rss", author=author)
        mine = Post.objects.get(feed_entry_id="reading-example-0001")
        mine.summary = "My own words now."
        mine.save()
        moved = feed.replace("https://reading.example.org/grokking", "https://r.example.org/g")
        renamed = moved.replace(
            "<guid>https://reading.example.org/label-smoothing</guid>", "<guid>new-id</guid>"
        )

        report = import_feed(renamed.encode(), label="rss", author=author)

        assert (len(report.created), len(report.unchanged)) == (0, 2)
        assert Post.objects.count() == 2
        assert Post.objects.get(pk=mine.pk).summary == "My own words now."

    def test_draft_option_keeps_entries_private(self, author):
        call_command("import_feed", str(FIXTURES / "feeds/atom.xml"), "--draft")

        assert Post.objects.count() == 2 and not Post.objects.published().exists()

    def test_a_feed_is_fetched_from_its_address_within_a_size_cap(
        self, author, monkeypatch, settings
    ):
        handler = functools.partial(SimpleHTTPRequestHandler, directory=str(FIXTURES / "feeds"))
        handler.log_message = lambda *args: None
        with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
            threading.Thread(target=server.serve_forever, daemon=True).start()
            # A server on this machine is fetched only when named (see test_security.py).
            settings.KB_FETCH_ALLOWED_HOSTS = [f"127.0.0.1:{server.server_port}"]
            url = f"http://127.0.0.1:{server.server_port}/rss2.xml"
            call_command("import_feed", url)
            monkeypatch.setattr(feeds, "MAX_FEED_BYTES", 500)
            with pytest.raises(CommandError, match="larger than 500 bytes"):
                call_command("import_feed", url.replace("rss2", "atom"))
            server.shutdown()

        assert Post.objects.count() == 2

    def test_a_file_that_is_not_a_feed_is_refused(self, author, tmp_path):
        path = write(tmp_path, "page.xml", "<html><body>Hello</body></html>")

        with pytest.raises(CommandError, match="not an RSS or Atom feed"):
            call_command("import_feed", str(path))
        assert not Post.objects.exists()


class TestBackupAndRestore:
    def make_site(self):
        writer = make_user("writer", first_name="Wren", last_name="Writer")
        ml = make_tag("machine learning", description="Models that *learn*.")
        series = Series.objects.create(title="Basics", slug="basics", description="From zero.")
        first = make_post(
            "First", slug="first", tags=[ml], series=series, series_order=1, aliases="Opening"
        )
        second = make_post(
            "Second", slug="second", body="Builds on [[Opening]].", author=writer, tags=[ml]
        )
        make_draft("Unfinished", slug="unfinished")
        link(first, second, note="what comes next")
        UpdateNote.objects.create(post=second, date=datetime.date(2024, 1, 5), text="Clarified")
        default_storage.save("uploads/photo.png", ContentFile(image_bytes()))
        return writer

    def test_a_backup_restores_into_an_empty_database(self, tmp_path):
        self.make_site()
        before = snapshot()
        tag_description = Tag.objects.get(name="machine learning").description_html
        archive = tmp_path / "site.zip"
        call_command("backup", str(archive))

        empty_the_database()
        default_storage.delete("uploads/photo.png")
        call_command("restore", str(archive))

        assert snapshot() == before
        assert Tag.objects.get(name="machine learning").description_html == tag_description
        assert Series.objects.get().description == "From zero."
        assert default_storage.open("uploads/photo.png").read() == image_bytes()
        assert not get_user_model().objects.get(username="writer").has_usable_password()
        make_post("Written after the restore")  # the id sequences were moved past the rows

    def test_password_hashes_stay_out_unless_asked_for(self, tmp_path):
        self.make_site()
        call_command("backup", str(tmp_path / "plain.zip"))
        call_command("backup", str(tmp_path / "full.zip"), "--with-users")

        plain = zipfile.ZipFile(tmp_path / "plain.zip").read("users.json").decode()
        full = zipfile.ZipFile(tmp_path / "full.zip").read("users.json").decode()
        assert "pbkdf2" not in plain and "pbkdf2" in full

        empty_the_database()
        call_command("restore", str(tmp_path / "full.zip"), "--with-users")
        writer = get_user_model().objects.get(username="writer")
        assert writer.check_password("correct horse battery staple")

    def test_restore_refuses_a_database_with_notes_unless_forced(self, tmp_path):
        self.make_site()
        call_command("backup", str(tmp_path / "site.zip"))
        make_post("Written since")

        with pytest.raises(CommandError, match="already holds notes"):
            call_command("restore", str(tmp_path / "site.zip"))
        assert Post.objects.filter(title="Written since").exists()

        call_command("restore", str(tmp_path / "site.zip"), "--force")
        assert not Post.objects.filter(title="Written since").exists()
        assert Post.objects.count() == 3

    def test_a_file_that_is_not_a_backup_is_refused(self, tmp_path):
        write(tmp_path, "notes.zip", b"PK not really")

        with pytest.raises(CommandError, match="not a kb backup"):
            call_command("restore", str(tmp_path / "notes.zip"))

    def test_a_backup_made_on_the_other_engine_restores_here(self, tmp_path):
        """SQLite → PostgreSQL when the suite runs on PostgreSQL, and the reverse on SQLite."""
        with _other_database(tmp_path) as url:
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "DJANGO_DEBUG": "1",
                "KB_MEDIA_ROOT": str(tmp_path / "other-media"),
            }
            for command in (["migrate"], ["load_demo"], ["backup", str(tmp_path / "b.zip")]):
                subprocess.run(
                    [sys.executable, "manage.py", *command, "-v", "0"]
                    if command == ["migrate"]
                    else [sys.executable, "manage.py", *command],
                    cwd=ROOT,
                    env=env,
                    check=True,
                    capture_output=True,
                )
        manifest = zipfile.ZipFile(tmp_path / "b.zip").read("manifest.json").decode()
        assert f'"engine": "{connection.vendor}"' not in manifest

        call_command("restore", str(tmp_path / "b.zip"))

        ddpm = Post.objects.get(slug="ddpm")
        assert ddpm.is_published and "<math" in ddpm.body_html
        assert Link.objects.filter(source=ddpm, from_wikilink=True).count() >= 2
        assert Post.objects.drafts().exists()
        make_post("Written after the restore")


class _other_database:
    """A throwaway database on the engine the suite is not using."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.name = f"kb_other_{uuid.uuid4().hex[:8]}"

    def __enter__(self) -> str:
        if connection.vendor != "sqlite":
            return f"sqlite:///{self.tmp_path / 'other.sqlite3'}"
        psycopg = pytest.importorskip("psycopg")
        try:
            with psycopg.connect(_admin_url(), autocommit=True, connect_timeout=3) as admin:
                admin.execute(f'CREATE DATABASE "{self.name}"')
        except psycopg.OperationalError:
            pytest.skip("no PostgreSQL server to make the other engine's backup on")
        return _admin_url().rsplit("/", 1)[0] + f"/{self.name}"

    def __exit__(self, *exc) -> None:
        if connection.vendor == "sqlite":
            import psycopg

            with psycopg.connect(_admin_url(), autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.name}"')


def _admin_url() -> str:
    return os.environ.get("KB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


class TestAdminImport:
    @pytest.fixture(autouse=True)
    def staging(self, monkeypatch, tmp_path):
        monkeypatch.setattr(admin_import, "STAGING_DIR", tmp_path / "staging")

    def zip_of(self, folder: Path) -> SimpleUploadedFile:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for path in _files(folder):
                archive.write(path, path.relative_to(folder).as_posix())
        return SimpleUploadedFile("vault.zip", buffer.getvalue(), "application/zip")

    def test_staff_uploads_a_zip_sees_the_dry_run_then_confirms(self, staff_client):
        page = staff_client.get("/admin/notes/post/import/")
        checked = staff_client.post(
            "/admin/notes/post/import/", {"upload": self.zip_of(FIXTURES / "obsidian")}
        )

        assert page.status_code == 200 and 'type="file"' in page.content.decode()
        assert "2 would be created" in checked.content.decode()
        assert not Post.objects.exists()

        token = checked.context["confirm"].initial["token"]
        done = staff_client.post("/admin/notes/post/import/", {"token": token}, follow=True)

        assert "Imported: 2 created" in done.content.decode()
        assert Post.objects.count() == 2
        assert not (admin_import.STAGING_DIR / token).exists()

    def test_a_broken_file_in_the_zip_is_reported_and_nothing_is_written(
        self, staff_client, tmp_path
    ):
        write(tmp_path / "vault", "good.md", note(title="Good"))
        write(tmp_path / "vault", "bad.md", note(title="Bad", date="31/12/2023"))

        response = staff_client.post(
            "/admin/notes/post/import/", {"upload": self.zip_of(tmp_path / "vault")}
        )

        assert response.status_code == 200
        assert "bad.md:3: &#x27;date&#x27; is not a date" in response.content.decode()
        assert not Post.objects.exists()

    @pytest.mark.parametrize(
        ("upload", "message"),
        [
            (SimpleUploadedFile("notes.zip", b"not a zip"), "not a valid zip"),
            (SimpleUploadedFile("notes.exe", b"MZ"), "Upload a .zip"),
            (SimpleUploadedFile("feed.xml", b"<html></html>"), "not an RSS or Atom feed"),
        ],
    )
    def test_a_bad_upload_gives_a_message_not_an_error_page(self, staff_client, upload, message):
        response = staff_client.post("/admin/notes/post/import/", {"upload": upload})

        assert response.status_code == 200
        assert message in response.content.decode()

    def test_an_archive_escaping_its_folder_is_refused(self, staff_client):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("../../outside.md", "---\ntitle: Out\n---\n")
        upload = SimpleUploadedFile("evil.zip", buffer.getvalue())

        response = staff_client.post("/admin/notes/post/import/", {"upload": upload})

        assert "unsafe name" in response.content.decode()
        assert not Post.objects.exists()

    def test_a_feed_upload_is_imported_with_its_options(self, staff_client):
        feed = SimpleUploadedFile("feed.atom", (FIXTURES / "feeds/atom.xml").read_bytes())
        checked = staff_client.post(
            "/admin/notes/post/import/", {"upload": feed, "tag": "to read", "draft": "on"}
        )
        token = checked.context["confirm"].initial["token"]
        staff_client.post(
            "/admin/notes/post/import/", {"token": token, "tag": "to read", "draft": "True"}
        )

        assert Post.objects.drafts().count() == 2
        assert Tag.objects.get(name="to read").posts.count() == 2

    def test_only_staff_reach_the_pages(self, client):
        client.force_login(make_user("reader"))

        for url in ("/admin/notes/post/import/", "/admin/notes/post/export/"):
            assert client.get(url).status_code == 302
