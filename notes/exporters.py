"""Taking everything out: every post as `<slug>.md` with front matter, the bibliography as
`references.bib` beside them (citations stay `[@key]` as written), plus the media files.

The files read back through `notes.importing` into the same posts, and exporting again gives
the same bytes: keys come in a fixed order, lists are sorted, times keep their microseconds.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.core.files.storage import default_storage
from django.utils import timezone

from notes import frontmatter
from notes.bibliography.writing import bibliography_bibtex
from notes.importing import BIBLIOGRAPHY_FILE, EXPORT_MEDIA_DIR
from notes.models import Post, Reference

Write = Callable[[str, bytes], None]
# A fixed timestamp inside the zip, so two exports of the same posts are the same bytes.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class ExportReport:
    posts: int
    media: int
    references: int = 0

    def summary(self) -> str:
        return (
            f"{self.posts} posts, {self.references} references and {self.media} media files "
            "exported"
        )


def post_front_matter(post: Post) -> dict[str, Any]:
    meta: dict[str, Any] = {"title": post.title, "slug": post.slug}
    if post.alias_list:
        meta["aliases"] = post.alias_list  # as Obsidian writes them, so both read them back
    if post.published_at is not None:
        meta["date"] = timezone.localtime(post.published_at)
    meta["lastmod"] = timezone.localtime(post.updated_at)
    if post.status == Post.Status.DRAFT:
        meta["draft"] = True
    meta["author"] = post.author.get_username()
    if post.summary:
        meta["summary"] = post.summary
    if post.source_url:
        meta["source"] = post.source_url
    if post.reference is not None:
        meta["reference"] = post.reference.key
    if post.series is not None:
        meta["series"] = post.series.title
        if post.series_order is not None:
            meta["series_order"] = post.series_order
    tags = sorted((t.name for t in post.tags.all()), key=lambda name: (name.lower(), name))
    if tags:
        meta["tags"] = tags
    links = sorted(
        (link.target.slug, link.note)
        for link in post.outgoing_links.all()
        if not link.from_wikilink
    )
    if links:
        meta["see_also"] = [{"slug": s, "note": n} if n else s for s, n in links]
    updates = sorted((n.date, n.text) for n in post.update_notes.all())
    if updates:
        meta["updates"] = [{"date": date, "text": text} for date, text in updates]
    if post.feed_entry_id:
        meta["feed_entry_id"] = post.feed_entry_id
    return meta


def _relative_media_links(body: str) -> str:
    """Links into the media storage, made relative to the export folder so they work there."""
    base = default_storage.base_url
    if not base.startswith("/"):
        return body
    pattern = re.compile(r"(\]\(\s*<?|^ {0,3}\[[^\]\n]+\]:[ \t]*<?)" + re.escape(base), re.M)
    return pattern.sub(lambda m: m.group(1) + EXPORT_MEDIA_DIR + "/", body)


def post_as_markdown(post: Post) -> str:
    return frontmatter.dump(post_front_matter(post), _relative_media_links(post.body))


def media_names(folder: str = "") -> Iterator[str]:
    """Every file in the media storage, by name, in a stable order. Hidden names are left
    out: they are kb's own working files (a restore's staging folder), never media."""
    if not default_storage.exists(folder or "."):
        return
    folders, files = default_storage.listdir(folder or ".")
    for name in sorted(f for f in files if not f.startswith(".")):
        yield f"{folder}/{name}" if folder else name
    for sub in sorted(f for f in folders if not f.startswith(".")):
        yield from media_names(f"{folder}/{sub}" if folder else sub)


def export_markdown(write: Write) -> ExportReport:
    """Hand every post (drafts too, not the trash) and every media file to `write(name, data)`."""
    posts = (
        Post.objects.not_trashed()
        .order_by("slug")
        .select_related("author", "series", "reference")
        .prefetch_related("tags", "update_notes", "outgoing_links__target")
    )
    count = 0
    for post in posts.iterator(chunk_size=500):
        write(f"{post.slug}.md", post_as_markdown(post).encode("utf-8"))
        count += 1
    references = list(Reference.objects.all())
    if references:
        write(BIBLIOGRAPHY_FILE, bibliography_bibtex(references).encode("utf-8"))
    media = 0
    for name in media_names():
        with default_storage.open(name, "rb") as handle:
            write(f"{EXPORT_MEDIA_DIR}/{name}", handle.read())
        media += 1
    return ExportReport(posts=count, media=media, references=len(references))


def export_to_directory(directory: Path) -> ExportReport:
    directory = Path(directory)

    def write(name: str, data: bytes) -> None:
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    return export_markdown(write)


def export_to_zip(file: IO[bytes]) -> ExportReport:
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def write(name: str, data: bytes) -> None:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)

        return export_markdown(write)
