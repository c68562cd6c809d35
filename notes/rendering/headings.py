"""Heading ids, their ``#`` self-links and the table of contents.

Headings get stable ids (``h-`` + slug, de-duplicated); h2 to h4 feed the table of contents.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from notes.rendering.plaintext import plain_text
from notes.rendering.results import TOC_LEVELS, TOC_MIN_HEADINGS


def heading_id(text: str) -> str:
    normalized = unicodedata.normalize("NFKC", text).lower()
    slug = re.sub(r"[^\w\s-]", "", normalized)
    slug = re.sub(r"[\s_-]+", "-", slug).strip("-")
    return f"h-{slug[:80] or 'section'}"


def assign_ids(state: StateCore) -> None:
    seen: dict[str, int] = {}
    for index, token in enumerate(state.tokens):
        if token.type != "heading_open":
            continue
        inline = state.tokens[index + 1]
        base = heading_id(plain_text(inline.children or [], {}))
        seen[base] = seen.get(base, 0) + 1
        token.attrSet("id", base if seen[base] == 1 else f"{base}-{seen[base]}")


def render_close(tokens: Sequence[Token], idx: int) -> str:
    opening = tokens[idx - 2]
    anchor = html.escape(str(opening.attrGet("id")))
    return (
        f' <a class="anchor" href="#{anchor}" aria-label="Link to this section">#</a>'
        f"</{tokens[idx].tag}>\n"
    )


def toc_html(md: MarkdownIt, tokens: Sequence[Token], env: dict[str, Any]) -> str:
    entries = [
        (int(token.tag[1]), str(token.attrGet("id")), tokens[index + 1])
        for index, token in enumerate(tokens)
        if token.type == "heading_open" and token.level == 0 and int(token.tag[1]) in TOC_LEVELS
    ]
    if len(entries) < TOC_MIN_HEADINGS:
        return ""
    parts = ['<ul class="toc">\n']
    stack = [entries[0][0]]
    for position, (level, anchor, inline) in enumerate(entries):
        if position:
            if level > stack[-1]:
                parts.append("\n<ul>\n")
                stack.append(level)
            else:
                parts.append("</li>\n")
                while len(stack) > 1 and level < stack[-1]:
                    stack.pop()
                    parts.append("</ul>\n</li>\n")
        label = md.renderer.renderInline(_without_links(inline.children or []), md.options, env)
        parts.append(f'<li><a href="#{html.escape(anchor)}">{label}</a>')
    parts.append("</li>\n" + "</ul>\n</li>\n" * (len(stack) - 1) + "</ul>\n")
    return "".join(parts)


def _without_links(children: Sequence[Token]) -> list[Token]:
    """Heading content for a TOC entry, which is itself a link."""
    kept = []
    for child in children:
        if child.type in ("link_open", "link_close", "footnote_ref"):
            continue
        if child.type == "wikilink":
            child = Token("text", "", 0, content=child.content)
        kept.append(child)
    return kept
