"""Old anchors keep landing: the ids other generators gave a heading, and `<a name>` anchors.

kb's own heading ids are `h-` + slug, and a post may claim no other id (so it cannot clobber
one the page relies on). A heading therefore also carries the ids that kramdown, GitHub and
Hugo's goldmark would have given it, as `data-anchor` marks: a link inside the post to one of
them is pointed at the heading's own id here, and a link from elsewhere (`…/post/#old-id`) is
followed by static/js/anchors.js.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from notes.rendering.plaintext import plain_text

_NAME = re.compile(r"[\w.:-]{1,120}")
MAX_ALIASES = 500


def gfm_id(text: str) -> str:
    """The id GitHub, kramdown's GFM parser and Hugo's goldmark give a heading."""
    lowered = unicodedata.normalize("NFKC", text).strip().lower()
    return re.sub(r"[^\w\- ]", "", lowered).replace(" ", "-")


def kramdown_id(text: str) -> str:
    """The id kramdown's own parser gives a heading: no underscores, no leading digits."""
    kept = re.sub(r"[^a-zA-Z0-9 -]", "", text)
    kept = re.sub(r"^[^a-zA-Z]+", "", kept)
    return kept.replace(" ", "-").lower() or "section"


def assign_aliases(state: StateCore) -> None:
    """A core rule, after heading ids: the other generators' ids of each heading."""
    seen: dict[str, int] = {}
    aliases: dict[str, str] = state.env.setdefault("anchor_aliases", {})
    for index, token in enumerate(state.tokens):
        if token.type != "heading_open" or len(aliases) >= MAX_ALIASES:
            continue
        text = plain_text(state.tokens[index + 1].children or [], {})
        own = str(token.attrGet("id"))
        names = []
        for base in dict.fromkeys((gfm_id(text), kramdown_id(text))):
            if not base:
                continue
            count = seen.get(base, 0)
            seen[base] = count + 1
            name = base if count == 0 else f"{base}-{count}"
            if name != own and _NAME.fullmatch(name):
                names.append(name)
                aliases.setdefault(name, own)
        token.meta = {**(token.meta or {}), "aliases": names}


def render_heading_open(
    self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any
) -> str:
    opening = str(self.renderToken(tokens, idx, options, env))
    marks = "".join(
        f'<span data-anchor="{html.escape(name)}"></span>'
        for name in (tokens[idx].meta or {}).get("aliases", ())
    )
    # Just before the heading, so the heading's own markup stays as it was.
    return marks + opening


def point_links(state: StateCore) -> None:
    """A core rule: `[see](#old-id)` inside the post goes to the heading's own id."""
    aliases = state.env.get("anchor_aliases") or {}
    if not aliases:
        return
    for token in state.tokens:
        for child in token.children or ():
            if child.type == "link_open":
                href = str(child.attrGet("href") or "")
                child.attrSet("href", resolve(href, state.env))


def resolve(href: str, env: dict[str, Any]) -> str:
    if not href.startswith("#"):
        return href
    own = (env.get("anchor_aliases") or {}).get(href[1:])
    return f"#{own}" if own else href


def anchor_attributes(name: str, env: dict[str, Any]) -> dict[str, str]:
    """What an author's `<a name="x">` or `id="x"` becomes: a mark that anchors.js finds."""
    name = name.strip()
    return {"data-anchor": name} if _NAME.fullmatch(name) else {}
