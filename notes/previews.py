"""The few opening blocks of a post's stored HTML, or one of its sections, for a link preview.

Works on the sanitized HTML saved with the post, so a preview shows exactly what the page does
(formulas typeset, wikilinks resolved) without rendering anything again.
"""

from __future__ import annotations

from html.parser import HTMLParser

PREVIEW_CHARS = 700
# Elements with no closing tag, which must not count as opening a level.
_VOID = {"br", "hr", "img", "input", "wbr", "source"}
_SKIPPED = {"section", "hr"}  # footnotes, and their rule


class _Blocks(HTMLParser):
    """Top-level elements of a fragment, as (tag, id, start, end) character offsets."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=False)
        self.markup = markup
        self.blocks: list[tuple[str, str, int, int]] = []
        self._depth = 0
        self._start = (0, "", "")
        self._lines = [0]
        for line in markup.splitlines(keepends=True):
            self._lines.append(self._lines[-1] + len(line))
        self.feed(markup)
        self.close()

    def _offset(self) -> int:
        line, column = self.getpos()
        return self._lines[line - 1] + column

    def handle_starttag(self, tag, attrs):
        if self._depth == 0:
            self._start = (self._offset(), tag, dict(attrs).get("id") or "")
            if tag in _VOID:
                end = self._offset() + len(self.get_starttag_text() or "")
                self.blocks.append((tag, "", self._start[0], end))
                return
        if tag not in _VOID:
            self._depth += 1

    def handle_endtag(self, tag):
        if tag in _VOID:
            return
        self._depth -= 1
        if self._depth == 0:
            end = self.markup.index(">", self._offset()) + 1
            start, name, ident = self._start
            self.blocks.append((name, ident, start, end))


def opening(markup: str, limit: int = PREVIEW_CHARS) -> str:
    """The first blocks of `markup`, stopping once `limit` characters of markup are reached."""
    kept, size = [], 0
    for tag, _, start, end in _Blocks(markup).blocks:
        if tag in _SKIPPED:
            continue
        kept.append(markup[start:end])
        size += end - start
        if size >= limit:
            break
    return "\n".join(kept)


def section(markup: str, heading_id: str, limit: int = PREVIEW_CHARS) -> str | None:
    """The heading with that id and the blocks after it, up to the next heading of its level or
    above; None if no heading has that id."""
    blocks = _Blocks(markup).blocks
    for index, (tag, ident, _, _) in enumerate(blocks):
        if ident == heading_id and tag[:1] == "h" and tag[1:].isdigit():
            level = int(tag[1:])
            following = []
            for other, _, start, end in blocks[index + 1 :]:
                if other[:1] == "h" and other[1:].isdigit() and int(other[1:]) <= level:
                    break
                if other not in _SKIPPED:
                    following.append((start, end))
            head = markup[blocks[index][2] : blocks[index][3]]
            body = opening("\n".join(markup[s:e] for s, e in following), limit)
            return head + "\n" + body
    return None
