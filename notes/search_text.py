"""What search indexes and quotes from a post: its Markdown read as prose.

A snippet is a few dozen words cut out of this text by the engine, so whatever is here is what
a reader sees under a result. It comes from the same token stream the rendering pipeline
renders, not from patterns over the source: list markers, table rules, heading hashes, link
targets and footnote markers are structure, and only the words inside them are kept. Formulas
become one FORMULA mark, which the results page shows as a small "formula" token: TeX source
means nothing to a reader, and its command names (`\\mathcal`) are no words to search for.
Leftover syntax from other tools (kramdown's `{: .class}` and `{#id}`, Liquid's `{% … %}`) is
dropped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.conf import settings
from markdown_it.token import Token

from notes.rendering.pipeline import parse_markdown

# A control character: both engines' tokenizers treat it as a separator, so it is never a word
# and never matched, and the author's text can't hold one (they are stripped first).
FORMULA = "\x01"
# How long a snippet is, and what the engines put around the words they highlight in it (also
# control characters, so the author's text holds neither).
SNIPPET_WORDS = 28
MARK_START, MARK_END = "\x02", "\x03"


def search_language() -> str:
    """The language both engines stem words in (SQLite stems English only)."""
    return getattr(settings, "KB_SEARCH_LANGUAGE", "english")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FOREIGN_SYNTAX = re.compile(r"\{[:#.][^}\n]{0,200}\}|\{%.{0,200}?%\}|\{\{.{0,200}?\}\}")
# Raw HTML stays text in kb's Markdown; in a snippet only its words are worth reading.
_HTML_TAG = re.compile(r"</?[A-Za-z][^<>]{0,200}>")
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_FORMULAS_IN_A_ROW = re.compile(FORMULA + r"(?:[ ,]*" + FORMULA + ")+")
_SPACE_BEFORE_PUNCTUATION = re.compile(r" ([.,;:!?])(?= |$)")
_ENDS_A_SENTENCE = (".", "!", "?", ":", ";", "…")

_SKIPPED_INLINE_PARENTS = {"alert_title_open"}
# Where a block ends, the words of the next one must not run into its last word.
_BLOCK_ENDS = {"paragraph_close", "list_item_close", "dt_close", "dd_close", "tr_close"}
_SENTENCE_ENDS = {"heading_close", "admonition_title_close", "th_close", "td_close"}


def prose(markdown: str) -> str:
    """The words a reader sees, in order, with formulas as FORMULA and blocks as sentences."""
    if not markdown.strip():
        return ""
    tokens = parse_markdown(_CONTROL.sub(" ", markdown))
    parts: list[str] = []
    for index, token in enumerate(tokens):
        if token.type == "inline":
            parent = tokens[index - 1].type if index else ""
            if parent not in _SKIPPED_INLINE_PARENTS:
                parts.append(_inline_text(token.children or []))
        elif token.type in ("math_block", "math_display"):
            parts.append(f" {FORMULA} ")
        elif token.type in ("fence", "code_block"):
            if token.info.strip().lower() == "math":
                parts.append(f" {FORMULA} ")
            else:
                parts.append(" " + token.content + " ")
        elif token.type in _SENTENCE_ENDS:
            _end_sentence(parts, token.type in ("th_close", "td_close"))
        elif token.type in _BLOCK_ENDS:
            _end_sentence(parts, False)
    text = _FORMULAS_IN_A_ROW.sub(FORMULA, _SPACES.sub(" ", "".join(parts)))
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", text).strip()


def _inline_text(children: Sequence[Token]) -> str:
    parts = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(_HTML_TAG.sub(" ", _FOREIGN_SYNTAX.sub(" ", child.content)))
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type in ("math_inline", "math_display"):
            parts.append(f" {FORMULA} ")
        elif child.type == "image":
            parts.append(child.content)
        elif child.type == "wikilink":
            parts.append(child.meta.get("label") or child.meta.get("target", "").split("#")[0])
    return "".join(parts)


def _end_sentence(parts: list[str], cell: bool) -> None:
    """A heading or a table cell has no full stop of its own; one is added so the snippet reads
    as sentences ("Results. The model…") rather than a run of words."""
    while parts and not parts[-1].strip():
        parts.pop()
    if not parts:
        return
    if not cell and parts[-1].endswith(","):
        parts[-1] = parts[-1][:-1]  # a table row's last cell
    if not parts[-1].rstrip().endswith(_ENDS_A_SENTENCE):
        parts.append("," if cell else ".")
    parts.append(" ")
