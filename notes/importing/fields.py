"""Reading front-matter values: text, dates, flags, lists and the dated update notes, each
refusal naming its key's line."""

from __future__ import annotations

import datetime
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone

from notes import frontmatter
from notes.importing.posts import (
    LINK_NOTE_MAX,
    SERIES_TITLE_MAX,
    SOURCE_MAX,
    UPDATE_TEXT_MAX,
    Invalid,
)

_JEKYLL_OFFSET = re.compile(r"\s+([+-]\d{2}:?\d{2}|Z)$")


def text(doc: frontmatter.Document, key: str) -> str | None:
    if key in doc.meta and isinstance(doc.meta[key], list | dict):
        raise Invalid(f"'{key}' must be text, not a list or mapping", doc.line_of(key))
    value = doc.text(key)
    return value if value is None or value.strip() else None


def draft(doc: frontmatter.Document) -> bool:
    # Hugo and Obsidian say `draft: true`; Jekyll says `published: false`.
    for key, draft_when in (("draft", True), ("published", False)):
        if key in doc.meta:
            value = doc.meta[key]
            if not isinstance(value, bool):
                raise Invalid(f"'{key}' must be true or false", doc.line_of(key))
            return value == draft_when
    return False


def parse_moment(text: str) -> datetime.datetime:
    """`2023-01-27` (midnight) or an ISO 8601 date and time; without an offset, the site's
    time zone (KB_TIME_ZONE) is meant."""
    moment = datetime.datetime.fromisoformat(_JEKYLL_OFFSET.sub(r"\1", text.strip()))
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def moment(doc: frontmatter.Document, key: str) -> datetime.datetime:
    text = doc.text(key)
    try:
        if text is None:
            raise ValueError
        return parse_moment(text)
    except ValueError:
        raise Invalid(
            f"'{key}' is not a date like 2023-01-27 or 2023-01-27T10:00:00+01:00: {text!r}",
            doc.line_of(key),
        ) from None


def url(doc: frontmatter.Document, key: str) -> str | None:
    url = text(doc, key)
    if url is None:
        return None
    url = url.strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise Invalid(f"'{key}' is not an http(s) address: {url!r}", doc.line_of(key)) from None
    if len(url) > SOURCE_MAX:
        raise Invalid(f"'{key}' is longer than {SOURCE_MAX} characters", doc.line_of(key))
    return url


def strings(doc: frontmatter.Document, key: str, *, commas: bool = False) -> list[str]:
    """A list of names, written as a YAML list or one string (split at commas if `commas`)."""
    value = doc.meta.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        items: list[Any] = value.split(",") if commas else [value]
    elif isinstance(value, list):
        items = value
    else:
        items = [doc.text(key)]
    if any(isinstance(item, list | dict) for item in items):
        raise Invalid(f"'{key}' must be a list of names", doc.line_of(key))
    return [" ".join(str(item).split()) for item in items if item is not None and str(item).strip()]


def series(doc: frontmatter.Document) -> tuple[str | None, int | None]:
    # Hugo's taxonomies make `series` a list; kb has one series per post.
    names = strings(doc, "series")
    if len(names) > 1:
        raise Invalid("a post belongs to one series at most", doc.line_of("series"))
    if names and len(names[0]) > SERIES_TITLE_MAX:
        reason = f"the series title is longer than {SERIES_TITLE_MAX} characters"
        raise Invalid(reason, doc.line_of("series"))
    order = doc.meta.get("series_order")
    if order is not None and (isinstance(order, bool) or not isinstance(order, int) or order < 1):
        raise Invalid("'series_order' must be a whole number from 1", doc.line_of("series_order"))
    return (names[0] if names else None), order


def see_also(doc: frontmatter.Document) -> list[tuple[str, str]] | None:
    """Hand-made cross-links: slugs, or `{slug: …, note: …}` mappings."""
    if "see_also" not in doc.meta:
        return None
    value = doc.meta["see_also"] or []
    line = doc.line_of("see_also")
    if not isinstance(value, list):
        raise Invalid("'see_also' must be a list of slugs", line)
    links = []
    for item in value:
        if isinstance(item, dict) and isinstance(item.get("slug"), str):
            note = str(item.get("note") or "")
            if len(note) > LINK_NOTE_MAX:
                raise Invalid(f"a see_also note is longer than {LINK_NOTE_MAX} characters", line)
            links.append((item["slug"], note))
        elif isinstance(item, str):
            links.append((item, ""))
        else:
            raise Invalid("'see_also' entries are slugs or {slug, note} mappings", line)
    return links


def updates(doc: frontmatter.Document) -> list[tuple[datetime.date, str]] | None:
    """Dated update notes: `{date: 2023-01-24, text: …}` mappings."""
    if "updates" not in doc.meta:
        return None
    value = doc.meta["updates"] or []
    line = doc.line_of("updates")
    if not isinstance(value, list):
        raise Invalid("'updates' must be a list of {date, text} mappings", line)
    notes = []
    for item in value:
        if not isinstance(item, dict) or not str(item.get("text") or "").strip():
            raise Invalid("'updates' entries are {date, text} mappings", line)
        try:
            date = datetime.date.fromisoformat(str(item.get("date")))
        except ValueError:
            reason = f"an update's date is not like 2023-01-24: {item.get('date')!r}"
            raise Invalid(reason, line) from None
        text = " ".join(str(item["text"]).split())
        if len(text) > UPDATE_TEXT_MAX:
            raise Invalid(f"an update's text is longer than {UPDATE_TEXT_MAX} characters", line)
        notes.append((date, text))
    return notes
