"""One-file backups: every note, tag, series, link and update note, the users who wrote them,
and the media files, in a zip that restores into an empty database on SQLite or PostgreSQL.

The data is Django's JSON serialization, so it names no engine. Authors are referred to by
username (a natural key), so users can be merged into a database that already has some. Users
are saved without their password hashes unless asked, which keeps a backup harmless to leak.
"""

from __future__ import annotations

import datetime
import io
import json
import zipfile
from collections import Counter
from pathlib import PurePosixPath
from typing import IO, Any

import django
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import serializers
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.color import no_style
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from notes import search
from notes.exporters import media_names
from notes.models import SiteState

FORMAT = "kb-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
USERS = "users.json"
DATA = "data.json"
MEDIA_DIR = "media/"
USER_FIELDS_WITHOUT_SECRETS = [
    "username", "first_name", "last_name", "email", "is_staff", "is_active", "is_superuser",
    "date_joined",
]  # fmt: skip


def notes_models() -> list[type[models.Model]]:
    """Every table of the notes app, so a model added later is backed up without a change here.
    Foreign keys are checked at commit, so the order only matters for reading the file.
    SiteState is the page cache's bookkeeping, not content: a restore starts it afresh."""
    return [
        model
        for model in apps.get_app_config("notes").get_models()
        if model._meta.managed and not model._meta.proxy and model is not SiteState
    ]


class _Encoder(DjangoJSONEncoder):
    """Django's encoder cuts times to milliseconds; a backup keeps them whole."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime.datetime):
            return o.isoformat()
        return super().default(o)


class BackupError(Exception):
    """The file is not a kb backup, or can't be restored here."""


class RestoreRefused(BackupError):
    """The database already holds notes and `force` was not given."""


def create_backup(file: IO[bytes], *, with_users: bool = False) -> dict[str, Any]:
    """Write a backup archive to `file`; returns its manifest."""
    user_model = get_user_model()
    users = user_model.objects.order_by("pk")
    counts: Counter[str] = Counter()
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        if with_users:
            people: list[Any] = [*Group.objects.order_by("pk"), *users]
            user_json = _serialize(people, natural_primary=True)
        else:
            user_json = _serialize(users, natural_primary=True, fields=USER_FIELDS_WITHOUT_SECRETS)
        archive.writestr(USERS, user_json)
        counts[user_model._meta.label] = users.count()
        records = []
        for model in notes_models():
            # The base manager: a manager that hides rows (say, trashed posts) must not drop them.
            rows = model._base_manager.order_by("pk")
            records.extend(rows)
            counts[model._meta.label] = rows.count()
        archive.writestr(DATA, _serialize(records))
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


def read_manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except (KeyError, ValueError) as exc:
        raise BackupError("this is not a kb backup: it has no readable manifest.json") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError("this is not a kb backup: the manifest names another format")
    if manifest.get("version") != FORMAT_VERSION:
        raise BackupError(f"backup format version {manifest.get('version')} is not supported")
    return manifest


def database_has_notes() -> bool:
    return any(model._base_manager.exists() for model in notes_models())


def restore_backup(file: IO[bytes], *, force: bool = False) -> dict[str, int]:
    """Load a backup into this database and media storage; returns how many rows of each model
    were restored. Refuses when the database already holds notes, unless `force`, which deletes
    them first. Users are merged by username: one who already exists is kept as is, unless the
    backup was made with users (then it is overwritten, password hash included)."""
    try:
        archive = zipfile.ZipFile(file)
    except zipfile.BadZipFile as exc:
        raise BackupError("this is not a kb backup: it is not a zip archive") from exc
    with archive:
        manifest = read_manifest(archive)
        media = [name for name in archive.namelist() if name.startswith(MEDIA_DIR)]
        for name in media:
            path = PurePosixPath(name)
            if path.is_absolute() or ".." in path.parts:
                raise BackupError(f"the backup holds a media file with an unsafe name: {name}")
        with transaction.atomic():
            if database_has_notes():
                if not force:
                    raise RestoreRefused(
                        "the database already holds notes; restoring would mix two sites "
                        "(use --force to delete them first)"
                    )
                for model in reversed(notes_models()):
                    model._base_manager.all().delete()
            counts = _load_users(archive.read(USERS), overwrite=manifest["with_users"])
            for restored in serializers.deserialize("json", archive.read(DATA)):
                restored.save()
                counts[restored.object._meta.label] += 1
            _reset_sequences()
            search.rebuild_index()
        for name in media:
            # Written once the rows are in: a failed restore leaves media untouched.
            target = name.removeprefix(MEDIA_DIR)
            if default_storage.exists(target):
                default_storage.delete(target)
            default_storage.save(target, ContentFile(archive.read(name)))
        counts["media"] = len(media)
    return dict(counts)


def _load_users(data: bytes, *, overwrite: bool) -> Counter[str]:
    counts: Counter[str] = Counter()
    user_model = get_user_model()
    existing = set(user_model.objects.values_list(user_model.USERNAME_FIELD, flat=True))
    for restored in serializers.deserialize(
        "json", io.BytesIO(data), handle_forward_references=True
    ):
        user = restored.object
        if isinstance(user, user_model) and not overwrite:
            if user.get_username() in existing:
                continue
            user.set_unusable_password()
        restored.save()
        counts[user._meta.label] += 1
    return counts


def _reset_sequences() -> None:
    """PostgreSQL's id sequences don't see rows loaded with explicit ids; without this, the next
    post written in the admin would collide with a restored one."""
    tables = [*notes_models(), get_user_model(), Group]
    statements = connection.ops.sequence_reset_sql(no_style(), tables)
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
