"""Markdown files with YAML front matter, as Hugo, Jekyll, Obsidian and Quartz write them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

FENCE = "---"


class FrontMatterError(ValueError):
    """A file's front matter can't be read; `line` is 1-based within the file."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message if line is None else f"line {line}: {message}")
        self.line = line


@dataclass(frozen=True)
class Document:
    meta: dict[str, Any]
    body: str


def parse(text: str) -> Document:
    """Split `text` into its front matter (a mapping) and its Markdown body."""
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise FrontMatterError("the file contains a NUL byte", line)
    text = text.removeprefix("\ufeff")
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != FENCE:
        return Document(meta={}, body=text)
    end = next((i for i, line in enumerate(lines) if i and line.strip() in {FENCE, "..."}), None)
    if end is None:
        raise FrontMatterError("the front matter that opens on line 1 is never closed by '---'", 1)
    try:
        meta = yaml.safe_load("".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise FrontMatterError(f"invalid YAML: {problem}", line) from exc
    if not isinstance(meta, dict):
        raise FrontMatterError("the front matter must be a mapping of keys to values", 2)
    return Document(meta=meta, body="".join(lines[end + 1 :]).lstrip("\n"))
