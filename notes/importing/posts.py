"""What one source file says a post should be, before anything is written, and the limits it
is checked against."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from notes.models import Link, Post, Series, Tag, UpdateNote

_field = Post._meta.get_field
TITLE_MAX = _field("title").max_length
SLUG_MAX = _field("slug").max_length
SUMMARY_MAX = _field("summary").max_length
SOURCE_MAX = _field("source_url").max_length
FEED_ENTRY_ID_MAX = _field("feed_entry_id").max_length
TAG_MAX = Tag._meta.get_field("name").max_length
UPDATE_TEXT_MAX = UpdateNote._meta.get_field("text").max_length
# Checked while reading, so the dry run on PostgreSQL (which enforces lengths, unlike SQLite)
# refuses what the real run would fail on.
SERIES_TITLE_MAX = Series._meta.get_field("title").max_length
LINK_NOTE_MAX = Link._meta.get_field("note").max_length


@dataclass(frozen=True)
class MediaFile:
    source: Path
    name: str  # its name in the media storage


@dataclass
class PostData:
    """What one Markdown file or feed entry says a post should be, checked and normalized."""

    path: str
    title: str
    slug: str
    body: str
    draft: bool = False
    published_at: datetime.datetime | None = None
    updated_at: datetime.datetime | None = None
    summary: str = ""
    author: str | None = None
    source_url: str = ""
    reference: str = ""  # the citation key of the paper a summary post is about
    bibliography: list[Path] = field(default_factory=list)  # .bib files its front matter names
    series: str | None = None
    series_order: int | None = None
    tags: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    # None when the file doesn't say, so links and notes made in the admin are kept.
    see_also: list[tuple[str, str]] | None = None
    updates: list[tuple[datetime.date, str]] | None = None
    feed_entry_id: str = ""
    name: str = ""  # the file name without extension, which Obsidian links by
    media: list[MediaFile] = field(default_factory=list)
    # Addresses the post had where it came from, which will redirect to it.
    redirects: list[str] = field(default_factory=list)
    # What translating the file's dialect carried over and what it could not (a Translation).
    translation: Any = None


class Invalid(Exception):
    def __init__(self, reason: str, line: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.line = line
