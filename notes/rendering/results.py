"""What rendering returns, and the limits it keeps."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

MAX_MARKDOWN_CHARS = 250_000
# markdown-it-py spends ~15 µs on each "[" it tries as a link, so a body
# made of brackets would take seconds; real posts use a few hundred.
MAX_SQUARE_BRACKETS = 10_000
# Typesetting costs ~0.5 ms per distinct formula; past this many, the rest
# are shown as TeX source and reported, so a render stays well under a second.
MAX_FORMULAS = 1_000
# Containers nested deeper than this (lists in lists in quotes...) are shown
# as plain text rather than silently dropped, as markdown-it would do.
MAX_NESTING = 24
SUMMARY_MAX_CHARS = 300
WORDS_PER_MINUTE = 230
TOC_MIN_HEADINGS = 3
TOC_LEVELS = range(2, 5)

# Reading-time weights, in words of prose: a line of code is read about as
# fast as four words, an inline formula as three, a display formula as twenty.
CODE_LINE_WORDS = 4
INLINE_FORMULA_WORDS = 3
DISPLAY_FORMULA_WORDS = 20


class MarkdownTooLarge(ValueError):
    def __init__(
        self, size: int, limit: int = MAX_MARKDOWN_CHARS, unit: str = "characters"
    ) -> None:
        super().__init__(f"This text has {size:,} {unit}; the limit is {limit:,}.")
        self.size = size
        self.limit = limit


@dataclass(frozen=True)
class WikiTarget:
    title: str
    url: str
    pk: int | None = None  # the post's id, so callers can record the link without a query


@dataclass(frozen=True)
class Rendered:
    html: str
    toc_html: str
    wikilinks: tuple[str, ...]
    broken_wikilinks: tuple[str, ...]
    word_count: int
    reading_time: int
    summary: str
    math_errors: tuple[str, ...]
    # Raw HTML tags outside the live subset, shown as text (raw_html.py).
    html_refused: tuple[str, ...] = ()


Resolver = Callable[[Sequence[str]], Mapping[str, WikiTarget]]
