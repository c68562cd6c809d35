"""Tags from front matter (lists, comma-separated text, Jekyll's space-separated text and
`categories`) and, where Obsidian means them, `#tags` in the text."""

from __future__ import annotations

import re

from notes import frontmatter
from notes.importing.fields import strings
from notes.importing.files import for_prose
from notes.importing.posts import TAG_MAX, Invalid

# As in Obsidian, a tag starts a line or follows a space: `(#anchor)` and `a#b` are not tags.
_INLINE_TAG = re.compile(r"(?:^|(?<=\s))#([\w][\w/-]*)")
_HEADING_LINE = re.compile(r"^ {0,3}#{1,6}(?:[ \t]|$)")
# Where a `#` is part of something else: link destinations, HTML tags and entities, addresses,
# formulas. Each is blanked out (to spaces, keeping offsets) before tags are looked for.
_NOT_PROSE = re.compile(
    r"\]\([^)\n]*\)|<[^>\n]*>|&#\w+;|\b\w+://\S+|\$\$.*?\$\$|\$[^$\n]+\$|\\\(.*?\\\)|\[\[[^\]\n]*\]\]",
    re.DOTALL,
)
_COLOUR = re.compile(r"(?:[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})", re.IGNORECASE)


def tags(
    doc: frontmatter.Document, body: str, *, spaces: bool = False, inline: bool = True
) -> list[str]:
    """The post's tags. `spaces`: a text value is split at spaces, as Jekyll does (unless it has
    commas); `inline`: `#tags` in the text count, as in Obsidian."""
    found: list[tuple[str, int | None]] = []
    for key in ("tags", "categories"):
        value = doc.meta.get(key)
        split_at_spaces = spaces and isinstance(value, str) and "," not in value
        names = value.split() if split_at_spaces else strings(doc, key, commas=True)
        found += [(name.lstrip("#"), doc.line_of(key)) for name in names]
    if inline:
        found += [(name, doc.body_line + line) for name, line in inline_tags(body)]
    unique: dict[str, str] = {}
    for name, line in found:
        if len(name) > TAG_MAX:
            raise Invalid(f"the tag {name[:80]!r} is longer than {TAG_MAX} characters", line)
        if name:
            unique.setdefault(name.lower(), name)
    return list(unique.values())


def inline_tags(body: str) -> list[tuple[str, int]]:
    """Obsidian's `#tags` in the text, each with its 0-based line; never `# headings`, `#2023`,
    colour codes such as `#286ee0`, `(#anchor)` links, addresses, HTML or code."""
    found: list[tuple[str, int]] = []

    def collect(prose: str, start: int) -> str:
        if "#" not in prose:
            return prose
        text = _NOT_PROSE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), prose)
        for number, line in enumerate(text.split("\n"), start=start):
            if "#" not in line or _HEADING_LINE.match(line):
                continue
            for match in _INLINE_TAG.finditer(line):
                name = match.group(1).rstrip("/-")
                if any(c.isalpha() for c in name) and not _is_colour(name):
                    found.append((name, number))
        return prose

    for_prose(body, collect)
    return found


def _is_colour(name: str) -> bool:
    # `#cafe` and `#add` are words; `#286ee0` and `#fff` are colours.
    return bool(_COLOUR.fullmatch(name)) and (
        any(c.isdigit() for c in name) or len(set(name.lower())) == 1
    )
