"""Media in a backup: checked like an upload, staged beside the live files, moved in only after
the database has committed, so the rows and the files they name change together.

A restore writes its media into `MEDIA_ROOT/.restoring/<token>/` while it holds a lock on that
folder, then commits the rows together with a `RestoreRecord(token)`, then moves each file into
place. Killed before the commit, it leaves the site as it was (the folder is hidden from
readers and backups); killed while moving, the next restore or `migrate` finds the record and
finishes. The folder lives inside MEDIA_ROOT so each move is a rename on one file system, which
also works when MEDIA_ROOT is a mounted volume.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils._os import safe_join

from notes.uploads import EXTENSIONS, RejectedUpload, check_image

MEDIA_DIR = "media/"
STAGING = ".restoring"
FILES = "files"
LOCK = "lock"
MAX_NAME_BYTES = 255
MAX_PATH_CHARS = 500


class MediaRefused(Exception):
    """A media file in the backup that kb would not accept as an upload."""


def _root() -> Path:
    return Path(default_storage.location)


def checked_name(member: str) -> str:
    """The storage name for the archive member `media/<name>`, if it stays inside the media
    folder and names nothing hidden; raises MediaRefused otherwise."""
    name = member.removeprefix(MEDIA_DIR)
    parts = name.split("/")
    if (
        not name
        or len(name) > MAX_PATH_CHARS
        or any(not part or part.startswith(".") for part in parts)
        or any(len(part.encode()) > MAX_NAME_BYTES for part in parts)
        or any(not ch.isprintable() or ch in "\\:" for ch in name)
    ):
        raise MediaRefused(f"the backup holds a media file with an unsafe name: {member!r}")
    try:
        safe_join(str(_root()), *PurePosixPath(name).parts)
    except Exception as exc:  # SuspiciousFileOperation, or a name the OS cannot represent
        raise MediaRefused(
            f"the backup holds a media file with an unsafe name: {member!r}"
        ) from exc
    return name


def check_media(archive: zipfile.ZipFile) -> list[tuple[zipfile.ZipInfo, str]]:
    """Every media file of the archive with its storage name, each checked the way the upload
    path checks an image: decoded by Pillow, within the size and pixel limits, and named with an
    extension that fits what was decoded."""
    found: list[tuple[zipfile.ZipInfo, str]] = []
    seen: set[str] = set()
    for info in archive.infolist():
        if not info.filename.startswith(MEDIA_DIR) or info.is_dir():
            continue
        name = checked_name(info.filename)
        if name.lower() in seen:
            raise MediaRefused(f"the backup holds the media file {name} twice")
        seen.add(name.lower())
        if info.file_size > settings.KB_UPLOAD_MAX_BYTES:
            raise MediaRefused(
                f"media file {name} is larger than the "
                f"{settings.KB_UPLOAD_MAX_BYTES // (1024 * 1024)} MB upload limit"
            )
        try:
            kind = check_image(archive.read(info), max_pixels=settings.KB_UPLOAD_MAX_PIXELS)
        except RejectedUpload as exc:
            raise MediaRefused(f"media file {name}: {exc}") from exc
        suffix = PurePosixPath(name).suffix.lower().lstrip(".")
        if suffix not in EXTENSIONS[kind]:
            raise MediaRefused(
                f"media file {name} is a {kind.upper()} image under another extension"
            )
        found.append((info, name))
    return found


class Staging:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.committed = False


@contextmanager
def staged(
    archive: zipfile.ZipFile, media: list[tuple[zipfile.ZipInfo, str]], token: str
) -> Iterator[Staging]:
    """Write the media into a folder locked for as long as the block runs. Unless the block
    marks it committed, the folder is removed when the block fails."""
    staging = Staging(_root() / STAGING / token)
    (staging.folder / FILES).mkdir(parents=True)
    with open(staging.folder / LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            for info, name in media:
                target = staging.folder / FILES / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(info))
            yield staging
        except BaseException:
            if not staging.committed:
                shutil.rmtree(staging.folder, ignore_errors=True)
            raise


def move_in(folder: Path) -> int:
    """Move every staged file over the live one of the same name; returns how many moved.
    Safe to run again after an interruption: what was moved already is no longer staged."""
    root = _root()
    files = folder / FILES
    moved = 0
    for path in sorted(p for p in files.rglob("*") if p.is_file()):
        target = root / path.relative_to(files)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        moved += 1
    shutil.rmtree(folder, ignore_errors=True)
    return moved


def finish_interrupted(committed: set[str] | None = None) -> list[str]:
    """Settle restores that were cut short: move in the media of one whose rows committed,
    discard the media of one whose rows did not. A folder whose restore still runs is locked
    and left alone. Returns the tokens settled."""
    from notes.models import RestoreRecord

    staging = _root() / STAGING
    if not staging.is_dir():
        return []
    settled = []
    for folder in sorted(p for p in staging.iterdir() if p.is_dir()):
        with open(folder / LOCK, "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a restore is running right now
            if RestoreRecord.objects.filter(token=folder.name).exists():
                move_in(folder)
            else:
                shutil.rmtree(folder, ignore_errors=True)
        settled.append(folder.name)
    return settled
