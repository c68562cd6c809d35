"""What every dialect's translator shares: the record of what was carried over and what was not,
and the passes that read the same in Jekyll, Hugo and Obsidian sources (update notes written as
text, the summary boundary, video iframes).

Translators keep the number of lines while they work (a construct they take out leaves an empty
line), so every note they make names the line of the source file; `tidy` closes the gaps last.
"""

from __future__ import annotations

import datetime
import html
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from notes.importing.files import FENCE, for_prose
from notes.importing.posts import UPDATE_TEXT_MAX
from notes.importing.report import Problem
from notes.rendering.raw_html import attributes, refused_tags, video


@dataclass
class Translation:
    """The notes and findings of translating one file's body into kb's Markdown."""

    label: str
    first_line: int  # the file's line on which the body starts
    notes: list[Problem] = field(default_factory=list)
    updates: list[tuple[datetime.date, str]] = field(default_factory=list)
    excerpt: str | None = None
    redirects: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def note(self, line: int, reason: str) -> None:
        """`line` is 0-based within the body."""
        self.notes.append(Problem(self.label, reason, self.first_line + line))


Replace = Callable[[re.Match[str], int], str]


def substitute(markdown: str, pattern: re.Pattern[str], replace: Replace) -> str:
    """`pattern` replaced in the prose of `markdown` (never in code); `replace` is also given
    the 0-based line of the match, for its notes."""

    def change(prose: str, start: int) -> str:
        return pattern.sub(lambda m: replace(m, start + prose.count("\n", 0, m.start())), prose)

    return for_prose(markdown, change)


def blank(text: str) -> str:
    """What replaces a construct that is taken out: its line breaks, so later lines keep their
    numbers."""
    return "\n" * text.count("\n")


_GAPS = re.compile(r"\n{3,}")
# A paragraph that is nothing but line breaks, which taking out update notes can leave.
_ONLY_BREAKS = re.compile(r"(?:^|(?<=\n\n))(?:[ \t]*<br\s*/?>[ \t]*\n)+(?=\n|$)", re.IGNORECASE)


def tidy(markdown: str) -> str:
    """The gaps translators left closed up (outside code) and the end made one newline."""
    out, prose, fence = [], [], None
    for line in markdown.splitlines(keepends=True):
        opener = FENCE.match(line)
        if fence is None and not opener:
            prose.append(line)
            continue
        out.append(_closed("".join(prose)))
        prose.clear()
        out.append(line)
        if fence is None:
            fence = opener.group(1) if opener else None
        elif line.strip().startswith(fence) and not line.strip().strip(fence[0]):
            fence = None
    out.append(_closed("".join(prose)))
    text = "".join(out).strip("\n")
    return text + "\n" if text else ""


def _closed(prose: str) -> str:
    return _GAPS.sub("\n\n", _ONLY_BREAKS.sub("", _GAPS.sub("\n\n", prose)))


# --- Passes every dialect runs ---------------------------------------------------------------

MORE = re.compile(r"^[ \t]*<!--\s*more\s*-->[ \t]*$", re.MULTILINE | re.IGNORECASE)


def split_excerpt(markdown: str, translation: Translation, separator: str = "") -> str:
    """`<!--more-->` (or the site's excerpt separator) ends the summary: the text before it
    becomes the summary, and the marker leaves the body."""
    pattern = MORE
    if separator and separator.strip() not in {"", "<!--more-->", "<!-- more -->"}:
        pattern = re.compile(r"^[ \t]*" + re.escape(separator.strip()) + r"[ \t]*$", re.MULTILINE)
    found = pattern.search(markdown)
    if found is None:
        return markdown
    translation.excerpt = markdown[: found.start()].strip()
    translation.counts["summary boundaries"] += 1
    return markdown[: found.start()] + blank(found.group(0)) + markdown[found.end() :]


_UPDATE_START = re.compile(
    r"(?:<(span|div|p|em|i|small)\b[^>\n]*>\s*)?[*_]{0,2}\[\s*(?:Updated?|Edit(?:ed)?)\b"
    r"(?:\s+on)?\s*:?\s*(\d{4})[-/.](\d{2})[-/.](\d{2})\s*[:,.]?\s*",
    re.IGNORECASE,
)
_MD_INLINE_LINK = re.compile(r"!?\[([^\[\]\n]*)\]\(([^()\s]+)[^()\n]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_)(\S(?:.*?\S)?)\1")
_TAG = re.compile(r"<[^>\n]+>")


def extract_updates(markdown: str, translation: Translation) -> str:
    """`[Updated on 2021-09-19: …]` written in the text, often inside a coloured `<span>`,
    becomes a dated update note (data), and leaves the body."""

    def change(prose: str, start_line: int) -> str:
        out, position = [], 0
        for match in _UPDATE_START.finditer(prose):
            if match.start() < position:
                continue
            close = _closing_bracket(prose, match.end())
            if close is None:
                continue
            end = close + 1
            wrapper = match.group(1)
            tail = re.match(
                r"[*_]{0,2}\s*(</" + wrapper + r">)?" if wrapper else r"[*_]{0,2}", prose[end:]
            )
            end += tail.end() if tail else 0
            line = start_line + prose.count("\n", 0, match.start())
            text = _plain(prose[match.end() : close])
            try:
                date = datetime.date(*(int(match.group(n)) for n in (2, 3, 4)))
            except ValueError:
                translation.note(line, "an update note's date is not a real date; left as text")
                continue
            if not text or len(text) > UPDATE_TEXT_MAX:
                reason = f"an update note longer than {UPDATE_TEXT_MAX} characters is left as text"
                translation.note(line, reason if text else "an empty update note is left as text")
                continue
            translation.updates.append((date, text))
            translation.counts["update notes"] += 1
            out += [prose[position : match.start()], blank(prose[match.start() : end])]
            position = end
        out.append(prose[position:])
        return "".join(out)

    return for_prose(markdown, change)


def _closing_bracket(text: str, start: int) -> int | None:
    depth = 1
    for index in range(start, min(len(text), start + 2000)):
        if text[index] == "[":
            depth += 1
        elif text[index] == "]":
            depth -= 1
            if depth == 0:
                return index
    return None


def _plain(markdown: str) -> str:
    """An update note's Markdown as the plain text kb stores for it: links keep their address."""
    text = _MD_INLINE_LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", markdown)
    text = _EMPHASIS.sub(r"\2", _TAG.sub("", text))
    return " ".join(html.unescape(text).split()).rstrip(" .;,") + (
        "." if text.rstrip().endswith(".") else ""
    )


_IFRAME = re.compile(r"<iframe\b([^>]*)>(?:\s*</iframe>)?", re.IGNORECASE)


def video_link(src: str, title: str = "") -> str | None:
    """A Markdown link to the video a player `src` shows, on a known video site (the ones raw
    HTML's iframes become links to); None for any other."""
    known = video(src)
    if known is None:
        return None
    address, site = known
    label = re.sub(r"([\[\]\\])", r"\\\1", " ".join(title.split()) or f"Video on {site}")
    return f"[▶ {label}]({address})"


def iframes_to_links(markdown: str, translation: Translation) -> str:
    """An `<iframe>` of a known video site becomes a link to the video with its title; any
    other iframe stays (shown as text) and is reported."""

    def replace(match: re.Match[str], line: int) -> str:
        found = attributes(match.group(1))
        link = video_link(found.get("src", ""), found.get("title", ""))
        if link is None:
            translation.note(line, "an <iframe> that is not a known video site is left as text")
            return match.group(0)
        translation.counts["videos linked"] += 1
        return link + blank(match.group(0))

    return substitute(markdown, _IFRAME, replace)


def note_inert_html(markdown: str, translation: Translation) -> None:
    """Each raw HTML tag outside the live subset, which readers will see as text, noted once
    per line."""

    def check(prose: str, start: int) -> str:
        if "<" not in prose:
            return prose
        for number, line in enumerate(prose.split("\n"), start=start):
            for tag in dict.fromkeys(refused_tags(line)):
                translation.note(number, f"HTML {tag} is not kept live; it shows as text")
        return prose

    for_prose(markdown, check)


def sized_image(image: str, width: str) -> str:
    """`![alt](src …)` with kb's size mark, `![alt|80%](src …)` or `![alt|300](src …)`
    (notes/rendering/figures.py)."""
    close = image.index("](")
    return f"{image[:close]}|{width}{image[close:]}"
