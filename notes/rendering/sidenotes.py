"""Footnotes that can also sit in the margin, beside the line that cites them (Tufte's sidenotes).

Each footnote reference is followed by a copy of its note's text in a ``span.sidenote``; the
stylesheet floats it into the margin on wide screens and hides the footnote list there, and on
narrow screens hides the copies, which a click on the number opens in place (post-reading.js).
The copy is hidden from assistive technology, which reads the footnote list in either case.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markdown_it.rules_core import StateCore
from markdown_it.token import Token


def collect(state: StateCore) -> None:
    """Remember each footnote's inline content by id, for the reference to repeat."""
    notes: dict[int, list[Token]] = {}
    current: int | None = None
    for token in state.tokens:
        if token.type == "footnote_open":
            current = token.meta["id"]
            notes[current] = []
        elif token.type == "footnote_close":
            current = None
        elif current is not None and token.type == "inline":
            if notes[current]:
                notes[current].append(Token("text", "", 0, content=" "))
            notes[current].extend(token.children or [])
    state.env["sidenotes"] = notes


def render_reference(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    reference = self.rules["footnote_ref_plain"](tokens, idx, options, env)
    note = env.get("sidenotes", {}).get(tokens[idx].meta["id"])
    if not note:
        return reference
    number = tokens[idx].meta["id"] + 1
    content = self.renderInline(
        [child for child in note if child.type != "footnote_ref"], options, env
    )
    return (
        f'{reference}<span class="sidenote" aria-hidden="true">'
        f'<span class="sidenote-number">{number}</span> {content}</span>'
    )
