"""What rendering returns, and the limits it keeps."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

MAX_MARKDOWN_CHARS = 250_000
# markdown-it-py spends ~15 µs on each "[" it tries as a link, so a body
# made of brackets would take seconds; real posts use a few hundred.
MAX_SQUARE_BRACKETS = 10_000
# Typesetting costs ~1.2 ms per distinct formula on an idle machine (KaTeX's HTML and
# MathML); past this many, the rest are shown as TeX source and reported, so a render
# stays around a second.
MAX_FORMULAS = 1_000
# Each citation becomes a link with the full reference as its title; past this many, the rest
# of a body's "@key"s stay text, so "@a " repeated 80,000 times renders in well under a second.
MAX_CITATIONS = 2_000
# Containers nested deeper than this (lists in lists in quotes...) are shown
# as plain text rather than silently dropped, as markdown-it would do.
MAX_NESTING = 24
SUMMARY_MAX_CHARS = 300
WORDS_PER_MINUTE = 230
TOC_MIN_HEADINGS = 3
TOC_LEVELS = range(2, 5)
# ![[note]] inside ![[note]] inside ...: past this depth an embed shows as a link.
MAX_EMBED_DEPTH = 3

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
class CitedWork:
    """What a citation needs to know of a work, formatted by the caller (see notes.bibliography)."""

    key: str
    authors: str  # "Ho et al." as a parenthetical citation names them; "" when unknown
    narrative_authors: str  # "Ho and Jain" as running text does
    year: str  # "2020", or "n.d."
    text: str  # the full reference as plain text, for the hover title
    html: str  # the full reference as it is listed under References
    pk: int | None = None


@dataclass(frozen=True)
class EmbedSource:
    """A published post another one embeds: its Markdown is rendered in place, at save time."""

    pk: int
    title: str
    url: str
    body: str


@dataclass(frozen=True)
class ImageInfo:
    """What the renderer needs to know of a local image: its size, and smaller copies."""

    width: int
    height: int
    srcset: tuple[tuple[str, int], ...] = ()  # (url, width) of each smaller copy


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
    # The rules for the KaTeX style classes in html and toc_html (see katex_styles).
    math_css: str = ""
    broken_labels: tuple[str, ...] = ()
    duplicated_labels: tuple[str, ...] = ()
    citations: tuple[str, ...] = ()  # every key cited, in order of first citation
    unknown_citations: tuple[str, ...] = ()
    embeds: tuple[str, ...] = ()  # targets embedded with ![[…]] (resolved or not)
    # Raw HTML tags outside the live subset, shown as text (raw_html.py).
    html_refused: tuple[str, ...] = ()


Resolver = Callable[[Sequence[str]], Mapping[str, WikiTarget]]
CitationResolver = Callable[[Sequence[str]], Mapping[str, CitedWork]]
EmbedResolver = Callable[[Sequence[str]], Mapping[str, EmbedSource]]
ImageResolver = Callable[[Sequence[str]], Mapping[str, ImageInfo]]
