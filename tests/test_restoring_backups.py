"""Restoring a backup someone may have edited: what it may not do to accounts, pages and files,
and how a refused, failed or killed restore leaves the site."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from notes import backup
from notes.backup import media as backup_media
from notes.exporters import media_names
from notes.models import (
    ApiToken,
    MathStylesheet,
    Post,
    RestoreRecord,
    SiteState,
    Tag,
    TitleWord,
)
from tests.factories import image_bytes, make_post, make_tag, make_user

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"
ATTACKER_HASH = make_password("attacker's own password")
EVIL_HTML = '<script src="/media/x.js"></script><p>hello</p>'


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def site(db):
    """A small site and its backup, as the owner made it."""
    owner = make_user("owner", staff=True, is_superuser=True)
    tag = make_tag("maths", description="About *numbers*.")
    make_post("Kept", slug="kept", body="A [[Second]] note.", tags=[tag], author=owner)
    make_post("Second", slug="second", author=owner)
    default_storage.save("uploads/photo.png", ContentFile(image_bytes()))
    return owner


def take_backup(tmp_path: Path, *options: str) -> Path:
    path = tmp_path / f"backup-{uuid.uuid4().hex[:6]}.zip"
    call_command("backup", str(path), *options)
    return path


def edited(path: Path, changes: dict[str, Callable[[bytes], bytes] | bytes | None]) -> Path:
    """A copy of the archive with members changed (a function of the old bytes), added (bytes)
    or removed (None)."""
    changes = dict(changes)
    out = path.with_name(f"edited-{uuid.uuid4().hex[:6]}.zip")
    with zipfile.ZipFile(path) as old, zipfile.ZipFile(out, "w") as new:
        for info in old.infolist():
            change = changes.pop(info.filename, ...)
            if change is ...:
                new.writestr(info, old.read(info))
            elif callable(change):
                new.writestr(info.filename, change(old.read(info)))
            elif change is not None:
                new.writestr(info.filename, change)
        for name, data in changes.items():
            new.writestr(name, data)
    return out


def json_edit(function: Callable[[list], None]) -> Callable[[bytes], bytes]:
    def edit(data: bytes) -> bytes:
        records = json.loads(data)
        function(records)
        return json.dumps(records).encode()

    return edit


def restore(path: Path, *options: str) -> None:
    call_command("restore", str(path), *options)


def state() -> dict:
    """What a restore may change, to compare before and after."""
    users = get_user_model().objects.order_by("username")
    return {
        "posts": sorted(Post._base_manager.values_list("slug", "title", "body", "body_html")),
        "tags": sorted(Tag.objects.values_list("name", "description_html")),
        "users": [(u.username, u.password, u.is_staff, u.is_superuser) for u in users],
        "media": {name: default_storage.open(name).read() for name in media_names()},
    }


def superuser_row(username: str = "mallory") -> dict:
    return {
        "model": "auth.user",
        "fields": {
            "username": username,
            "password": ATTACKER_HASH,
            "is_superuser": True,
            "is_staff": True,
            "is_active": True,
        },
    }


def can_log_in(username: str, password: str) -> bool:
    client = Client()
    response = client.post("/admin/login/", {"username": username, "password": password})
    return response.status_code == 302 and "_auth_user_id" in client.session


class TestAccounts:
    def test_a_user_row_slipped_into_the_data_is_refused(self, site, tmp_path):
        archive = take_backup(tmp_path, "--with-users")
        crafted = edited(archive, {"data.json": json_edit(lambda r: r.append(superuser_row()))})
        before = state()

        for options in [("--force",), ("--force", "--with-users")]:
            with pytest.raises(CommandError, match=r"'auth\.user' row; a restore loads only kb"):
                restore(crafted, *options)

        assert not get_user_model().objects.filter(username="mallory").exists()
        assert state() == before

    @pytest.mark.parametrize(
        "row",
        [
            {"model": "auth.permission", "pk": 999, "fields": {"name": "x", "codename": "x"}},
            {"model": "admin.logentry", "pk": 1, "fields": {}},
            {"model": "notes.sitestate", "pk": 1, "fields": {"token": "x"}},
            {"model": "notes.restorerecord", "pk": 1, "fields": {"token": "x"}},
        ],
    )
    def test_only_kbs_own_content_models_are_loaded(self, site, tmp_path, row):
        crafted = edited(take_backup(tmp_path), {"data.json": json_edit(lambda r: r.append(row))})
        with pytest.raises(CommandError, match="a restore loads only kb's own content"):
            restore(crafted, "--force")

    def test_without_with_users_a_superuser_in_users_json_comes_in_as_a_name_only(
        self, site, tmp_path
    ):
        crafted = edited(
            take_backup(tmp_path), {"users.json": json_edit(lambda r: r.append(superuser_row()))}
        )
        restore(crafted, "--force")

        mallory = get_user_model().objects.get(username="mallory")
        assert (mallory.is_superuser, mallory.is_staff, mallory.has_usable_password()) == (
            False,
            False,
            False,
        )
        assert not can_log_in("mallory", "attacker's own password")

    def test_a_backup_made_with_users_still_needs_with_users_on_restore(self, site, tmp_path):
        archive = take_backup(tmp_path, "--with-users")
        crafted = edited(archive, {"users.json": json_edit(lambda r: r.append(superuser_row()))})
        restore(crafted, "--force")
        assert not can_log_in("mallory", "attacker's own password")
        assert not get_user_model().objects.get(username="mallory").is_superuser

    def test_with_users_on_a_backup_made_without_is_refused(self, site, tmp_path):
        with pytest.raises(CommandError, match="made without --with-users"):
            restore(take_backup(tmp_path), "--force", "--with-users")

    def test_an_existing_account_is_never_changed(self, site, tmp_path):
        def take_over(records: list) -> None:
            for record in records:
                if record["fields"].get("username") == "owner":
                    record["fields"].update(password=ATTACKER_HASH, email="evil@example.org")

        crafted = edited(
            take_backup(tmp_path, "--with-users"), {"users.json": json_edit(take_over)}
        )
        restore(crafted, "--force", "--with-users")

        owner = get_user_model().objects.get(username="owner")
        assert owner.email == "" and owner.check_password(PASSWORD)
        assert not can_log_in("owner", "attacker's own password")

    def test_no_superuser_is_created_where_accounts_exist(self, site, tmp_path):
        crafted = edited(
            take_backup(tmp_path, "--with-users"),
            {"users.json": json_edit(lambda r: r.append(superuser_row()))},
        )
        restore(crafted, "--force", "--with-users")

        mallory = get_user_model().objects.get(username="mallory")
        assert mallory.check_password("attacker's own password")  # confirmed with --with-users
        assert not mallory.is_superuser

    def test_groups_come_back_only_with_users(self, site, tmp_path):
        from django.contrib.auth.models import Group

        writer = make_user("writer")
        writer.groups.add(Group.objects.create(name="editors"))
        archive = take_backup(tmp_path, "--with-users")
        writer.delete()
        Group.objects.all().delete()

        restore(archive, "--force")
        assert not get_user_model().objects.get(username="writer").groups.exists()
        assert not Group.objects.exists()

        get_user_model().objects.get(username="writer").delete()
        restore(archive, "--force", "--with-users")
        assert [g.name for g in get_user_model().objects.get(username="writer").groups.all()] == [
            "editors"
        ]

    def test_the_owners_accounts_come_back_whole_into_an_empty_database(self, site, tmp_path):
        archive = take_backup(tmp_path, "--with-users")
        for model in reversed(backup.notes_models()):
            model._base_manager.all().delete()
        get_user_model().objects.all().delete()

        restore(archive, "--with-users")

        owner = get_user_model().objects.get(username="owner")
        assert owner.is_superuser and owner.is_staff and owner.check_password(PASSWORD)
        assert can_log_in("owner", PASSWORD)


class TestStoredHtmlAndMedia:
    def test_stored_html_is_rendered_again_from_the_markdown(self, site, tmp_path, client):
        def plant(records: list) -> None:
            for record in records:
                if record["model"] == "notes.post":
                    record["fields"].update(body_html=EVIL_HTML, toc_html=EVIL_HTML)
                    record["fields"]["excerpt"] = "<script>x</script>"
                if record["model"] == "notes.tag":
                    record["fields"]["description_html"] = EVIL_HTML

        restore(
            edited(take_backup(tmp_path), {"data.json": json_edit(plant)}),
            "--force",
        )

        for path in ["/posts/kept/", "/tags/maths/", "/", "/feed/"]:
            page = client.get(path).content.decode()
            assert "/media/x.js" not in page and "<script>x" not in page, path
        kept = Post.objects.get(slug="kept")
        assert 'href="/posts/second/"' in kept.body_html
        assert "<em>numbers</em>" in Tag.objects.get(name="maths").description_html

    @pytest.mark.parametrize(
        ("member", "data", "message"),
        [
            ("media/x.js", b"alert(document.domain)", "not an image kb accepts"),
            ("media/uploads/x.png", b"<!doctype html><script>1</script>", "not an image"),
            ("media/uploads/x.svg", b"<svg onload='alert(1)'/>", "not an image"),
            ("media/uploads/x.html", image_bytes(), "PNG image under another extension"),
            ("media/uploads/x.bmp", image_bytes(fmt="BMP"), "BMP images are not accepted"),
            ("media//tmp/kb-escape.png", image_bytes(), "unsafe name"),
            ("media/../kb-escape.png", image_bytes(), "unsafe name"),
            ("media/.restoring/x/files/a.png", image_bytes(), "unsafe name"),
            ("media/uploads/" + "a" * 300 + ".png", image_bytes(), "unsafe name"),
        ],
    )
    def test_media_are_checked_like_uploads_before_anything_is_written(
        self, site, tmp_path, member, data, message
    ):
        archive = take_backup(tmp_path)
        make_post("Written since", slug="written-since")
        before = state()

        with pytest.raises(CommandError, match=message):
            restore(edited(archive, {member: data}), "--force")

        assert state() == before  # --force deleted nothing
        assert not Path("/tmp/kb-escape.png").exists()

    def test_an_image_too_large_to_upload_is_too_large_to_restore(self, site, tmp_path, settings):
        archive = take_backup(tmp_path)
        settings.KB_UPLOAD_MAX_BYTES = 20
        with pytest.raises(CommandError, match=r"photo\.png is larger than"):
            restore(archive, "--force")


class TestArchiveChecks:
    def test_an_unknown_format_version_is_refused(self, site, tmp_path):
        def bump(data: bytes) -> bytes:
            return json.dumps({**json.loads(data), "version": 99}).encode()

        with pytest.raises(CommandError, match="format version 99 is not supported"):
            restore(edited(take_backup(tmp_path), {"manifest.json": bump}), "--force")

    def test_a_damaged_zip_is_refused_with_a_message(self, site, tmp_path):
        archive = take_backup(tmp_path)
        data = bytearray(archive.read_bytes())
        offset = data.find(b"data.json") + 200  # inside data.json's compressed bytes
        data[offset : offset + 8] = b"\x00" * 8
        damaged = tmp_path / "damaged.zip"
        damaged.write_bytes(bytes(data))
        truncated = tmp_path / "truncated.zip"
        truncated.write_bytes(archive.read_bytes()[:-100])
        before = state()

        with pytest.raises(CommandError, match=r"damaged|not a readable zip"):
            restore(damaged, "--force")
        with pytest.raises(CommandError, match="not a readable zip"):
            restore(truncated, "--force")
        assert state() == before

    def test_the_title_words_completion_reads_are_made_again(self, site, tmp_path):
        # Rows are loaded past Post.save(), which writes the words of a title.
        restore(take_backup(tmp_path), "--force")
        kept = Post.objects.link_candidates("kep", limit=8)
        assert [p.slug for p in kept] == ["kept"]
        assert sorted(TitleWord.objects.values_list("word", flat=True)) == ["kept", "second"]

    def test_the_allow_list_is_every_content_model_of_kb(self):
        # What belongs to this database alone, or is made again by rendering.
        bookkeeping = {SiteState, RestoreRecord, ApiToken, MathStylesheet, TitleWord}
        content = [m for m in apps.get_app_config("notes").get_models() if m not in bookkeeping]
        assert set(backup.notes_models()) == set(content)

    def test_control_characters_in_a_backup_are_cleaned(self, site, tmp_path, client):
        def pdf_paste(records: list) -> None:
            for record in records:
                if record["model"] == "notes.post":
                    record["fields"]["title"] += "\x0c"
                    record["fields"]["body"] += "\x0bpage two\x01"

        restore(edited(take_backup(tmp_path), {"data.json": json_edit(pdf_paste)}), "--force")

        kept = Post.objects.get(slug="kept")
        assert kept.title == "Kept " and kept.body.endswith("\npage two")
        assert client.get("/feed/").status_code == 200


class TestAllOrNothing:
    def test_a_restore_that_fails_loading_rows_leaves_rows_and_media_as_they_were(
        self, site, tmp_path
    ):
        def dangling(records: list) -> None:
            records.append({"model": "notes.link", "pk": 99, "fields": {"source": 1, "target": 1}})
            records.append(
                {"model": "notes.updatenote", "pk": 5, "fields": {"post": 424242, "text": "x"}}
            )

        archive = edited(
            take_backup(tmp_path),
            {"data.json": json_edit(dangling), "media/uploads/new.png": image_bytes((9, 9))},
        )
        make_post("Written since", slug="written-since")
        before = state()

        with pytest.raises(CommandError, match="cannot be loaded"):
            restore(archive, "--force")

        assert state() == before
        assert not (Path(default_storage.location) / backup_media.STAGING).exists() or not list(
            (Path(default_storage.location) / backup_media.STAGING).iterdir()
        )

    def test_media_of_a_restore_whose_rows_committed_are_moved_in_on_the_next_run(self):
        folder = Path(default_storage.location) / backup_media.STAGING / ("a" * 32)
        (folder / "files" / "uploads").mkdir(parents=True)
        (folder / "files" / "uploads" / "late.png").write_bytes(image_bytes())
        RestoreRecord.objects.create(token="a" * 32)

        backup.finish_interrupted_restores()

        assert default_storage.open("uploads/late.png").read() == image_bytes()
        assert not folder.exists()

    def test_media_of_a_restore_whose_rows_did_not_commit_are_thrown_away(self):
        folder = Path(default_storage.location) / backup_media.STAGING / ("b" * 32)
        (folder / "files" / "uploads").mkdir(parents=True)
        (folder / "files" / "uploads" / "never.png").write_bytes(image_bytes())

        backup.finish_interrupted_restores()

        assert not default_storage.exists("uploads/never.png") and not folder.exists()


class _ScratchDatabase:
    """A database of the engine the suite runs on, that a separate process can write to."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.name = f"kb_scratch_{uuid.uuid4().hex[:8]}"

    def __enter__(self) -> str:
        if connection.vendor == "sqlite":
            return f"sqlite:///{self.tmp_path / 'scratch.sqlite3'}"
        import psycopg

        with psycopg.connect(self._admin_url(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self.name}"')
        return self._admin_url().rsplit("/", 1)[0] + f"/{self.name}"

    def __exit__(self, *exc) -> None:
        if connection.vendor != "sqlite":
            import psycopg

            with psycopg.connect(self._admin_url(), autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    @staticmethod
    def _admin_url() -> str:
        s = connection.settings_dict
        auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
        return f"postgresql://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/postgres"


SITE_SCRIPT = """
import json, sys
from django.core.files.storage import default_storage
from notes.exporters import media_names
from notes.models import Post
print(json.dumps({
    "posts": sorted(Post._base_manager.values_list("slug", "title", "body")),
    "media": {n: default_storage.open(n).read().hex() for n in media_names()},
}))
"""

MAKE_POSTS = """
from django.contrib.auth import get_user_model
from notes import services
from notes.models import Post
from django.utils import timezone
author = get_user_model().objects.create_user("bulk")
for n in range(400):
    body = f"Part {n}. " + "Words about $x^{%d}$ and [[Part %d]]. " % (n, n - 1) * 8
    post = Post(title=f"Part {n}", body=body, status="published", published_at=timezone.now(),
                author=author)
    services.save_post(post)
"""


@pytest.mark.django_db(transaction=True)
def test_a_restore_killed_half_way_leaves_the_site_as_it_was(tmp_path):
    """kill -9 in the middle of loading rows: no row and no file of the backup is left."""
    with _ScratchDatabase(tmp_path) as url:
        media = tmp_path / "scratch-media"
        env = {**os.environ, "DATABASE_URL": url, "DJANGO_DEBUG": "1", "KB_MEDIA_ROOT": str(media)}

        def manage(*args: str, **kwargs) -> subprocess.CompletedProcess:
            return subprocess.run(
                [sys.executable, "manage.py", *args],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
                timeout=300,
                **kwargs,
            )

        manage("migrate", "-v", "0")
        manage("shell", "-c", MAKE_POSTS)
        (media / "uploads").mkdir(parents=True)
        for n in range(20):
            (media / "uploads" / f"in-backup-{n}.png").write_bytes(image_bytes((n + 1, 3)))
        manage("backup", str(tmp_path / "b.zip"))
        # The site moves on after the backup: a post and an image the backup lacks.
        manage("shell", "-c", "from notes.models import Post; Post.objects.filter(title='Part 7')"
               ".update(title='Part 7, revised')")  # fmt: skip
        (media / "uploads" / "in-backup-3.png").write_bytes(image_bytes((50, 50)))
        (media / "uploads" / "since.png").write_bytes(image_bytes((7, 7)))
        before = manage("shell", "-c", SITE_SCRIPT).stdout

        restoring = subprocess.Popen(
            [sys.executable, "manage.py", "restore", "--force", str(tmp_path / "b.zip")],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        staging = media / backup_media.STAGING
        deadline = time.monotonic() + 60
        while not (staging.exists() and any(staging.iterdir())) and time.monotonic() < deadline:
            assert restoring.poll() is None, restoring.communicate()
            time.sleep(0.01)
        time.sleep(0.5)  # into the rows: the old ones deleted, the backup's half loaded
        assert restoring.poll() is None, "the restore ended before it could be killed"
        restoring.send_signal(signal.SIGKILL)
        restoring.wait()

        assert manage("shell", "-c", SITE_SCRIPT).stdout == before
        manage("migrate", "-v", "0")  # settles the interrupted restore
        assert not any(staging.iterdir())
        assert manage("shell", "-c", SITE_SCRIPT).stdout == before

        manage("restore", "--force", str(tmp_path / "b.zip"))
        after = json.loads(manage("shell", "-c", SITE_SCRIPT).stdout.splitlines()[-1])
        assert next(p[:2] for p in after["posts"] if p[0] == "part-7") == ["part-7", "Part 7"]
        assert after["media"]["uploads/in-backup-3.png"] == image_bytes((4, 3)).hex()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("slug", "not a slug", "slug"), ("status", "secret", "status"), ("title", "x" * 300, "title")],
)
def test_a_field_no_form_would_accept_is_refused(site, tmp_path, field, value, message):
    def spoil(records: list) -> None:
        next(r for r in records if r["model"] == "notes.post")["fields"][field] = value

    before = state()
    with pytest.raises(CommandError, match=rf"notes\.post \d+: {message}"):
        restore(edited(take_backup(tmp_path), {"data.json": json_edit(spoil)}), "--force")
    assert state() == before
