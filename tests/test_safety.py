"""Nothing the author writes is lost: revisions and restore, the trash, edit conflicts,
atomic saves, and SQLite settings that let concurrent requests wait instead of failing."""

from __future__ import annotations

import datetime
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from notes import revisions, services, trash
from notes.models import Link, Post, Revision
from tests.factories import admin_post_form, link, make_post, make_tag

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def change_url(post: Post) -> str:
    return reverse("admin:notes_post_change", args=[post.pk])


def history_url(post: Post) -> str:
    return reverse("admin:notes_post_history", args=[post.pk])


def opened_version(client: Client, post: Post) -> str:
    """The version a browser tab has in its hidden field after opening the form."""
    page = client.get(change_url(post)).text
    return re.search(r'name="base_version" value="(\d+)"', page).group(1)


def edit_form(post: Post, **overrides) -> dict:
    current = {
        "title": post.title,
        "slug": post.slug,
        "status": post.status,
        "body": post.body,
        "author": str(post.author_id),
        "tags": [str(t.pk) for t in post.tags.all()],
    }
    return admin_post_form(**{**current, **overrides})


class TestRevisions:
    def test_every_save_stores_a_revision_with_who_and_what(self, staff_client, staff_user):
        post = make_post("Attention", body="First draft.", tags=[make_tag("transformers")])
        form = edit_form(post, body="Second draft.")
        form["tags"] = [*form["tags"], "attention"]
        form["base_version"] = opened_version(staff_client, post)
        assert staff_client.post(change_url(post), form).status_code == 302

        first, second = Revision.objects.filter(post=post).order_by("number")
        assert (first.number, first.body, first.saved_by) == (1, "First draft.", None)
        assert first.tag_names == ["transformers"]
        assert (second.number, second.body, second.saved_by) == (2, "Second draft.", staff_user)
        assert second.tag_names == ["attention", "transformers"]
        assert second.status == "published"

    def test_publishing_from_the_list_is_a_revision_too(self, staff_client):
        post = make_post("Draft", status="draft")
        staff_client.post(
            reverse("admin:notes_post_changelist"),
            {"action": "publish_selected", "_selected_action": [post.pk]},
        )
        latest = post.revisions.first()
        assert (latest.number, latest.status, latest.note) == (2, "published", "Published")

    def test_the_history_page_lists_revisions_and_compares_any_two(self, staff_client):
        post = make_post("Scaling", body="Loss falls as a power law.\nSame line.")
        post.body = "Loss falls as a power law in compute.\nSame line."
        services.save_post(post)
        post.title = "Scaling laws"
        services.save_post(post)

        history = staff_client.get(history_url(post))
        assert history.status_code == 200
        assert "Scaling laws" in history.text
        assert history.text.count('name="from"') == 3

        compare = staff_client.get(
            reverse("admin:notes_post_compare", args=[post.pk]), {"from": "1", "to": "3"}
        )
        assert compare.status_code == 200
        assert "<del>\N{MINUS SIGN} Loss falls as a power law.</del>" in compare.text
        assert "<ins>+ Loss falls as a power law in compute.</ins>" in compare.text
        assert "<ins>+ Scaling laws</ins>" in compare.text
        assert "Unchanged: Summary, Tags, Status." in compare.text

    def test_restoring_brings_old_text_back_as_a_new_revision(self, staff_client, client):
        post = make_post("Chinchilla", body="Train longer.", tags=[make_tag("scaling")])
        post.body = "Train on more tokens per parameter."
        services.save_post(post, tags=[])

        response = staff_client.post(
            reverse("admin:notes_post_restore", args=[post.pk, 1]), follow=True
        )
        assert "Restored revision 1" in response.text
        post.refresh_from_db()
        assert post.body == "Train longer."
        assert [t.name for t in post.tags.all()] == ["scaling"]
        assert post.status == "published"
        assert "Train longer." in client.get(post.get_absolute_url()).text
        assert list(post.revisions.values_list("number", "note")) == [
            (3, "Restored revision 1"),
            (2, ""),
            (1, ""),
        ]

    def test_restoring_needs_a_post_request(self, staff_client):
        post = make_post()
        url = reverse("admin:notes_post_restore", args=[post.pk, 1])
        assert staff_client.get(url).status_code == 405

    def test_restore_keeps_a_draft_a_draft(self):
        post = make_post("Draft text", status="draft", body="old")
        post.body = "new"
        services.save_post(post)
        revisions.restore(post.revisions.get(number=1))
        post.refresh_from_db()
        assert (post.body, post.status) == ("old", "draft")

    def test_diff_shows_context_around_changes_only(self):
        old = "\n".join(f"line {n}" for n in range(1, 21))
        new = old.replace("line 3", "line three").replace("line 18", "line eighteen")
        lines = revisions.diff_text(old, new, context=1)
        assert [(line.kind, line.text) for line in lines] == [
            ("same", "line 2"),
            ("removed", "line 3"),
            ("added", "line three"),
            ("same", "line 4"),
            ("gap", "…"),
            ("same", "line 17"),
            ("removed", "line 18"),
            ("added", "line eighteen"),
            ("same", "line 19"),
        ]


class TestTrash:
    def test_deleting_moves_a_post_to_the_trash_and_off_the_site(self, staff_client, client):
        keep, gone = make_post("Keep"), make_post("Gone", tags=[make_tag("lonely")])
        link(keep, gone)

        response = staff_client.post(
            reverse("admin:notes_post_delete", args=[gone.pk]), {"post": "yes"}, follow=True
        )
        assert "“Gone” is in the" in response.text
        assert client.get(gone.get_absolute_url()).status_code == 404
        assert "Gone" not in client.get("/").text
        assert client.get("/tags/lonely/").status_code == 404
        assert "Gone" not in client.get(keep.get_absolute_url()).text
        assert "Gone" not in staff_client.get(reverse("admin:notes_post_changelist")).text
        assert "Gone" in staff_client.get(reverse("admin:notes_post_trash")).text
        # Nothing is deleted yet: links, tags and history wait in the trash with the post.
        assert Link.objects.filter(target=gone).exists()
        assert gone.revisions.first().note == "Moved to the trash"

    def test_a_trashed_post_is_restored_with_its_tags_and_links(self, staff_client, client):
        keep, gone = make_post("Keep"), make_post("Back again", tags=[make_tag("returns")])
        link(keep, gone)
        trash.move_to_trash(gone)

        staff_client.post(
            reverse("admin:notes_post_trash"), {"action": "restore", "post": str(gone.pk)}
        )
        page = client.get(gone.get_absolute_url())
        assert page.status_code == 200
        assert "returns" in page.text
        assert "Back again" in client.get(keep.get_absolute_url()).text

    def test_the_list_action_moves_to_the_trash_and_deleting_is_not_offered(self, staff_client):
        post = make_post("Bulk")
        changelist = reverse("admin:notes_post_changelist")
        assert 'value="delete_selected"' not in staff_client.get(changelist).text
        staff_client.post(changelist, {"action": "trash_selected", "_selected_action": [post.pk]})
        assert Post.objects.trashed().get() == post

    def test_emptying_the_trash_needs_a_ticked_box(self, staff_client):
        post = make_post("Almost gone")
        trash.move_to_trash(post)
        url = reverse("admin:notes_post_trash")

        unconfirmed = staff_client.post(url, {"action": "empty"}, follow=True)
        assert "Tick the box" in unconfirmed.text
        assert Post.objects.filter(pk=post.pk).exists()

        staff_client.post(url, {"action": "empty", "confirm": "yes"})
        assert not Post.objects.filter(pk=post.pk).exists()
        assert not Revision.objects.filter(post_id=post.pk).exists()

    def test_only_posts_past_the_keeping_period_can_be_cleared_alone(self, staff_client):
        old, recent = make_post("Old"), make_post("Recent")
        trash.move_to_trash(old)
        trash.move_to_trash(recent)
        Post.objects.filter(pk=old.pk).update(
            trashed_at=timezone.now() - trash.KEEP_FOR - datetime.timedelta(hours=1)
        )
        staff_client.post(
            reverse("admin:notes_post_trash"), {"action": "empty-expired", "confirm": "yes"}
        )
        assert list(Post.objects.trashed()) == [recent]

    def test_staff_still_cannot_preview_a_trashed_post(self, staff_client):
        post = make_post("Hidden")
        trash.move_to_trash(post)
        assert staff_client.get(post.get_absolute_url()).status_code == 404


class TestEditConflicts:
    def test_the_second_of_two_tabs_is_refused_with_a_diff(self, staff_client):
        post = make_post("Diffusion", body="The forward process adds noise.")
        tab_one = opened_version(staff_client, post)
        tab_two = opened_version(staff_client, post)

        first = edit_form(post, body="The forward process adds Gaussian noise.")
        first["base_version"] = tab_one
        assert staff_client.post(change_url(post), first).status_code == 302

        second = edit_form(post, body="The forward process destroys structure.")
        second["base_version"] = tab_two
        refused = staff_client.post(change_url(post), second)

        assert refused.status_code == 200
        assert "was saved elsewhere" in refused.text
        assert "<del>\N{MINUS SIGN} The forward process adds Gaussian noise.</del>" in refused.text
        assert "<ins>+ The forward process destroys structure.</ins>" in refused.text
        post.refresh_from_db()
        assert post.body == "The forward process adds Gaussian noise."
        # The author's text is still in the form, so nothing typed is lost.
        assert "The forward process destroys structure." in refused.text

    def test_saving_again_after_seeing_the_conflict_is_deliberate(self, staff_client):
        post = make_post("Rotary", body="v1")
        stale = opened_version(staff_client, post)
        post.body = "v2 from elsewhere"
        services.save_post(post)

        form = edit_form(post, body="v3 mine")
        form["base_version"] = stale
        refused = staff_client.post(change_url(post), form)
        form["base_version"] = re.search(r'name="base_version" value="(\d+)"', refused.text).group(
            1
        )
        assert staff_client.post(change_url(post), form).status_code == 302
        post.refresh_from_db()
        assert post.body == "v3 mine"

    def test_a_save_from_an_up_to_date_form_bumps_the_version(self, staff_client):
        post = make_post("Fresh")
        form = edit_form(post, body="Edited.")
        form["base_version"] = opened_version(staff_client, post)
        staff_client.post(change_url(post), form)
        post.refresh_from_db()
        assert post.version == int(form["base_version"]) + 1


class TestAtomicSaves:
    def test_a_failure_after_the_row_is_written_leaves_nothing_half_saved(self):
        post = make_post("Stable", body="Original.", tags=[make_tag("kept")])
        post.body = "Half-saved?"
        with (
            mock.patch.object(revisions, "capture", side_effect=RuntimeError("disk full")),
            pytest.raises(RuntimeError),
        ):
            services.save_post(post, tags=[make_tag("new")])
        post.refresh_from_db()
        assert post.body == "Original."
        assert [t.name for t in post.tags.all()] == ["kept"]

    def test_a_failing_admin_save_rolls_back_the_post_and_its_tags(self, staff_client):
        post = make_post("Stable", body="Original.")
        form = edit_form(post, body="Changed.", tags=["orphan"])
        with (
            mock.patch.object(revisions, "capture", side_effect=RuntimeError("disk full")),
            pytest.raises(RuntimeError),
        ):
            staff_client.post(change_url(post), form)
        post.refresh_from_db()
        assert post.body == "Original."
        assert not post.tags.exists()

    def test_moving_to_the_trash_is_all_or_nothing(self):
        post = make_post("Stays")
        with (
            mock.patch.object(revisions, "capture", side_effect=RuntimeError("disk full")),
            pytest.raises(RuntimeError),
        ):
            trash.move_to_trash(post)
        post.refresh_from_db()
        assert post.trashed_at is None


SQLITE_PROBE = textwrap.dedent(
    """
    import threading
    import django
    django.setup()
    from django.db import connection, transaction, connections

    with connection.cursor() as c:
        c.execute("PRAGMA journal_mode")
        print(c.fetchone()[0])
        c.execute("CREATE TABLE counter (n integer)")
        c.execute("INSERT INTO counter VALUES (0)")
    print(connection.settings_dict["OPTIONS"]["transaction_mode"])

    errors = []

    def bump():
        try:
            for _ in range(25):
                # Read, then write: with deferred transactions two of these deadlock and one
                # fails at once with "database is locked".
                with transaction.atomic():
                    with connection.cursor() as c:
                        c.execute("SELECT n FROM counter")
                        n = c.fetchone()[0]
                        c.execute("UPDATE counter SET n = %s", [n + 1])
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with connection.cursor() as c:
        c.execute("SELECT n FROM counter")
        print(c.fetchone()[0])
    print(errors)
    """
)


class TestSqliteForOneServer:
    def test_wal_and_immediate_transactions_let_concurrent_writers_wait(self, tmp_path):
        env = {"PATH": os.environ["PATH"], "DJANGO_DEBUG": "1", "KB_DATA_DIR": str(tmp_path)}
        env["DJANGO_SETTINGS_MODULE"] = "kb.settings"
        result = subprocess.run(
            [sys.executable, "-c", SQLITE_PROBE],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        journal, mode, total, errors = result.stdout.split("\n")[:4]
        assert (journal, mode) == ("wal", "IMMEDIATE")
        assert errors == "[]"
        assert total == "100"
