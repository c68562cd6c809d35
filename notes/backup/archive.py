"""Reading a backup archive without trusting it: the zip must be whole, the manifest of a known
format and version, and the data only rows of kb's own content models, each referring to
people the backup or this site has. Nothing here writes anything."""

from __future__ import annotations

import json
import zipfile
import zlib
from dataclasses import dataclass
from typing import IO, Any

from django.contrib.auth import get_user_model
from django.db import models

from notes.backup.accounts import Accounts, AccountsRefused, read_accounts
from notes.backup.media import MediaRefused, check_media
from notes.models import (
    AuthorProfile,
    Link,
    Post,
    Redirect,
    Reference,
    Revision,
    Series,
    SiteSettings,
    Tag,
    UpdateNote,
)

FORMAT = "kb-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
USERS = "users.json"
DATA = "data.json"
# What a backup holds and a restore loads, in an order where each row's references come first.
# A model added to kb is backed up once it is added here, and the test of this list says so.
# In the order rows can be loaded (what a row points at comes first). Not here, on purpose:
# the site state and restore records (bookkeeping of this database), API tokens (secrets of
# this site's accounts, never carried to another), formula stylesheets (made again by
# rendering every post) and title words (made again from the titles).
CONTENT_MODELS: list[type[models.Model]] = [
    SiteSettings,
    AuthorProfile,
    Series,
    Tag,
    Reference,
    Post,
    Link,
    UpdateNote,
    Revision,
    Redirect,
]
# A data.json bigger than this is refused before it is read, whatever the zip claims.
MAX_DATA_BYTES = 1024**3


class BackupError(Exception):
    """The file is not a kb backup, or can't be restored here."""


@dataclass
class CheckedBackup:
    manifest: dict[str, Any]
    accounts: Accounts
    records: list[dict[str, Any]]
    media: list[tuple[zipfile.ZipInfo, str]]


def open_archive(file: IO[bytes]) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(file)
        damaged = archive.testzip()
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
        raise BackupError(
            f"this is not a kb backup: it is not a readable zip archive ({exc})"
        ) from exc
    except (NotImplementedError, RuntimeError) as exc:  # unknown compression, encryption
        raise BackupError(f"the backup uses a zip feature kb cannot read ({exc})") from exc
    if damaged is not None:
        archive.close()
        raise BackupError(f"the backup is damaged: {damaged} does not match its checksum")
    return archive


def read_manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except (KeyError, ValueError) as exc:
        raise BackupError("this is not a kb backup: it has no readable manifest.json") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("this is not a kb backup: the manifest names another format")
    if manifest.get("version") != FORMAT_VERSION:
        raise BackupError(
            f"backup format version {manifest.get('version')!r} is not supported "
            f"(this kb reads version {FORMAT_VERSION})"
        )
    if not isinstance(manifest.get("with_users", False), bool):
        raise BackupError("the manifest's with_users is not true or false")
    return manifest


def check_backup(archive: zipfile.ZipFile, *, with_users: bool) -> CheckedBackup:
    """Everything a restore needs, checked before anything is written."""
    manifest = read_manifest(archive)
    if with_users and not manifest.get("with_users"):
        raise BackupError(
            "this backup was made without --with-users, so it holds no accounts to restore; "
            "restore it without --with-users"
        )
    try:
        accounts = read_accounts(_read_json(archive, USERS), with_users=with_users)
        media = check_media(archive)
    except (AccountsRefused, MediaRefused) as exc:
        raise BackupError(str(exc)) from exc
    records = _read_json(archive, DATA)
    _check_records(records, accounts)
    return CheckedBackup(manifest, accounts, records, media)


def _read_json(archive: zipfile.ZipFile, name: str) -> Any:
    try:
        info = archive.getinfo(name)
    except KeyError as exc:
        raise BackupError(f"the backup has no {name}") from exc
    if info.file_size > MAX_DATA_BYTES:
        raise BackupError(f"{name} is larger than kb restores ({MAX_DATA_BYTES:,} bytes)")
    try:
        return json.loads(archive.read(info))
    except ValueError as exc:  # also UnicodeDecodeError
        raise BackupError(f"{name} is not valid JSON ({exc})") from exc


def _check_records(records: Any, accounts: Accounts) -> None:
    """Only rows of kb's content models, whose people exist in the backup or here."""
    if not isinstance(records, list):
        raise BackupError("data.json is not a list of records")
    allowed = {model._meta.label_lower: model for model in CONTENT_MODELS}
    user_model = get_user_model()
    people = accounts.usernames | set(
        user_model.objects.values_list(user_model.USERNAME_FIELD, flat=True)
    )
    for number, record in enumerate(records, start=1):
        where = f"data.json, record {number}"
        if not isinstance(record, dict) or not isinstance(record.get("fields"), dict):
            raise BackupError(f"{where} is not a record")
        model = allowed.get(str(record.get("model", "")).lower())
        if model is None:
            raise BackupError(
                f"{where} is a {record.get('model')!r} row; a restore loads only kb's own "
                f"content ({', '.join(sorted(allowed))})"
            )
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is user_model:
                key = record["fields"].get(field.name)
                if key is None:
                    continue
                name = key[0] if isinstance(key, list) and len(key) == 1 else None
                if not isinstance(name, str) or name not in people:
                    raise BackupError(f"{where} names {key!r} as its {field.name}: no such user")
