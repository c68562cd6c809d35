"""``[[wikilinks]]``: the inline rule, the targets a body names, and their links.

``[[Post title]]``, ``[[slug|label]]``, ``[[slug#heading]]`` and ``[[#heading]]`` for this
page; not inside code or math. Targets are resolved by the caller's resolver, once per body.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from notes.rendering.headings import heading_id

_WIKILINK_MAX_CHARS = 300


def inline_rule(state: StateInline, silent: bool) -> bool:
    src, pos = state.src, state.pos
    if not src.startswith("[[", pos):
        return False
    end = src.find("]]", pos + 2, pos + 2 + _WIKILINK_MAX_CHARS)
    inner = src[pos + 2 : end]
    if end < 0 or not inner.strip() or any(c in inner for c in "[]\n"):
        return False
    reference, _, label = inner.partition("|")
    target, _, anchor = reference.partition("#")
    if not target.strip() and not anchor.strip():
        return False
    if not silent:
        token = state.push("wikilink", "a", 0)
        token.meta = {
            "target": target.strip(),
            "anchor": anchor.strip(),
            "label": label.strip(),
        }
        token.content = label.strip() or reference.strip()
    state.pos = end + 2
    return True


def targets(tokens: Sequence[Token]) -> tuple[str, ...]:
    found = (
        child.meta["target"]
        for token in tokens
        if token.type == "inline"
        for child in token.children or []
        if child.type == "wikilink" and child.meta["target"]
    )
    return tuple(dict.fromkeys(found))


def render(tokens: Sequence[Token], idx: int, env: dict[str, Any]) -> str:
    meta = tokens[idx].meta
    fragment = f"#{heading_id(meta['anchor'])}" if meta["anchor"] else ""
    if not meta["target"]:
        label = html.escape(meta["label"] or meta["anchor"])
        return f'<a class="wikilink" href="{fragment}">{label}</a>'
    found = env.get("wikilinks", {}).get(meta["target"])
    if found is None:
        label = html.escape(meta["label"] or meta["target"])
        title = html.escape(f"No post called “{meta['target']}”")
        return f'<span class="wikilink-broken" title="{title}">{label}</span>'
    label = html.escape(meta["label"] or found.title)
    href = html.escape(found.url + fragment)
    return f'<a class="wikilink" href="{href}">{label}</a>'
