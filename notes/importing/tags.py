"""Tags from front matter and, where Obsidian means them, from the text."""

from __future__ import annotations

import re

from notes import frontmatter
from notes.importing.fields import strings
from notes.importing.files import outside_code
from notes.importing.posts import TAG_MAX, Invalid

_INLINE_TAG = re.compile(r"(?:^|(?<=[\s(,;]))#([\w][\w/-]*)")


def tags(doc: frontmatter.Document, body: str) -> list[str]:
    names = [name.lstrip("#") for name in strings(doc, "tags", commas=True)]
    names += inline_tags(body)
    for name in names:
        if len(name) > TAG_MAX:
            raise Invalid(f"the tag {name!r} is longer than {TAG_MAX} characters")
    unique: dict[str, str] = {}
    for name in names:
        if name:
            unique.setdefault(name.lower(), name)
    return list(unique.values())


def inline_tags(body: str) -> list[str]:
    """Obsidian's `#tags` in the text, but not `# headings`, `#2023`, URLs' #fragments or code."""
    found: list[str] = []

    def collect(prose: str) -> str:
        for match in _INLINE_TAG.finditer(prose):
            name = match.group(1).rstrip("/-")
            if any(c.isalpha() for c in name):
                found.append(name)
        return prose

    outside_code(body, collect)
    return found
