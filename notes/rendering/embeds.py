"""``![[note]]`` and ``![[note#heading]]``: another post's body, or one section of it, in place.

An embed alone in its paragraph becomes a framed block with a link to its source; one written
inside a sentence is shown as a plain wikilink, since a block cannot sit in a line of text.
The embedded Markdown is rendered when the embedding post is saved (the caller re-renders it
when the source changes). A missing target, a cycle or too deep a nesting is shown as such and
reported like a broken wikilink.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from notes.rendering import wikilinks
from notes.rendering.headings import heading_id
from notes.rendering.results import MAX_EMBED_DEPTH, EmbedSource

# Renders an embedded body (or the section named by the anchor) for the post of this pk;
# None when the section does not exist.
NestedRenderer = Callable[[EmbedSource, str], "str | None"]


def inline_rule(state: StateInline, silent: bool) -> bool:
    if not state.src.startswith("![[", state.pos):
        return False
    state.pos += 1
    if not wikilinks.inline_rule(state, silent):
        state.pos -= 1
        return False
    if not silent:
        state.tokens[-1].type = "embed"
    return True


def to_blocks(state: StateCore) -> None:
    """An embed alone in a paragraph replaces the paragraph; any other becomes a wikilink."""
    tokens = state.tokens
    index = 0
    while index < len(tokens):
        token = tokens[index]
        children = token.children or []
        if token.type == "inline":
            alone = len(children) == 1 and children[0].type == "embed"
            wrapped = index > 0 and tokens[index - 1].type == "paragraph_open"
            if alone and wrapped and children[0].meta["target"]:
                block = Token("embed_block", "div", 0, meta=children[0].meta)
                block.block = True
                tokens[index - 1 : index + 2] = [block]
                continue
            for child in children:
                if child.type == "embed":
                    child.type = "wikilink"
        index += 1


def targets(tokens: Sequence[Token]) -> tuple[str, ...]:
    found = (t.meta["target"] for t in tokens if t.type == "embed_block")
    return tuple(dict.fromkeys(found))


def section(tokens: Sequence[Token], anchor: str) -> list[Token] | None:
    """The tokens from the heading named `anchor` up to the next heading of its level or above."""
    wanted = heading_id(anchor)
    for start, token in enumerate(tokens):
        if token.type == "heading_open" and token.level == 0 and token.attrGet("id") == wanted:
            level = int(token.tag[1])
            end = start + 1
            while end < len(tokens):
                other = tokens[end]
                if other.type == "heading_open" and other.level == 0 and int(other.tag[1]) <= level:
                    break
                end += 1
            return list(tokens[start:end])
    return None


_OWN_IDS = re.compile(r'(id="|href="#)(h|fn|fnref)-')


def scope_ids(markup: str, pk: int) -> str:
    """Ids inside an embed, made distinct from the embedding page's own (``h-intro`` twice
    would break both the TOC and the footnotes)."""
    return _OWN_IDS.sub(lambda m: f"{m.group(1)}{m.group(2)}-e{pk}-", markup)


def render_blocks(
    tokens: Sequence[Token],
    resolved: Mapping[str, EmbedSource],
    stack: tuple[int, ...],
    render_nested: NestedRenderer,
) -> list[str]:
    """Render each embed block once into its token's meta; returns the targets that failed."""
    failed = []
    for token in tokens:
        if token.type != "embed_block":
            continue
        meta = token.meta
        source = resolved.get(meta["target"])
        if source is None:
            token.meta = {
                **meta,
                "html": _notice("embed-missing", f"No post called “{meta['target']}” to embed."),
            }
            failed.append(meta["target"])
            continue
        if source.pk in stack or len(stack) > MAX_EMBED_DEPTH:
            reason = "it would contain itself" if source.pk in stack else "embeds nest too deep"
            token.meta = {
                **meta,
                "html": _notice(
                    "embed-cycle", f"“{source.title}” is not embedded here: {reason}.", source
                ),
            }
            failed.append(meta["target"])
            continue
        inner = render_nested(source, meta["anchor"])
        if inner is None:
            text = f"“{source.title}” has no section “{meta['anchor']}” to embed."
            token.meta = {**meta, "html": _notice("embed-missing", text, source)}
            failed.append(meta["target"])
            continue
        token.meta = {**meta, "html": _frame(source, meta["anchor"], inner)}
    return failed


def render(tokens: Sequence[Token], idx: int, env: dict[str, Any]) -> str:
    return tokens[idx].meta.get("html", "")


def _frame(source: EmbedSource, anchor: str, inner: str) -> str:
    fragment = f"#{heading_id(anchor)}" if anchor else ""
    href = html.escape(source.url + fragment)
    label = html.escape(source.title + (f", section “{anchor}”" if anchor else ""))
    return (
        f'<div class="embed">\n<p class="embed-source">From <a class="wikilink" href="{href}">'
        f"{label}</a></p>\n{scope_ids(inner, source.pk)}</div>\n"
    )


def _notice(kind: str, text: str, source: EmbedSource | None = None) -> str:
    link = ""
    if source is not None:
        href = html.escape(source.url)
        link = f' <a class="wikilink" href="{href}">{html.escape(source.title)}</a>'
    notice = f'<p class="embed-source">{html.escape(text)}{link}</p>'
    return f'<div class="embed {kind}">\n{notice}\n</div>\n'
