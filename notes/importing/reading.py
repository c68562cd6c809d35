"""One Markdown file read into the post it describes, whatever tool wrote it."""

from __future__ import annotations

import re
from pathlib import Path

from notes import frontmatter
from notes.importing import fields
from notes.importing.files import MarkdownFile, first_heading
from notes.importing.media import embed_media
from notes.importing.posts import SLUG_MAX, SUMMARY_MAX, TITLE_MAX, Invalid, PostData
from notes.importing.tags import tags
from notes.models import MAX_BODY_CHARS
from notes.rendering import MAX_SQUARE_BRACKETS
from notes.slugs import slug_base

_SLUG = re.compile(r"^[-\w]+$")
_JEKYLL_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})-(.+)$")


def read_markdown_file(source: MarkdownFile, media_index: dict[str, list[Path]]) -> PostData:
    """Check one file and say what post it describes. Raises `Invalid` with a line."""
    try:
        doc = frontmatter.parse(frontmatter.decode(source.path.read_bytes()))
    except OSError as exc:
        raise Invalid(f"cannot be read: {exc.strerror}") from exc
    except frontmatter.FrontMatterError as exc:
        raise Invalid(exc.reason, exc.line) from exc
    meta = doc.meta
    name = source.path.parent.name if source.path.stem == "index" else source.path.stem
    jekyll = _JEKYLL_NAME.match(name)
    if jekyll:
        name = jekyll.group(2)
    body = doc.body

    title = fields.text(doc, "title")
    if not title:
        heading, body = first_heading(body)
        title = heading or name
    title = " ".join(title.split())
    if len(title) > TITLE_MAX:
        raise Invalid(f"the title is longer than {TITLE_MAX} characters", doc.line_of("title"))

    slug = fields.text(doc, "slug")
    if slug is None:
        slug = slug_base(name, SLUG_MAX)
    elif not _SLUG.match(slug) or len(slug) > SLUG_MAX:
        raise Invalid(
            f"the slug {slug!r} must be letters, digits and hyphens, at most {SLUG_MAX}",
            doc.line_of("slug"),
        )

    data = PostData(path=source.label, title=title, slug=slug, body=body, name=name)
    data.draft = fields.draft(doc)
    if "date" in meta:
        data.published_at = fields.moment(doc, "date")
    elif jekyll:
        data.published_at = fields.parse_moment(jekyll.group(1))
    for key in ("lastmod", "updated"):
        if key in meta:
            data.updated_at = fields.moment(doc, key)
            break
    data.summary = fields.text(doc, "summary") or fields.text(doc, "description") or ""
    data.summary = data.summary.strip()
    if len(data.summary) > SUMMARY_MAX:
        key = "summary" if "summary" in meta else "description"
        raise Invalid(f"the {key} is longer than {SUMMARY_MAX} characters", doc.line_of(key))
    data.author = fields.text(doc, "author")
    data.source_url = fields.url(doc, "source") or ""
    data.series, data.series_order = fields.series(doc)
    data.tags = tags(doc, body)
    data.aliases = fields.strings(doc, "aliases")
    data.see_also = fields.see_also(doc)
    data.updates = fields.updates(doc)
    data.feed_entry_id = fields.text(doc, "feed_entry_id") or ""
    if len(body) > MAX_BODY_CHARS:
        raise Invalid(f"the body is longer than {MAX_BODY_CHARS:,} characters")
    if body.count("[") > MAX_SQUARE_BRACKETS:
        raise Invalid(f"the body has more than {MAX_SQUARE_BRACKETS:,} '[' characters")
    data.body, data.media = embed_media(body, source, media_index)
    return data
