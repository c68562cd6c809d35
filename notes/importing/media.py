"""Media a post links to or embeds by relative path: found, rewritten to the media storage's
address, and copied there when the import is written."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.files import File
from django.core.files.storage import default_storage
from django.utils.text import get_valid_filename

from notes.importing.files import MarkdownFile, outside_code
from notes.importing.posts import MediaFile

# Files a post may embed or link to by relative path. SVG is left out: it can carry scripts and
# media is served from the site's own origin.
MEDIA_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".pdf"})
MAX_MEDIA_BYTES = 25 * 1024 * 1024
# Where media goes in an export; importing an export puts each file back under the same name.
EXPORT_MEDIA_DIR = "media"

_EMBED = re.compile(r"!\[\[([^\[\]\n|#]+)(?:\|([^\[\]\n]*))?\]\]")
_MD_LINK = re.compile(
    r"(?P<head>!?\[(?:[^\[\]\n]|\[[^\]\n]*\])*\]\()[ \t]*"
    r"(?P<dest><[^<>\n]+>|[^\s()<>]+)"
    r"(?P<tail>(?:[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'))?[ \t]*\))"
)


def index_media(root: Path) -> dict[str, list[Path]]:
    """Media files under `root` by lower-cased name: Obsidian finds `![[x.png]]` anywhere."""
    index: dict[str, list[Path]] = defaultdict(list)
    for path in root.rglob("*"):
        if path.suffix.lower() in MEDIA_EXTENSIONS and path.is_file():
            index[path.name.lower()].append(path)
    return index


def embed_media(
    body: str, source: MarkdownFile, media_index: dict[str, list[Path]]
) -> tuple[str, list[MediaFile]]:
    """The body with relative links to media rewritten to the media storage's URLs, and the
    files to copy there. Links to missing files are left as written."""
    media: dict[str, MediaFile] = {}

    def locate(reference: str) -> MediaFile | None:
        parts = urlsplit(reference)
        if parts.scheme or parts.netloc or reference.startswith(("/", "#")):
            return None
        relative = unquote(parts.path)
        if Path(relative).suffix.lower() not in MEDIA_EXTENSIONS:
            return None
        root = source.root.resolve()
        candidates = [source.path.parent / relative, source.root / relative]
        candidates += media_index.get(Path(relative).name.lower(), [])
        for candidate in candidates:
            path = candidate.resolve()
            if path.is_relative_to(root) and path.is_file():
                if path.stat().st_size > MAX_MEDIA_BYTES:
                    return None
                found = MediaFile(path, _storage_name(path, root))
                media[found.name] = found
                return found
        return None

    def link(match: re.Match[str]) -> str:
        dest = match.group("dest")
        found = locate(dest.strip("<>"))
        if found is None:
            return match.group(0)
        return match.group("head") + default_storage.url(found.name) + match.group("tail")

    def embed(match: re.Match[str]) -> str:
        found = locate(match.group(1).strip())
        if found is None:
            return match.group(0)
        label = (match.group(2) or "").strip()
        alt = Path(match.group(1)).stem if not label or label.isdigit() else label
        return f"![{alt}]({default_storage.url(found.name)})"

    body = outside_code(body, lambda prose: _MD_LINK.sub(link, _EMBED.sub(embed, prose)))
    return body, list(media.values())


def _storage_name(path: Path, root: Path) -> str:
    """A file from an export's media folder goes back under its old name, so the export of an
    import of an export is identical; anything else under a name made from its content, so
    re-importing it finds it in place."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    relative = path.relative_to(root).parts
    if len(relative) > 1 and relative[0] == EXPORT_MEDIA_DIR:
        name = "/".join(relative[1:])
        if not default_storage.exists(name) or _digest_of_stored(name) == digest:
            return name
    return f"imports/{digest[:16]}/{get_valid_filename(path.name)}"


def _digest_of_stored(name: str) -> str:
    with default_storage.open(name, "rb") as stored:
        return hashlib.sha256(stored.read()).hexdigest()


def copy_media(media: Iterable[MediaFile]) -> None:
    for item in media:
        if not default_storage.exists(item.name):
            with item.source.open("rb") as handle:
                default_storage.save(item.name, File(handle))
