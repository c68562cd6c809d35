"""Figures: an image alone in its paragraph, with a title, is a figure whose caption is the
title (read as Markdown, so it may hold emphasis, links and math); `{width=80%}` or
`{width=300}` right after an image sizes it::

    ![The forward process](/media/x.png "Fig. 1. Noise is *added* step by step."){width=80%}

Outside kb this reads as an ordinary image with a title and a little text after it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

_SIZE = re.compile(r"\{width=(\d{1,4}%?)\}")


def size_rule(state: StateInline, silent: bool) -> bool:
    """An inline rule: `{width=…}` directly after an image becomes the image's width."""
    if state.src[state.pos] != "{" or not state.tokens or state.tokens[-1].type != "image":
        return False
    found = _SIZE.match(state.src, state.pos)
    if found is None:
        return False
    if not silent:
        width = found.group(1)
        if not width.endswith("%") or 1 <= int(width[:-1]) <= 100:
            state.tokens[-1].attrSet("width", width)
    state.pos = found.end()
    return True


def make_figures(state: StateCore) -> None:
    """A core rule: a paragraph holding one titled image (and nothing else) is a figure."""
    tokens = state.tokens
    for index in range(1, len(tokens) - 1):
        inline = tokens[index]
        if inline.type != "inline" or tokens[index - 1].type != "paragraph_open":
            continue
        children = [c for c in inline.children or () if c.type != "text" or c.content.strip()]
        if len(children) != 1 or children[0].type != "image":
            continue
        image = children[0]
        caption = str(image.attrGet("title") or "").strip()
        if not caption:
            continue
        image.attrs.pop("title", None)
        image.meta = {**(image.meta or {}), "caption": caption}
        inline.children = [image]
        tokens[index - 1].tag = tokens[index + 1].tag = "figure"


def render_image(md: MarkdownIt, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    image = md.renderer.image(tokens, idx, options, env)
    caption = (token.meta or {}).get("caption")
    if not caption:
        return image
    inner = md.renderer.renderInline(md.parseInline(caption, env)[0].children or [], options, env)
    return f"{image}<figcaption>{inner}</figcaption>"
