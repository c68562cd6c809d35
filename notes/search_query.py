"""The search box's query language, parsed once into a small tree that each engine compiles.

    diffusion "noise schedule" -gan tag:sampling #math score OR energy

Plain words must all match; a quoted phrase matches its words in order; `-` excludes a word,
phrase or tag; `tag:name` (or `#name`, or `tag:"two words"`) keeps posts carrying that tag;
`OR` between two terms lets either match. Nothing the user types reaches SQL as syntax: a term
keeps only its letters and digits, and the engines pass those words as parameters or quoted.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace

# A query longer than any real one is cut rather than refused, so a pasted page still searches.
MAX_QUERY_CHARS = 256
MAX_TERMS = 16
MAX_WORDS_PER_TERM = 10

_WORD = re.compile(r"[^\W_]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Term:
    """One word, or a phrase's words in order; the engine stems each word."""

    words: tuple[str, ...]

    def __str__(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True)
class SearchQuery:
    # Every clause must match, and a clause matches when any of its terms does: `a b OR c`
    # is ((a), (b, c)).
    clauses: tuple[tuple[Term, ...], ...] = ()
    excluded: tuple[Term, ...] = ()
    tags: tuple[str, ...] = ()
    excluded_tags: tuple[str, ...] = ()
    year: int | None = None

    @property
    def terms(self) -> tuple[Term, ...]:
        """The positive terms, whichever clause they sit in: what ranking and snippets look for."""
        return tuple(term for clause in self.clauses for term in clause)

    @property
    def has_text(self) -> bool:
        return bool(self.clauses)

    @property
    def is_empty(self) -> bool:
        return not (self.clauses or self.excluded or self.tags or self.excluded_tags or self.year)

    def as_text(self) -> str:
        """The query written back in its own language (tags and year left to the facets)."""

        def written(term: Term) -> str:
            return f'"{term}"' if len(term.words) > 1 else str(term)

        parts = [" OR ".join(written(t) for t in clause) for clause in self.clauses]
        parts += [f"-{written(t)}" for t in self.excluded]
        parts += [f'tag:"{t}"' if " " in t else f"tag:{t}" for t in self.tags]
        parts += [f'-tag:"{t}"' if " " in t else f"-tag:{t}" for t in self.excluded_tags]
        return " ".join(parts)

    def without_clause(self, index: int) -> SearchQuery:
        return replace(self, clauses=self.clauses[:index] + self.clauses[index + 1 :])

    def narrowed(self, *, tags: list[str] | None = None, year: int | None = None) -> SearchQuery:
        """The query with facet choices added: more required tags, a year."""
        known = {t.lower() for t in self.tags}
        extra = []
        for tag in (clean_tag(t) for t in tags or []):
            if tag and tag.lower() not in known:
                known.add(tag.lower())
                extra.append(tag)
        return replace(self, tags=self.tags + tuple(extra), year=year or self.year)


def fold(text: str) -> str:
    """Lower-case, without accents, so `Schrödinger` and `schrodinger` are the same word."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return unicodedata.normalize("NFC", stripped)


def words_of(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(fold(text)))[:MAX_WORDS_PER_TERM]


def clean_tag(name: str) -> str:
    return " ".join(_CONTROL.sub(" ", name).split())[: MAX_QUERY_CHARS // 4]


@dataclass(frozen=True)
class _Token:
    kind: str  # "term", "tag" or "or"
    text: str = ""
    negated: bool = False


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        negated = text[i] == "-"
        if negated:
            i += 1
        is_tag = False
        if text[i : i + 4].lower() == "tag:":
            is_tag, i = True, i + 4
        elif text.startswith("#", i):
            is_tag, i = True, i + 1
        if i < n and text[i] == '"':
            # An unclosed quote runs to the end of the query instead of failing.
            end = text.find('"', i + 1)
            end = n if end == -1 else end
            chunk, i = text[i + 1 : end], end + 1
        else:
            start = i
            while i < n and not text[i].isspace():
                i += 1
            chunk = text[start:i]
        if is_tag:
            tokens.append(_Token("tag", chunk, negated))
        elif chunk == "OR" and not negated:
            tokens.append(_Token("or"))
        else:
            tokens.append(_Token("term", chunk, negated))
    return tokens


def parse(text: str) -> SearchQuery:
    """Parse what the user typed. Never raises: input that means nothing is dropped."""
    text = _CONTROL.sub(" ", text[:MAX_QUERY_CHARS])
    clauses: list[list[Term]] = []
    excluded: list[Term] = []
    tags: list[str] = []
    excluded_tags: list[str] = []
    after_term = pending_or = False
    for token in _tokens(text):
        if token.kind == "or":
            # OR joins two terms; one at either end, or beside a tag, is only a word.
            pending_or = after_term
            after_term = False
            continue
        after_term = False
        if token.kind == "tag":
            name = clean_tag(token.text)
            target = excluded_tags if token.negated else tags
            if name and name not in target:
                target.append(name)
        elif words := words_of(token.text):
            term = Term(words)
            if token.negated:
                excluded.append(term)
            elif pending_or:
                clauses[-1].append(term)
            else:
                clauses.append([term])
            after_term = not token.negated
        pending_or = False
    while sum(len(c) for c in clauses) + len(excluded) > MAX_TERMS:
        (excluded or clauses).pop()
    return SearchQuery(
        clauses=tuple(tuple(c) for c in clauses),
        excluded=tuple(excluded),
        tags=tuple(tags),
        excluded_tags=tuple(excluded_tags),
    )
