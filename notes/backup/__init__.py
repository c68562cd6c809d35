"""One-file backups: every note, tag, series, link, update note and revision, the people who
wrote them, and the media files, in a zip that restores on SQLite or PostgreSQL.

The data is Django's JSON serialization, so it names no engine; authors are referred to by
username. Password hashes are left out unless asked, which keeps a backup harmless to leak.

A backup is untrusted input on the way back in: anyone who held the file may have edited it.
`restore_backup` checks the whole archive first (notes/backup/archive.py), loads only kb's own
content models, creates accounts under the rules of notes/backup/accounts.py, renders every
post and tag again from its Markdown rather than trusting stored HTML, and accepts media only
as the upload path would (notes/backup/media.py). The rows and the media change together or
not at all.
"""

from __future__ import annotations

import datetime
import json
import uuid
import zipfile
from collections import Counter
from contextlib import contextmanager
from typing import IO, Any

import django
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import serializers
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.files.storage import default_storage
from django.core.management.color import no_style
from django.core.serializers.base import DeserializationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone

from notes import search, services, site_state
from notes.backup import media as backup_media
from notes.backup.accounts import load_accounts
from notes.backup.archive import (
    CONTENT_MODELS,
    DATA,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    USERS,
    BackupError,
    check_backup,
    open_archive,
    read_manifest,
)
from notes.backup.media import MEDIA_DIR
from notes.exporters import media_names
from notes.models import Post, RestoreRecord, Tag, title_words
from notes.text import clean_text_fields

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "BackupError",
    "RestoreRefused",
    "create_backup",
    "finish_interrupted_restores",
    "notes_models",
    "read_manifest",
    "restore_backup",
]

USER_FIELDS_WITHOUT_SECRETS = [
    "username", "first_name", "last_name", "email", "is_staff", "is_active", "is_superuser",
    "date_joined",
]  # fmt: skip


def notes_models() -> list[type[models.Model]]:
    return list(CONTENT_MODELS)


class _Encoder(DjangoJSONEncoder):
    """Django's encoder cuts times to milliseconds; a backup keeps them whole."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime.datetime):
            return o.isoformat()
        return super().default(o)


class RestoreRefused(BackupError):
    """The database already holds notes and `force` was not given."""


@contextmanager
def _one_snapshot():
    """Read every table as of one moment, so a backup taken while people write holds no link
    to a post it lacks. Inside a transaction already (a test), that transaction is the moment."""
    if connection.in_atomic_block:
        yield
    elif connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
    else:
        # A deferred read transaction: SQLite's WAL gives it one snapshot and blocks no writer.
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("BEGIN DEFERRED")
            try:
                yield
            finally:
                cursor.execute("COMMIT")


def create_backup(file: IO[bytes], *, with_users: bool = False) -> dict[str, Any]:
    """Write a backup archive to `file`; returns its manifest."""
    user_model = get_user_model()
    counts: Counter[str] = Counter()
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with _one_snapshot():
            users = list(user_model.objects.order_by("pk"))
            if with_users:
                people: list[Any] = [*Group.objects.order_by("pk"), *users]
                user_json = _serialize(people, natural_primary=True)
            else:
                user_json = _serialize(
                    users, natural_primary=True, fields=USER_FIELDS_WITHOUT_SECRETS
                )
            counts[user_model._meta.label] = len(users)
            records = []
            for model in CONTENT_MODELS:
                # The base manager: a manager that hides rows (trashed posts) must not drop them.
                rows = list(model._base_manager.order_by("pk"))
                records.extend(rows)
                counts[model._meta.label] = len(rows)
            data_json = _serialize(records)
        archive.writestr(USERS, user_json)
        archive.writestr(DATA, data_json)
        # After the rows: an image is stored before any post names it, so this finds them all.
        media = list(media_names())
        for name in media:
            with default_storage.open(name, "rb") as handle:
                archive.writestr(MEDIA_DIR + name, handle.read())
        manifest = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "created_at": timezone.now().isoformat(),
            "engine": connection.vendor,
            "django": django.get_version(),
            "with_users": with_users,
            "counts": dict(counts),
            "media": media,
        }
        archive.writestr(MANIFEST, json.dumps(manifest, indent=2))
    return manifest


def _serialize(objects: Any, *, natural_primary: bool = False, fields: Any = None) -> str:
    return serializers.serialize(
        "json",
        objects,
        indent=1,
        use_natural_foreign_keys=True,
        use_natural_primary_keys=natural_primary,
        fields=fields,
        cls=_Encoder,
    )


def database_has_notes() -> bool:
    return any(model._base_manager.exists() for model in CONTENT_MODELS)


def restore_backup(
    file: IO[bytes], *, force: bool = False, with_users: bool = False
) -> dict[str, int]:
    """Load a backup into this database and media storage; returns how many rows of each
    model were restored. Refuses when the database already holds notes, unless `force`, which
    deletes them first. `with_users` confirms that accounts may come in with their passwords
    and rights (the backup must have been made with them); accounts that exist are kept as
    they are either way."""
    finish_interrupted_restores()
    with open_archive(file) as archive:
        checked = check_backup(archive, with_users=with_users)
        if database_has_notes() and not force:
            raise RestoreRefused(
                "the database already holds notes; restoring would mix two sites "
                "(use --force to delete them first)"
            )
        token = uuid.uuid4().hex
        with backup_media.staged(archive, checked.media, token) as staging:
            counts = _load_rows(checked, token, force=force, with_users=with_users)
            staging.committed = True
            counts["media"] = backup_media.move_in(staging.folder)
    return dict(counts)


def _load_rows(checked, token: str, *, force: bool, with_users: bool) -> Counter[str]:
    counts: Counter[str] = Counter()
    try:
        with transaction.atomic():
            if database_has_notes():
                if not force:  # someone wrote while the archive was being checked
                    raise RestoreRefused("the database already holds notes")
                for model in reversed(CONTENT_MODELS):
                    model._base_manager.all().delete()
            counts["new accounts"] = load_accounts(checked.accounts, with_users=with_users)
            for restored in serializers.deserialize("python", checked.records):
                _check_row(restored.object)
                restored.save()
                counts[restored.object._meta.label] += 1
            _reset_sequences()
            _render_again()
            search.rebuild_index()
            site_state.mark_changed()
            RestoreRecord.objects.create(token=token)
    except (DeserializationError, ValidationError, ObjectDoesNotExist, DatabaseError) as exc:
        raise BackupError(f"the backup's data cannot be loaded: {exc}") from exc
    return counts


def _check_row(row: models.Model) -> None:
    """Clean the row's text and check each field as a form would (a slug that is a slug, a
    known status, lengths); references are left to the database's constraints."""
    clean_text_fields(row)
    relations = [f.name for f in row._meta.get_fields() if f.is_relation]
    try:
        row.clean_fields(exclude=relations)
    except ValidationError as exc:
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        raise BackupError(f"{row._meta.label_lower} {row.pk}: {problems}") from exc


def _render_again() -> None:
    """Stored HTML came from the file, so it is thrown away and made again from the Markdown;
    the rows were loaded raw, past `Post.save()`, so their title words are made here too."""
    title_words.rebuild()
    for tag in Tag.objects.all():
        tag.save()
    for post in Post._base_manager.order_by("pk").iterator(chunk_size=200):
        services.rerender_post(post)


def _reset_sequences() -> None:
    """PostgreSQL's id sequences don't see rows loaded with explicit ids; without this, the next
    post written in the admin would collide with a restored one."""
    tables = [*CONTENT_MODELS, get_user_model(), Group]
    statements = connection.ops.sequence_reset_sql(no_style(), tables)
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def finish_interrupted_restores() -> list[str]:
    """Settle a restore that was killed: move in its media if its rows committed, else discard
    them. Run by every restore and by `migrate`."""
    return backup_media.finish_interrupted()
