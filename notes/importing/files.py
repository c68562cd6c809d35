"""Finding Markdown files in folders, and the line-level reading every dialect shares: what is
code (left alone) and what is prose."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_INLINE_CODE = re.compile(r"(`+).+?\1")
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")


@dataclass(frozen=True)
class MarkdownFile:
    path: Path
    root: Path  # relative media paths may not leave it
    label: str  # how reports name the file
    draft: bool = False  # found where a site keeps its drafts (Jekyll's `_drafts/`)


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


def outside_code(markdown: str, change: Callable[[str], str]) -> str:
    """`markdown` with `change` applied to its prose only: fenced blocks and `code spans` are
    passed through untouched, since tags and links written there are examples, not links."""
    return for_prose(markdown, lambda prose, line: change(prose))


def for_prose(markdown: str, change: Callable[[str, int], str]) -> str:
    """Like `outside_code`, and `change` is also told the 0-based line of `markdown` on which
    each piece of prose starts, so what it reports can name the line."""
    out: list[str] = []
    prose: list[str] = []
    fence: str | None = None
    line_number = 0

    def flush() -> None:
        text = "".join(prose)
        start = line_number - text.count("\n")
        pieces, last = [], 0
        for match in _INLINE_CODE.finditer(text):
            piece = text[last : match.start()]
            pieces += [change(piece, start + text.count("\n", 0, last)), match.group(0)]
            last = match.end()
        pieces.append(change(text[last:], start + text.count("\n", 0, last)))
        out.append("".join(pieces))
        prose.clear()

    for line in markdown.splitlines(keepends=True):
        opener = FENCE.match(line)
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
        line_number += line.count("\n") or 1
    if prose and not prose[-1].endswith("\n"):
        line_number -= 1
    flush()
    return "".join(out)


def first_heading(body: str) -> tuple[str | None, str]:
    """The first heading's text; a `# Title` opening the body is taken out of it, since the page
    shows the title above the body."""
    lines = body.splitlines(keepends=True)
    fence = None
    for i, line in enumerate(lines):
        if FENCE.match(line):
            fence = None if fence else line
            continue
        match = None if fence else _HEADING.match(line.rstrip("\r\n"))
        if match:
            opening = all(not earlier.strip() for earlier in lines[:i])
            if opening and len(match.group(1)) == 1:
                return match.group(2), "".join(lines[i + 1 :]).lstrip("\r\n")
            return match.group(2), body
    return None, body
