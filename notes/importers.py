"""Bringing notes in: folders of Markdown files with front matter, and RSS or Atom feeds.

Every import reads and checks all of its input first and writes nothing until that pass is
over, so by default one bad file leaves the database as it was. Posts are then written through
`services.save_post`, the same path as the admin, inside one transaction.
"""

from __future__ import annotations

import datetime
import hashlib
import html
import re
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import feedparser
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_valid_filename, slugify

from notes import frontmatter, services, site_state
from notes.models import MAX_BODY_CHARS, Link, Post, Series, Tag, UpdateNote
from notes.rendering import MAX_SQUARE_BRACKETS
from notes.slugs import slug_base

# Files a post may embed or link to by relative path. SVG is left out: it can carry scripts and
# media is served from the site's own origin.
MEDIA_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".pdf"})
MAX_MEDIA_BYTES = 25 * 1024 * 1024
MAX_FEED_BYTES = 10 * 1024 * 1024
FEED_TIMEOUT_SECONDS = 15
# Where media goes in an export; importing an export puts each file back under the same name.
EXPORT_MEDIA_DIR = "media"

Progress = Callable[[int, int], None]

_field = Post._meta.get_field
TITLE_MAX = _field("title").max_length
SLUG_MAX = _field("slug").max_length
SUMMARY_MAX = _field("summary").max_length
SOURCE_MAX = _field("source_url").max_length
TAG_MAX = Tag._meta.get_field("name").max_length
UPDATE_TEXT_MAX = UpdateNote._meta.get_field("text").max_length

_SLUG = re.compile(r"^[-\w]+$")
_JEKYLL_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})-(.+)$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_INLINE_CODE = re.compile(r"(`+).+?\1")
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_INLINE_TAG = re.compile(r"(?:^|(?<=[\s(,;]))#([\w][\w/-]*)")
_WIKILINK = re.compile(r"(?<!!)\[\[([^\[\]\n|#]*)((?:#[^\[\]\n|]*)?)((?:\|[^\[\]\n]*)?)\]\]")
_EMBED = re.compile(r"!\[\[([^\[\]\n|#]+)(?:\|([^\[\]\n]*))?\]\]")
_MD_LINK = re.compile(
    r"(?P<head>!?\[(?:[^\[\]\n]|\[[^\]\n]*\])*\]\()[ \t]*"
    r"(?P<dest><[^<>\n]+>|[^\s()<>]+)"
    r"(?P<tail>(?:[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'))?[ \t]*\))"
)
_JEKYLL_OFFSET = re.compile(r"\s+([+-]\d{2}:?\d{2}|Z)$")


@dataclass(frozen=True)
class Problem:
    """Why one file or feed entry can't be imported, or a note about something left as is."""

    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.reason}"


class InvalidImport(Exception):
    """The input has problems and nothing was written."""

    def __init__(self, problems: Sequence[Problem]):
        super().__init__(f"{len(problems)} invalid file(s); nothing was imported")
        self.problems = list(problems)


@dataclass
class ImportReport:
    dry_run: bool = False
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def summary(self) -> str:
        verb = "would be " if self.dry_run else ""
        return (
            f"{len(self.created)} {verb}created, {len(self.updated)} {verb}updated, "
            f"{len(self.unchanged)} unchanged, {len(self.skipped)} skipped"
        )


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


class _Invalid(Exception):
    def __init__(self, reason: str, line: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.line = line


# --- Reading Markdown files ------------------------------------------------------------------


@dataclass(frozen=True)
class MarkdownFile:
    path: Path
    root: Path  # relative media paths may not leave it
    label: str  # how reports name the file


def find_markdown_files(paths: Iterable[Path]) -> list[MarkdownFile]:
    """The `.md` files named or found (recursively) in folders, skipping hidden ones such as
    `.obsidian/` and `.git/`."""
    found: list[MarkdownFile] = []
    for given in paths:
        given = Path(given)
        if given.is_dir():
            for path in sorted(given.rglob("*.md")):
                relative = path.relative_to(given)
                if path.is_file() and not any(p.startswith(".") for p in relative.parts):
                    found.append(MarkdownFile(path, given, relative.as_posix()))
        else:
            found.append(MarkdownFile(given, given.parent, str(given)))
    return found


def read_markdown_file(source: MarkdownFile, media_index: dict[str, list[Path]]) -> PostData:
    """Check one file and say what post it describes. Raises `_Invalid` with a line."""
    try:
        doc = frontmatter.parse(frontmatter.decode(source.path.read_bytes()))
    except OSError as exc:
        raise _Invalid(f"cannot be read: {exc.strerror}") from exc
    except frontmatter.FrontMatterError as exc:
        raise _Invalid(exc.reason, exc.line) from exc
    meta = doc.meta
    name = source.path.parent.name if source.path.stem == "index" else source.path.stem
    jekyll = _JEKYLL_NAME.match(name)
    if jekyll:
        name = jekyll.group(2)
    body = doc.body

    title = _text(doc, "title")
    if not title:
        heading, body = _first_heading(body)
        title = heading or name
    title = " ".join(title.split())
    if len(title) > TITLE_MAX:
        raise _Invalid(f"the title is longer than {TITLE_MAX} characters", doc.line_of("title"))

    slug = _text(doc, "slug")
    if slug is None:
        slug = slug_base(name, SLUG_MAX)
    elif not _SLUG.match(slug) or len(slug) > SLUG_MAX:
        raise _Invalid(
            f"the slug {slug!r} must be letters, digits and hyphens, at most {SLUG_MAX}",
            doc.line_of("slug"),
        )

    data = PostData(path=source.label, title=title, slug=slug, body=body, name=name)
    data.draft = _draft(doc)
    if "date" in meta:
        data.published_at = _moment(doc, "date")
    elif jekyll:
        data.published_at = _parse_moment(jekyll.group(1))
    for key in ("lastmod", "updated"):
        if key in meta:
            data.updated_at = _moment(doc, key)
            break
    data.summary = _text(doc, "summary") or _text(doc, "description") or ""
    data.summary = data.summary.strip()
    if len(data.summary) > SUMMARY_MAX:
        key = "summary" if "summary" in meta else "description"
        raise _Invalid(f"the {key} is longer than {SUMMARY_MAX} characters", doc.line_of(key))
    data.author = _text(doc, "author")
    data.source_url = _url(doc, "source") or ""
    data.series, data.series_order = _series(doc)
    data.tags = _tags(doc, body)
    data.aliases = _strings(doc, "aliases")
    data.see_also = _see_also(doc)
    data.updates = _updates(doc)
    data.feed_entry_id = _text(doc, "feed_entry_id") or ""
    if len(body) > MAX_BODY_CHARS:
        raise _Invalid(f"the body is longer than {MAX_BODY_CHARS:,} characters")
    if body.count("[") > MAX_SQUARE_BRACKETS:
        raise _Invalid(f"the body has more than {MAX_SQUARE_BRACKETS:,} '[' characters")
    data.body, data.media = _embed_media(body, source, media_index)
    return data


def _text(doc: frontmatter.Document, key: str) -> str | None:
    if key in doc.meta and isinstance(doc.meta[key], list | dict):
        raise _Invalid(f"'{key}' must be text, not a list or mapping", doc.line_of(key))
    value = doc.text(key)
    return value if value is None or value.strip() else None


def _draft(doc: frontmatter.Document) -> bool:
    # Hugo and Obsidian say `draft: true`; Jekyll says `published: false`.
    for key, draft_when in (("draft", True), ("published", False)):
        if key in doc.meta:
            value = doc.meta[key]
            if not isinstance(value, bool):
                raise _Invalid(f"'{key}' must be true or false", doc.line_of(key))
            return value == draft_when
    return False


def _parse_moment(text: str) -> datetime.datetime:
    """`2023-01-27` (midnight) or an ISO 8601 date and time; without an offset, the site's
    time zone (KB_TIME_ZONE) is meant."""
    moment = datetime.datetime.fromisoformat(_JEKYLL_OFFSET.sub(r"\1", text.strip()))
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def _moment(doc: frontmatter.Document, key: str) -> datetime.datetime:
    text = doc.text(key)
    try:
        if text is None:
            raise ValueError
        return _parse_moment(text)
    except ValueError:
        raise _Invalid(
            f"'{key}' is not a date like 2023-01-27 or 2023-01-27T10:00:00+01:00: {text!r}",
            doc.line_of(key),
        ) from None


def _url(doc: frontmatter.Document, key: str) -> str | None:
    url = _text(doc, key)
    if url is None:
        return None
    url = url.strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise _Invalid(f"'{key}' is not an http(s) address: {url!r}", doc.line_of(key)) from None
    if len(url) > SOURCE_MAX:
        raise _Invalid(f"'{key}' is longer than {SOURCE_MAX} characters", doc.line_of(key))
    return url


def _strings(doc: frontmatter.Document, key: str, *, commas: bool = False) -> list[str]:
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
        raise _Invalid(f"'{key}' must be a list of names", doc.line_of(key))
    return [" ".join(str(item).split()) for item in items if item is not None and str(item).strip()]


def _series(doc: frontmatter.Document) -> tuple[str | None, int | None]:
    # Hugo's taxonomies make `series` a list; kb has one series per post.
    names = _strings(doc, "series")
    if len(names) > 1:
        raise _Invalid("a post belongs to one series at most", doc.line_of("series"))
    order = doc.meta.get("series_order")
    if order is not None and (isinstance(order, bool) or not isinstance(order, int) or order < 1):
        raise _Invalid("'series_order' must be a whole number from 1", doc.line_of("series_order"))
    return (names[0] if names else None), order


def _tags(doc: frontmatter.Document, body: str) -> list[str]:
    names = [name.lstrip("#") for name in _strings(doc, "tags", commas=True)]
    names += _inline_tags(body)
    for name in names:
        if len(name) > TAG_MAX:
            raise _Invalid(f"the tag {name!r} is longer than {TAG_MAX} characters")
    unique: dict[str, str] = {}
    for name in names:
        if name:
            unique.setdefault(name.lower(), name)
    return list(unique.values())


def _inline_tags(body: str) -> list[str]:
    """Obsidian's `#tags` in the text, but not `# headings`, `#2023`, URLs' #fragments or code."""
    found: list[str] = []

    def collect(prose: str) -> str:
        for match in _INLINE_TAG.finditer(prose):
            name = match.group(1).rstrip("/-")
            if any(c.isalpha() for c in name):
                found.append(name)
        return prose

    _outside_code(body, collect)
    return found


def _see_also(doc: frontmatter.Document) -> list[tuple[str, str]] | None:
    """Hand-made cross-links: slugs, or `{slug: …, note: …}` mappings."""
    if "see_also" not in doc.meta:
        return None
    value = doc.meta["see_also"] or []
    line = doc.line_of("see_also")
    if not isinstance(value, list):
        raise _Invalid("'see_also' must be a list of slugs", line)
    links = []
    for item in value:
        if isinstance(item, dict) and isinstance(item.get("slug"), str):
            links.append((item["slug"], str(item.get("note") or "")))
        elif isinstance(item, str):
            links.append((item, ""))
        else:
            raise _Invalid("'see_also' entries are slugs or {slug, note} mappings", line)
    return links


def _updates(doc: frontmatter.Document) -> list[tuple[datetime.date, str]] | None:
    """Dated update notes: `{date: 2023-01-24, text: …}` mappings."""
    if "updates" not in doc.meta:
        return None
    value = doc.meta["updates"] or []
    line = doc.line_of("updates")
    if not isinstance(value, list):
        raise _Invalid("'updates' must be a list of {date, text} mappings", line)
    notes = []
    for item in value:
        if not isinstance(item, dict) or not str(item.get("text") or "").strip():
            raise _Invalid("'updates' entries are {date, text} mappings", line)
        try:
            date = datetime.date.fromisoformat(str(item.get("date")))
        except ValueError:
            reason = f"an update's date is not like 2023-01-24: {item.get('date')!r}"
            raise _Invalid(reason, line) from None
        text = " ".join(str(item["text"]).split())
        if len(text) > UPDATE_TEXT_MAX:
            raise _Invalid(f"an update's text is longer than {UPDATE_TEXT_MAX} characters", line)
        notes.append((date, text))
    return notes


def _outside_code(markdown: str, change: Callable[[str], str]) -> str:
    """`markdown` with `change` applied to its prose only: fenced blocks and `code spans` are
    passed through untouched, since tags and links written there are examples, not links."""
    out: list[str] = []
    prose: list[str] = []
    fence: str | None = None

    def flush() -> None:
        text = "".join(prose)
        pieces, last = [], 0
        for match in _INLINE_CODE.finditer(text):
            pieces += [change(text[last : match.start()]), match.group(0)]
            last = match.end()
        pieces.append(change(text[last:]))
        out.append("".join(pieces))
        prose.clear()

    for line in markdown.splitlines(keepends=True):
        opener = _FENCE.match(line)
        if fence is None and opener:
            flush()
            fence = opener.group(1)
            out.append(line)
        elif fence is not None:
            out.append(line)
            if line.strip().startswith(fence[0] * len(fence)) and not line.strip().strip(fence[0]):
                fence = None
        else:
            prose.append(line)
    flush()
    return "".join(out)


def _first_heading(body: str) -> tuple[str | None, str]:
    """The first heading's text; a `# Title` opening the body is taken out of it, since the page
    shows the title above the body."""
    lines = body.splitlines(keepends=True)
    fence = None
    for i, line in enumerate(lines):
        if _FENCE.match(line):
            fence = None if fence else line
            continue
        match = None if fence else _HEADING.match(line.rstrip("\r\n"))
        if match:
            opening = all(not earlier.strip() for earlier in lines[:i])
            if opening and len(match.group(1)) == 1:
                return match.group(2), "".join(lines[i + 1 :]).lstrip("\r\n")
            return match.group(2), body
    return None, body


# --- Media referenced by relative path -------------------------------------------------------


def _index_media(root: Path) -> dict[str, list[Path]]:
    """Media files under `root` by lower-cased name: Obsidian finds `![[x.png]]` anywhere."""
    index: dict[str, list[Path]] = defaultdict(list)
    for path in root.rglob("*"):
        if path.suffix.lower() in MEDIA_EXTENSIONS and path.is_file():
            index[path.name.lower()].append(path)
    return index


def _embed_media(
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

    body = _outside_code(body, lambda prose: _MD_LINK.sub(link, _EMBED.sub(embed, prose)))
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


def _copy_media(media: Iterable[MediaFile]) -> None:
    for item in media:
        if not default_storage.exists(item.name):
            with item.source.open("rb") as handle:
                default_storage.save(item.name, File(handle))


# --- Checking an import as a whole -----------------------------------------------------------


def _check_together(posts: list[PostData]) -> list[Problem]:
    """Problems no single file shows: two files with one slug, or one series part."""
    problems = []
    by_slug: dict[str, list[PostData]] = defaultdict(list)
    for data in posts:
        by_slug[data.slug].append(data)
    for slug, same in by_slug.items():
        for data in same if len(same) > 1 else []:
            others = ", ".join(o.path for o in same if o is not data)
            problems.append(Problem(data.path, f"the slug {slug!r} is also used by {others}"))
    parts = Counter(
        (d.series.lower(), d.series_order) for d in posts if d.series and d.series_order
    )
    for data in posts:
        if data.series and parts[(data.series.lower(), data.series_order)] > 1:
            problems.append(
                Problem(data.path, f"another file is part {data.series_order} of {data.series!r}")
            )
    return problems


def _link_by_slug(posts: list[PostData]) -> None:
    """Rewrite wikilinks that name a note by file name or alias, as Obsidian allows, to name its
    slug; the label keeps what the author wrote. Links that already resolve are left alone."""
    resolves = {d.slug for d in posts} | {d.title.lower() for d in posts}
    other_names: dict[str, str] = {}
    for data in posts:
        for name in [data.name, *data.aliases]:
            other_names.setdefault(name.lower(), data.slug)

    def relink(match: re.Match[str]) -> str:
        target, anchor, label = match.group(1).strip(), match.group(2), match.group(3)
        if not target or target in resolves or target.lower() in resolves:
            return match.group(0)
        slug = other_names.get(target.lower())
        if slug is None:
            return match.group(0)
        return f"[[{slug}{anchor}{label or '|' + target}]]"

    for data in posts:
        if "[[" in data.body:
            data.body = _outside_code(data.body, lambda prose: _WIKILINK.sub(relink, prose))


def _targets_first(posts: list[PostData]) -> list[PostData]:
    """The posts ordered so that a wikilink's target is saved before the post linking to it
    (cycles are cut anywhere). Saved the other way round, each post would be rendered with a
    broken link and then re-rendered when its target arrives, doubling the work."""
    by_name: dict[str, PostData] = {}
    for data in posts:
        by_name.setdefault(data.slug, data)
        by_name.setdefault(data.title.lower(), data)
    ordered: list[PostData] = []
    seen: set[int] = set()
    for start in posts:
        # An explicit stack: a long chain of links must not hit Python's recursion limit.
        stack = [(start, iter(_wikilink_targets(start.body)))]
        if id(start) in seen:
            continue
        seen.add(id(start))
        while stack:
            data, targets = stack[-1]
            for target in targets:
                found = by_name.get(target) or by_name.get(target.lower())
                if found is not None and id(found) not in seen:
                    seen.add(id(found))
                    stack.append((found, iter(_wikilink_targets(found.body))))
                    break
            else:
                ordered.append(data)
                stack.pop()
    return ordered


def _wikilink_targets(body: str) -> list[str]:
    if "[[" not in body:
        return []
    return [m.group(1).strip() for m in _WIKILINK.finditer(body) if m.group(1).strip()]


# --- Writing ---------------------------------------------------------------------------------


class _Lookups:
    """Tags, series and authors found or created once per import rather than once per post."""

    def __init__(self, default_author, *, dry_run: bool):
        self.default_author = default_author
        self.dry_run = dry_run
        self.tags: dict[str, Tag] = {}
        self.users: dict[str, Any] = {}

    def tag_list(self, names: Iterable[str]) -> list[Tag]:
        wanted = {" ".join(n.split()).lower(): " ".join(n.split()) for n in names if n.strip()}
        missing = [name for key, name in wanted.items() if key not in self.tags]
        # Matched case-insensitively, so "ML" finds the tag "ml".
        for tag in services.get_or_create_tags(missing):
            self.tags[tag.name.lower()] = tag
        return [self.tags[key] for key in wanted]

    def series(self, title: str | None) -> Series | None:
        if not title:
            return None
        slug = slug_base(title, Series._meta.get_field("slug").max_length)
        found = Series.objects.filter(title__iexact=title).first()
        found = found or Series.objects.filter(slug=slug).first()
        return found or Series.objects.create(title=title, slug=slug)

    def author(self, name: str | None):
        """The user a file names, by username or full name; created without a password (so
        unable to log in) when there is none, which keeps an export's authors on re-import."""
        if not name:
            return self.default_author
        if name not in self.users:
            users = get_user_model().objects
            found = users.filter(username=name).first()
            if found is None:
                first, _, last = name.partition(" ")
                found = users.filter(first_name=first, last_name=last).first()
            if found is None:
                username = name if re.fullmatch(r"[\w.@+-]{1,150}", name) else slugify(name)
                first, last = ("", "") if username == name else (first, last)
                found = users.create_user(
                    username=username or "author", first_name=first, last_name=last
                )
            self.users[name] = found
        return self.users[name]


def _is_unchanged(post: Post, data: PostData, author) -> bool:
    current_links = sorted(
        (link.target.slug, link.note)
        for link in post.outgoing_links.all()
        if not link.from_wikilink
    )
    checks = [
        post.title == data.title,
        post.body == data.body,
        post.summary == data.summary,
        post.source_url == data.source_url,
        post.status == (Post.Status.DRAFT if data.draft else Post.Status.PUBLISHED),
        data.published_at is None or post.published_at == data.published_at,
        data.updated_at is None or post.updated_at == data.updated_at,
        data.author is None or post.author_id == author.pk,
        (post.series.title.lower() if post.series else None)
        == (data.series.lower() if data.series else None),
        post.series_order == data.series_order,
        {t.name.lower() for t in post.tags.all()} == {t.lower() for t in data.tags},
        data.updates is None
        or sorted((n.date, n.text) for n in post.update_notes.all()) == sorted(data.updates),
        data.see_also is None or current_links == sorted(data.see_also),
        post.feed_entry_id == data.feed_entry_id,
        post.trashed_at is None,
        all(default_storage.exists(m.name) for m in data.media),
    ]
    return all(checks)


def _existing(slugs: Sequence[str]) -> dict[str, Post]:
    found: dict[str, Post] = {}
    for start in range(0, len(slugs), 500):
        posts = (
            Post.objects.filter(slug__in=slugs[start : start + 500])
            .select_related("series", "author")
            .prefetch_related("tags", "update_notes", "outgoing_links__target")
        )
        found.update((p.slug, p) for p in posts)
    return found


def _write(
    posts: list[PostData],
    report: ImportReport,
    lookups: _Lookups,
    progress: Progress | None,
) -> None:
    existing = _existing([d.slug for d in posts])
    linked: list[tuple[Post, PostData]] = []
    for done, data in enumerate(posts, start=1):
        post = existing.get(data.slug)
        author = lookups.author(data.author) if not lookups.dry_run or data.author is None else None
        if post is not None and _is_unchanged(post, data, author or post.author):
            report.unchanged.append(data.slug)
        else:
            (report.updated if post else report.created).append(data.slug)
            if not lookups.dry_run:
                linked.append((_save(post or Post(slug=data.slug), data, lookups, author), data))
        if progress:
            progress(done, len(posts))
    for post, data in linked:
        _set_see_also(post, data, report)


def _save(post: Post, data: PostData, lookups: _Lookups, author) -> Post:
    _copy_media(data.media)
    post.title = data.title
    post.body = data.body
    post.summary = data.summary
    post.source_url = data.source_url
    post.feed_entry_id = data.feed_entry_id
    # Importing a file whose post is in the trash means the author wants it back.
    post.trashed_at = None
    post.status = Post.Status.DRAFT if data.draft else Post.Status.PUBLISHED
    if data.published_at is not None:
        post.published_at = data.published_at
    if data.author is not None or post.pk is None:
        post.author = author
    post.series = lookups.series(data.series)
    post.series_order = data.series_order
    services.save_post(post, tags=lookups.tag_list(data.tags))
    if data.updated_at is not None:
        # updated_at is auto_now; the file's lastmod is the truth about when it last changed.
        Post.objects.filter(pk=post.pk).update(updated_at=data.updated_at)
        post.updated_at = data.updated_at
    if data.updates is not None and sorted(
        (n.date, n.text) for n in post.update_notes.all()
    ) != sorted(data.updates):
        post.update_notes.all().delete()
        UpdateNote.objects.bulk_create(
            UpdateNote(post=post, date=date, text=text) for date, text in data.updates
        )
    # The two writes above send no signals; the page cache must still hear of them.
    site_state.mark_changed()
    return post


def _set_see_also(post: Post, data: PostData, report: ImportReport) -> None:
    """Hand-made links, written once every post of the import exists to be linked to."""
    if data.see_also is None:
        return
    Link.objects.filter(source=post, from_wikilink=False).delete()
    taken = set(Link.objects.filter(source=post).values_list("target__slug", flat=True))
    targets = Post.objects.in_bulk([slug for slug, _ in data.see_also], field_name="slug")
    for slug, note in data.see_also:
        target = targets.get(slug)
        if target is None or target.pk == post.pk:
            report.warnings.append(Problem(data.path, f"see_also: no other post has slug {slug!r}"))
        elif slug not in taken:
            Link.objects.create(source=post, target=target, note=note)
            taken.add(slug)


def _run(
    posts: list[PostData],
    problems: list[Problem],
    *,
    author,
    skip_invalid: bool,
    dry_run: bool,
    progress: Progress | None,
) -> ImportReport:
    report = ImportReport(dry_run=dry_run)
    if problems and not skip_invalid:
        raise InvalidImport(problems)
    report.skipped = problems
    lookups = _Lookups(author, dry_run=dry_run)
    if dry_run:
        _write(posts, report, lookups, progress)
    else:
        with transaction.atomic():
            _write(posts, report, lookups, progress)
    return report


def import_markdown(
    paths: Iterable[Path],
    *,
    author,
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import Markdown files and folders; posts are matched to existing ones by slug.

    `author` writes the posts whose front matter names nobody (None: every file must name one).
    Raises `InvalidImport`, having written nothing, when any file is invalid, unless
    `skip_invalid` is set.
    """
    paths = [Path(p) for p in paths]
    files = find_markdown_files(paths)
    # Only folders given are searched for media by name; a lone file's folder may be $HOME.
    media_indexes = defaultdict(dict, {p: _index_media(p) for p in paths if p.is_dir()})
    posts: list[PostData] = []
    problems: list[Problem] = []
    for source in files:
        try:
            posts.append(read_markdown_file(source, media_indexes[source.root]))
        except _Invalid as exc:
            problems.append(Problem(source.label, exc.reason, exc.line))
    together = _check_together(posts)
    bad = {p.path for p in together}
    problems += together
    posts = [d for d in posts if d.path not in bad]
    if author is None:
        problems += [
            Problem(d.path, "no author: name one in the front matter or pass an author")
            for d in posts
            if d.author is None
        ]
    _link_by_slug(posts)
    problems += _series_conflicts(posts)
    bad = {p.path for p in problems}
    posts = _targets_first([d for d in posts if d.path not in bad])
    return _run(
        posts,
        problems,
        author=author,
        skip_invalid=skip_invalid,
        dry_run=dry_run,
        progress=progress,
    )


def _series_conflicts(posts: list[PostData]) -> list[Problem]:
    """Series parts already held by a post that this import does not bring."""
    slugs = {d.slug for d in posts}
    held = {
        (title.lower(), order): slug
        for title, order, slug in Post.objects.filter(
            series__isnull=False, series_order__isnull=False
        )
        .values_list("series__title", "series_order", "slug")
        .iterator()
    }
    problems = []
    for data in posts:
        holder = held.get(((data.series or "").lower(), data.series_order))
        if data.series and holder and holder not in slugs and holder != data.slug:
            problems.append(
                Problem(data.path, f"part {data.series_order} of {data.series!r} is {holder!r}")
            )
    return problems


# --- Feeds -----------------------------------------------------------------------------------


def fetch_feed(url: str) -> bytes:
    """A feed's bytes from the web, with a timeout and a size cap."""
    request = urllib.request.Request(url, headers={"User-Agent": "kb feed import"})
    with urllib.request.urlopen(request, timeout=FEED_TIMEOUT_SECONDS) as response:
        data = response.read(MAX_FEED_BYTES + 1)
    if len(data) > MAX_FEED_BYTES:
        raise InvalidImport([Problem(url, f"the feed is larger than {MAX_FEED_BYTES:,} bytes")])
    return data


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
    posts, problems, seen = [], [], set()
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
                tags=list(
                    dict.fromkeys(t["term"].strip() for t in entry.get("tags", []) if t.get("term"))
                ),
                feed_entry_id=entry_id[: _field("feed_entry_id").max_length],
            )
        )
    return posts, problems


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
    posts, problems = read_feed(data, label)
    report = ImportReport(dry_run=dry_run, skipped=problems)
    lookups = _Lookups(author, dry_run=dry_run)
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
