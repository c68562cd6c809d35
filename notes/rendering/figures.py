"""Images and figures.

* ``![alt](src "Caption")`` alone in a paragraph is a ``<figure>`` with that caption; so is an
  image alone on its line followed by a line that is entirely italic (``*Caption*``), in the
  same paragraph or the next one.
* ``![alt|300](src)`` shows the image 300 px wide, ``![alt|60%](src)`` at 60 % of the column
  (Obsidian's ``|size``). Percentages round to tens and map to classes, pixels become the
  ``width`` attribute: the strict CSP allows no ``style``.
* Local images carry their width and height (from the image resolver, which reads the file),
  so the page does not move while they load, and ``srcset`` when smaller copies exist. Every
  image after the first loads lazily.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from notes.rendering.results import ImageInfo

_SIZE = re.compile(r"^(?P<alt>.*?)\s*\|\s*(?P<size>\d{1,4})\s*(?P<unit>%|px)?\s*$", re.DOTALL)
MAX_WIDTH_PX = 2000
PERCENT_STEPS = range(10, 101, 10)
# The column is 42rem; smaller copies are picked for that, or for the screen when narrower.
COLUMN_SIZES = "(min-width: 46rem) 42rem, 100vw"


def sources(tokens: Sequence[Token]) -> tuple[str, ...]:
    found = (
        str(child.attrGet("src"))
        for token in tokens
        if token.type == "inline"
        for child in token.children or []
        if child.type == "image"
    )
    return tuple(dict.fromkeys(found))


def apply(state: StateCore) -> None:
    """Read each image's ``|size`` and turn lone captioned images into figures."""
    tokens = state.tokens
    for token in tokens:
        if token.type == "inline":
            for child in token.children or []:
                if child.type == "image":
                    _read_size(child)
    index = 0
    while index < len(tokens):
        if _is_paragraph(tokens, index):
            index = _make_figure(tokens, index, state)
        index += 1


def _read_size(image: Token) -> None:
    found = _SIZE.match(image.content)
    if not found:
        return
    size, unit = int(found["size"]), found["unit"] or "px"
    if unit == "%":
        step = min(PERCENT_STEPS, key=lambda s: abs(s - size))
        image.meta = {**(image.meta or {}), "percent": step}
    elif 0 < size <= MAX_WIDTH_PX:
        image.meta = {**(image.meta or {}), "pixels": size}
    else:
        return
    image.content = found["alt"]
    # The alt text is rendered from the children: drop the "|300" from the last text.
    children = image.children or []
    if children and children[-1].type == "text":
        last = _SIZE.match(children[-1].content)
        if last:
            children[-1].content = last["alt"]


def _is_paragraph(tokens: Sequence[Token], index: int) -> bool:
    return (
        index + 2 < len(tokens)
        and tokens[index].type == "paragraph_open"
        and tokens[index + 1].type == "inline"
        and tokens[index + 2].type == "paragraph_close"
    )


def _is_italic_line(children: Sequence[Token]) -> bool:
    return (
        len(children) >= 3
        and children[0].type == "em_open"
        and children[-1].type == "em_close"
        and not any(c.type in ("em_open", "softbreak", "hardbreak") for c in children[1:-1])
    )


def _make_figure(tokens: list[Token], index: int, state: StateCore) -> int:
    """Turn the paragraph at `index` into a figure if it is one; returns the last index used."""
    children = tokens[index + 1].children or []
    if not children or children[0].type != "image":
        return index
    image, rest = children[0], children[1:]
    caption: list[Token] | None = None
    consumed = 0
    if not rest and image.attrGet("title"):
        # A title is Markdown too (a translated kramdown caption holds links, emphasis, math).
        parsed = state.md.parseInline(str(image.attrGet("title")), state.env)
        caption = parsed[0].children if parsed else []
        image.attrs.pop("title", None)
    elif rest and rest[0].type == "softbreak" and _is_italic_line(rest[1:]):
        caption = rest[2:-1]
    elif not rest and _is_paragraph(tokens, index + 3):
        following = tokens[index + 4].children or []
        if _is_italic_line(following):
            caption = following[1:-1]
            consumed = 3
    if caption is None:
        return index
    image.meta = {**(image.meta or {}), "in_figure": True}
    figure = [
        Token("figure_open", "figure", 1, meta={"image": image}),
        Token("inline", "", 0, children=[image], content=""),
        Token("figcaption_open", "figcaption", 1),
        Token("inline", "", 0, children=caption, content=""),
        Token("figcaption_close", "figcaption", -1),
        Token("figure_close", "figure", -1),
    ]
    for token in figure:
        token.block = token.type != "inline"
    tokens[index : index + 3 + consumed] = figure
    return index + 5


def render_figure_open(tokens: Sequence[Token], idx: int) -> str:
    image = tokens[idx].meta["image"]
    percent = (image.meta or {}).get("percent")
    kind = f"figure w-{percent}" if percent else "figure"
    return f'<figure class="{kind}">\n'


def render_image(tokens: Sequence[Token], idx: int, alt: str, env: dict[str, Any]) -> str:
    image = tokens[idx]
    meta = image.meta or {}
    src = str(image.attrGet("src"))
    info: ImageInfo | None = env.get("images", {}).get(src)
    attrs = [("src", src), ("alt", alt)]
    if image.attrGet("title"):
        attrs.append(("title", str(image.attrGet("title"))))
    pixels = meta.get("pixels")
    if info is not None:
        width = min(pixels, info.width) if pixels else info.width
        attrs += [("width", str(width)), ("height", str(round(info.height * width / info.width)))]
        if info.srcset:
            variants = [*info.srcset, (src, info.width)]
            attrs.append(("srcset", ", ".join(f"{url} {w}w" for url, w in variants)))
            attrs.append(("sizes", f"{width}px" if pixels else COLUMN_SIZES))
    elif pixels:
        attrs.append(("width", str(pixels)))
    if meta.get("percent") and not meta.get("in_figure"):
        attrs.append(("class", f"w-{meta['percent']}"))
    env["images_seen"] = env.get("images_seen", 0) + 1
    if env["images_seen"] > 1:
        attrs += [("loading", "lazy"), ("decoding", "async")]
    return "<img " + " ".join(f'{k}="{html.escape(v)}"' for k, v in attrs) + ">"


WIDTH_CLASSES = frozenset(f"w-{step}" for step in PERCENT_STEPS)
