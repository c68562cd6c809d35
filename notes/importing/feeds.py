"""RSS and Atom feeds: each entry a summary of someone else's work, linking to it."""

from __future__ import annotations

import datetime
import html
import re
from collections.abc import Sequence
from html.parser import HTMLParser
from typing import Any

import feedparser
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from notes import services
from notes.fetching import FetchError, fetch
from notes.importing.posts import (
    FEED_ENTRY_ID_MAX,
    SOURCE_MAX,
    SUMMARY_MAX,
    TAG_MAX,
    TITLE_MAX,
    PostData,
)
from notes.importing.report import ImportReport, InvalidImport, Problem, Progress
from notes.importing.translation import Translation
from notes.importing.writing import Lookups
from notes.models import Post

MAX_FEED_BYTES = 10 * 1024 * 1024
FEED_TIMEOUT_SECONDS = 15


def fetch_feed(url: str) -> bytes:
    """A feed's bytes from the web, fetched as capture fetches pages (notes/fetching.py): only
    from public addresses, checked after DNS and on every redirect, bounded in time and size."""
    try:
        return fetch(
            url,
            max_bytes=MAX_FEED_BYTES,
            timeout=FEED_TIMEOUT_SECONDS,
            accept="application/atom+xml, application/rss+xml, application/xml;q=0.9, */*;q=0.5",
        ).content
    except FetchError as error:
        raise InvalidImport([Problem(url, str(error))]) from error


class _TextExtractor(HTMLParser):
    BLOCKS = frozenset({"p", "div", "br", "li", "blockquote", "h1", "h2", "h3", "h4", "pre", "tr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in {"script", "style"}:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"}:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_to_paragraphs(markup: str) -> list[str]:
    """The readable text of a feed's HTML, as paragraphs."""
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    text = "".join(parser.parts)
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def _as_markdown(paragraphs: Sequence[str]) -> str:
    # Feed text is prose, not Markdown: escape what Markdown would read as markup.
    escaped = (re.sub(r"([\\`*_\[\]<>#])", r"\\\1", p) for p in paragraphs)
    return "\n\n".join(escaped) + "\n"


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,.;:") + "…"


def read_feed(data: bytes, label: str) -> tuple[list[PostData], list[Problem]]:
    """The entries of an RSS or Atom feed as posts: summaries of someone else's work."""
    parsed = feedparser.parse(data)
    if not parsed.entries and (parsed.bozo or not parsed.get("version")):
        reason = getattr(parsed, "bozo_exception", None) or "no entries found"
        raise InvalidImport([Problem(label, f"not an RSS or Atom feed: {reason}")])
    posts, problems, notes, seen = [], [], [], set()
    validate = URLValidator(schemes=["http", "https"])
    for number, entry in enumerate(parsed.entries, start=1):
        where = f"{label} entry {number}"
        link = (entry.get("link") or "").strip()
        try:
            validate(link)
        except ValidationError:
            problems.append(Problem(where, f"the entry has no http(s) link: {link!r}"))
            continue
        entry_id = (entry.get("id") or link).strip()
        if entry_id in seen or link in seen:
            problems.append(Problem(where, "the entry appears twice in the feed"))
            continue
        seen |= {entry_id, link}
        title = " ".join(html.unescape(entry.get("title") or "").split()) or link
        content = entry.get("content") or []
        markup = content[0].get("value", "") if content else entry.get("summary", "")
        paragraphs = html_to_paragraphs(markup)
        summary_paragraphs = html_to_paragraphs(entry.get("summary", "")) or paragraphs
        moment = entry.get("published_parsed") or entry.get("updated_parsed")
        posts.append(
            PostData(
                path=where,
                title=_shorten(title, TITLE_MAX),
                slug="",
                body=_as_markdown(paragraphs) if paragraphs else f"<{link}>\n",
                summary=_shorten(" ".join(summary_paragraphs), SUMMARY_MAX),
                source_url=link[:SOURCE_MAX],
                published_at=datetime.datetime(*moment[:6], tzinfo=datetime.UTC)
                if moment
                else None,
                tags=_categories(entry, where, notes),
                feed_entry_id=entry_id[:FEED_ENTRY_ID_MAX],
            )
        )
    if posts and notes:
        posts[0].translation = Translation(label, 0, notes=notes)
    return posts, problems


def _categories(entry: Any, where: str, notes: list[Problem]) -> list[str]:
    """An entry's categories as tags; one too long for a tag is left out and noted here, in the
    dry run, rather than failing when the import is confirmed."""
    names = []
    for term in entry.get("tags", []):
        name = " ".join(str(term.get("term") or "").split())
        if len(name) > TAG_MAX:
            notes.append(Problem(where, f"the category {name[:60]!r}… is longer than a tag may be"))
        elif name:
            names.append(name)
    return list(dict.fromkeys(names))


def import_feed(
    data: bytes,
    *,
    label: str,
    author,
    extra_tags: Sequence[str] = (),
    draft: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a feed's entries as posts; an entry already imported (same entry id or link) is
    left as it is, so the author's own notes on it survive a re-import."""
    long_tags = [tag for tag in extra_tags if len(tag) > TAG_MAX]
    if long_tags:
        raise InvalidImport([Problem(label, f"the tag {long_tags[0]!r} is longer than {TAG_MAX}")])
    posts, problems = read_feed(data, label)
    report = ImportReport(dry_run=dry_run, skipped=problems)
    report.warnings = posts[0].translation.notes if posts and posts[0].translation else []
    lookups = Lookups(author, dry_run=dry_run)
    known = _already_imported(posts)
    with transaction.atomic():
        for done, data_ in enumerate(posts, start=1):
            match = known.get(data_.feed_entry_id) or known.get(data_.source_url)
            if match is not None:
                report.unchanged.append(match)
            elif dry_run:
                report.created.append(data_.title)
            else:
                post = Post(
                    title=data_.title,
                    body=data_.body,
                    summary=data_.summary,
                    source_url=data_.source_url,
                    feed_entry_id=data_.feed_entry_id,
                    status=Post.Status.DRAFT if draft else Post.Status.PUBLISHED,
                    published_at=data_.published_at,
                    author=author,
                )
                services.save_post(post, tags=lookups.tag_list([*data_.tags, *extra_tags]))
                report.created.append(post.slug)
            if progress:
                progress(done, len(posts))
    return report


def _already_imported(posts: list[PostData]) -> dict[str, str]:
    """The slug of each post that came from one of these entries, by entry id and by link."""
    ids = [p.feed_entry_id for p in posts]
    links = [p.source_url for p in posts]
    known: dict[str, str] = {}
    for start in range(0, len(posts), 400):
        rows = Post.objects.filter(
            feed_entry_id__in=ids[start : start + 400]
        ) | Post.objects.filter(source_url__in=links[start : start + 400])
        for slug, entry_id, source in rows.values_list("slug", "feed_entry_id", "source_url"):
            if entry_id:
                known[entry_id] = slug
            known[source] = slug
    return known
