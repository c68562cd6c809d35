"""What a body says as plain text: the summary and the reading time."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from markdown_it.token import Token

from notes.rendering.results import (
    CODE_LINE_WORDS,
    DISPLAY_FORMULA_WORDS,
    INLINE_FORMULA_WORDS,
    MAX_MARKDOWN_CHARS,
    SUMMARY_MAX_CHARS,
    WORDS_PER_MINUTE,
    WikiTarget,
)
from notes.rendering.typesetting import math_as_text


def plain_text(
    children: Sequence[Token],
    resolved: Mapping[str, WikiTarget],
    limit: int = MAX_MARKDOWN_CHARS,
) -> str:
    parts: list[str] = []
    length = 0
    for child in children:
        if length > limit:
            break  # a summary needs the start only; formulas cost time
        length += len(child.content)
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "math_inline":
            parts.append(math_as_text(child.content))
        elif child.type == "math_display":
            parts.append("…")
        elif child.type == "wikilink":
            found = resolved.get(child.meta["target"])
            parts.append(child.meta["label"] or (found.title if found else child.content))
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def summary(tokens: Sequence[Token], resolved: Mapping[str, WikiTarget]) -> str:
    in_footnotes = False
    for index, token in enumerate(tokens):
        if token.type in ("footnote_block_open", "footnote_block_close"):
            in_footnotes = token.nesting == 1
        if token.type == "paragraph_open" and not in_footnotes:
            children = tokens[index + 1].children or []
            text = plain_text(children, resolved, SUMMARY_MAX_CHARS)
            if text.strip(" …"):
                return _shorten(text, SUMMARY_MAX_CHARS)
    return ""


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.-\N{EN DASH}\N{EM DASH}") + "…"


@dataclass(frozen=True)
class _Counts:
    words: int
    minutes: int


_WORD = re.compile(r"\w+(?:['\N{RIGHT SINGLE QUOTATION MARK}.-]\w+)*")


def count(tokens: Sequence[Token]) -> _Counts:
    words = code_lines = inline_formulas = display_formulas = 0
    for token in tokens:
        if token.type in ("fence", "code_block"):
            if token.info.strip().lower() == "math":
                display_formulas += 1
            else:
                code_lines += sum(1 for line in token.content.splitlines() if line.strip())
        elif token.type == "math_block":
            display_formulas += 1
        for child in token.children or []:
            if child.type in ("text", "code_inline", "wikilink"):
                words += len(_WORD.findall(child.content))
            elif child.type == "math_inline":
                inline_formulas += 1
            elif child.type == "math_display":
                display_formulas += 1
    weighted = (
        words
        + CODE_LINE_WORDS * code_lines
        + INLINE_FORMULA_WORDS * inline_formulas
        + DISPLAY_FORMULA_WORDS * display_formulas
    )
    return _Counts(words=words, minutes=max(1, math.ceil(weighted / WORDS_PER_MINUTE)))
