"""Media a post links to or embeds by relative path: found, rewritten to the media storage's
address, and copied there when the import is written."""

from __future__ import annotations

import functools
import hashlib
import html
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.text import get_valid_filename

from notes.importing.files import MarkdownFile, for_prose
from notes.importing.posts import MediaFile
from notes.importing.translation import Translation, sized_image
from notes.uploads import RejectedUpload, check_image, without_metadata

# Files a post may embed or link to by relative path. SVG is left out: it can carry scripts and
# media is served from the site's own origin.
MEDIA_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".pdf"})
REFUSED_EXTENSIONS = frozenset({".svg", ".svgz", ".html", ".htm", ".js"})
MAX_MEDIA_BYTES = 25 * 1024 * 1024
# Where media goes in an export; importing an export puts each file back under the same name.
EXPORT_MEDIA_DIR = "media"
# The bibliography beside an export's posts, read back by the import.
BIBLIOGRAPHY_FILE = "references.bib"

_EMBED = re.compile(r"!\[\[([^\[\]\n|#]+)(?:\|([^\[\]\n]*))?\]\]")
_MD_LINK = re.compile(
    r"(?P<head>!?\[(?:[^\[\]\n]|\[[^\]\n]*\])*\]\()[ \t]*"
    r"(?P<dest><[^<>\n]+>|[^\s()<>]+)"
    r"(?P<tail>(?:[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'))?[ \t]*\))"
)

_HTML_IMAGE = re.compile(r"""(<img\b[^>]*?\bsrc\s*=\s*)(["'])([^"'<>\n]+)\2""", re.IGNORECASE)


def index_media(root: Path) -> dict[str, list[Path]]:
    """Media files under `root` by lower-cased name: Obsidian finds `![[x.png]]` anywhere."""
    index: dict[str, list[Path]] = defaultdict(list)
    for path in root.rglob("*"):
        if path.suffix.lower() in MEDIA_EXTENSIONS and path.is_file():
            index[path.name.lower()].append(path)
    return index


def embed_media(
    body: str,
    source: MarkdownFile,
    media_index: dict[str, list[Path]],
    *,
    static_roots: Sequence[Path] = (),
    translation: Translation | None = None,
) -> tuple[str, list[MediaFile]]:
    """The body with links to media rewritten to the media storage's URLs, and the files to copy
    there. Relative paths are looked up beside the file, at the root and by name; paths from
    `/` in `static_roots` (a site's static folders). Links to missing or refused files are left
    as written, and noted in `translation`."""
    media: dict[str, MediaFile] = {}
    root = source.root.resolve()

    def note(line: int, reason: str) -> None:
        if translation is not None:
            translation.note(line, reason)

    def locate(reference: str, line: int, image: bool) -> MediaFile | None:
        parts = urlsplit(reference)
        if parts.scheme or parts.netloc or reference.startswith("#") or not parts.path:
            return None
        if reference.startswith(str(default_storage.base_url)) and reference.startswith("/"):
            return None  # already in kb's media
        relative = unquote(parts.path)
        suffix = Path(relative).suffix.lower()
        if suffix in REFUSED_EXTENSIONS:
            note(
                line, f"{relative}: {suffix[1:].upper()} files are refused (they can carry scripts)"
            )
            return None
        if suffix not in MEDIA_EXTENSIONS:
            if image and suffix:
                note(line, f"{relative}: not an image kb accepts")
            return None
        if relative.startswith("/"):
            candidates = [base / relative.lstrip("/") for base in static_roots]
        else:
            candidates = [source.path.parent / relative, source.root / relative]
            candidates += media_index.get(Path(relative).name.lower(), [])
        for candidate in candidates:
            path = candidate.resolve()
            if path.is_relative_to(root) and path.is_file():
                if path.stat().st_size > MAX_MEDIA_BYTES:
                    note(line, f"{relative}: larger than {MAX_MEDIA_BYTES // 2**20} MB")
                    return None
                refusal = _refusal(path)
                if refusal:
                    note(line, f"{relative}: {refusal}")
                    return None
                found = MediaFile(path, _storage_name(path, root))
                media[found.name] = found
                if translation is not None:
                    translation.counts["images"] += 1
                return found
        if not relative.startswith("/") or static_roots:
            note(line, f"{relative}: file not found")
        return None

    def link(match: re.Match[str], line: int) -> str:
        dest = match.group("dest")
        found = locate(dest.strip("<>"), line, match.group("head").startswith("!"))
        if found is None:
            return match.group(0)
        return match.group("head") + default_storage.url(found.name) + match.group("tail")

    def html_image(match: re.Match[str], line: int) -> str:
        found = locate(html.unescape(match.group(3)), line, True)
        if found is None:
            return match.group(0)
        return match.group(1) + match.group(2) + default_storage.url(found.name) + match.group(2)

    def embed(match: re.Match[str], line: int) -> str:
        found = locate(match.group(1).strip(), line, True)
        if found is None:
            return match.group(0)
        label = (match.group(2) or "").strip()
        size = re.fullmatch(r"(\d{1,4})(?:x\d{1,4})?", label)
        alt = Path(match.group(1)).stem if not label or size else label
        image = f"![{alt}]({default_storage.url(found.name)})"
        return sized_image(image, size.group(1)) if size else image

    def change(prose: str, start: int) -> str:
        def at(pattern: re.Pattern[str], replace):
            return lambda text: pattern.sub(
                lambda m: replace(m, start + text.count("\n", 0, m.start())), text
            )

        for step in (at(_EMBED, embed), at(_MD_LINK, link), at(_HTML_IMAGE, html_image)):
            prose = step(prose)
        return prose

    body = for_prose(body, change)
    return body, list(media.values())


def _refusal(path: Path) -> str:
    """Why an image is refused, as the editor's upload would refuse it ("" if it is not): only
    whole PNG, JPEG, GIF and WebP images reach the media folder, which the site serves."""
    stat = path.stat()
    return _refusal_of(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4096)
def _refusal_of(path: Path, mtime_ns: int, size: int) -> str:
    # Remembered per version of the file: an unchanged re-import decodes nothing again.
    if path.suffix.lower() == ".pdf":
        # Uploads, restores and the media server take images only; a PDF kept here could be
        # neither served nor restored from a backup.
        return "PDF files are not copied (media holds images only); the link is left as written"
    try:
        check_image(path.read_bytes(), max_pixels=settings.KB_UPLOAD_MAX_PIXELS)
    except RejectedUpload as refused:
        return str(refused)
    return ""


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
    """Copy the files into media, without the camera's metadata (where a photo was taken), as
    the editor's upload stores them (KB_UPLOAD_KEEP_METADATA keeps it)."""
    for item in media:
        if not default_storage.exists(item.name):
            data = item.source.read_bytes()
            if not settings.KB_UPLOAD_KEEP_METADATA:
                data = without_metadata(data)
            default_storage.save(item.name, ContentFile(data))
