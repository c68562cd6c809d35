"""Citations in Pandoc's syntax, rendered author-year, and the References list they imply.

* ``[@vaswani2017]`` → (Vaswani et al., 2017); ``[@ho2020; @song2021]`` cites both;
  ``[@vaswani2017, p. 5]`` adds a locator; ``[see @ho2020]`` a prefix; ``[-@ho2020]`` drops
  the authors: (2020).
* ``@vaswani2017 shows`` is a narrative citation: Vaswani et al. (2017) shows;
  ``@vaswani2017 [p. 5]`` gives it a locator.

A key starts with a letter, digit or ``_`` and may hold ``:.#$%&+?<>~/-`` inside, so a full
stop after it ends the sentence, not the key. A narrative ``@`` must follow a space, an opening
bracket or quote, or start the text: ``me@example.org`` and ``medium.com/@user`` stay as they
are. Code spans, code blocks and math are parsed before this rule, so they are never read as
citations. Prefixes and suffixes are plain text.

Keys are looked up by the caller's resolver, once per body; an unknown key stays visible as
``key?`` and is reported. Every cited work is listed under References at the end of the body,
sorted as APA sorts them (by first author, then year), each citation linking to its entry.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from notes.rendering.results import MAX_CITATIONS, CitedWork

# What may follow "@": a letter, digit or _ first, then internal punctuation too (Pandoc's rule).
KEY_PATTERN = r"[A-Za-z0-9_](?:[\w:.#$%&+?<>~/-]*\w)?"
_ITEM = re.compile(
    r"(?P<prefix>(?:.*?\s)?)(?P<minus>-?)@(?P<key>" + KEY_PATTERN + r")(?P<suffix>.*)", re.S
)
_NARRATIVE = re.compile("@(" + KEY_PATTERN + ")")
_LOCATOR = re.compile(r" \[([^\[\]@\n]{1,100})\]")
# What may stand just before a narrative "@": anything else (a letter, "/", ".") makes it part
# of an address or a handle.
_NARRATIVE_AFTER = set(" \t\n({\"'“‘«*_")  # noqa: RUF001
_MAX_BRACKET_CHARS = 1000
LIST_ID = "ref-list"


def element_id(key: str) -> str:
    """The id of a work's entry in the list: "ref-" and the key, with only id-safe characters."""
    return "ref-" + re.sub(r"[^\w:-]", "-", key)


def _item(text: str) -> dict[str, Any] | None:
    found = _ITEM.fullmatch(text.strip())
    if found is None:
        return None
    suffix = " ".join(found["suffix"].split())
    if suffix and not suffix.startswith(","):
        suffix = ", " + suffix
    return {
        "key": found["key"],
        "prefix": " ".join(found["prefix"].split()),
        "suffix": suffix,
        "suppress_author": bool(found["minus"]),
    }


def _over_limit(state: StateInline) -> bool:
    return state.env.get("citation_count", 0) >= MAX_CITATIONS


def _push(state: StateInline, meta: dict[str, Any], content: str) -> None:
    token = state.push("citation", "span", 0)
    token.meta = meta
    token.content = content
    state.env["citation_count"] = state.env.get("citation_count", 0) + 1


def bracket_rule(state: StateInline, silent: bool) -> bool:
    """``[@key]``, ``[see @a, p. 5; -@b]``: a bracket whose every ``;`` part cites a key."""
    src, pos = state.src, state.pos
    if src[pos] != "[" or src.startswith("[[", pos) or "@" not in src[pos : pos + 200]:
        return False
    if state.linkLevel > 0 or _over_limit(state):  # no link inside a link's text
        return False
    end = src.find("]", pos + 1, pos + _MAX_BRACKET_CHARS)
    inner = src[pos + 1 : end]
    if end < 0 or "[" in inner or "\n\n" in inner:
        return False
    if src[end + 1 : end + 2] in ("(", "["):  # [@handle](url) is a link
        return False
    items = [_item(part) for part in inner.split(";")]
    if not items or any(item is None for item in items):
        return False
    if not silent:
        _push(state, {"items": items, "narrative": False}, src[pos : end + 1])
    state.pos = end + 1
    return True


def narrative_rule(state: StateInline, silent: bool) -> bool:
    """``@key`` in running text, optionally followed by a `` [locator]``."""
    src, pos = state.src, state.pos
    if src[pos] != "@" or (pos > 0 and src[pos - 1] not in _NARRATIVE_AFTER):
        return False
    if state.linkLevel > 0 or _over_limit(state):
        return False
    found = _NARRATIVE.match(src, pos)
    if found is None:
        return False
    end = found.end()
    locator = _LOCATOR.match(src, end)
    suffix = ""
    if locator and src[locator.end() : locator.end() + 1] not in ("(", "["):
        suffix = ", " + " ".join(locator.group(1).split()).lstrip(", ")
        end = locator.end()
    if not silent:
        item = {"key": found.group(1), "prefix": "", "suffix": suffix}
        _push(state, {"items": [item], "narrative": True}, src[pos:end])
    state.pos = end
    return True


def keys(tokens: Sequence[Token]) -> tuple[str, ...]:
    """Every key cited, in order of first citation (headings, tables and footnotes too)."""
    found = (
        item["key"]
        for token in tokens
        if token.type == "inline"
        for child in token.children or []
        if child.type == "citation"
        for item in child.meta["items"]
    )
    return tuple(dict.fromkeys(found))


def _link(work: CitedWork, label: str) -> str:
    return (
        f'<a class="cite-ref" href="#{element_id(work.key)}" '
        f'title="{html.escape(work.text)}">{html.escape(label)}</a>'
    )


def _unknown(key: str) -> str:
    title = html.escape(f"No reference with the key “{key}”")
    return f'<span class="cite-unknown" title="{title}">{html.escape(key)}?</span>'


def _parts(meta: dict[str, Any], works: Mapping[str, CitedWork]):
    """Each cited item as (prefix, work or None, what the link says, suffix): what both the
    HTML and the plain text (for summaries and search snippets) are made of."""
    for item in meta["items"]:
        work = works.get(item["key"])
        if work is None:
            yield item["prefix"], None, f"{item['key']}?", item["suffix"]
        elif meta["narrative"]:
            yield "", work, f"{work.narrative_authors} ({work.year}{item['suffix']})", ""
        elif item["suppress_author"]:
            yield item["prefix"], work, work.year, item["suffix"]
        else:
            yield item["prefix"], work, f"{work.authors}, {work.year}", item["suffix"]


def render(tokens: Sequence[Token], idx: int, env: dict[str, Any]) -> str:
    meta = tokens[idx].meta
    pieces = []
    for prefix, work, label, suffix in _parts(meta, env.get("citations", {})):
        shown = _link(work, label) if work else _unknown(label.removesuffix("?"))
        pieces.append((html.escape(prefix) + " " if prefix else "") + shown + html.escape(suffix))
    inner = "; ".join(pieces)
    return f'<span class="cite">{inner if meta["narrative"] else "(" + inner + ")"}</span>'


def label_tokens(tokens: Sequence[Token], works: Mapping[str, CitedWork]) -> None:
    """Give each citation token its text as a reader sees it, so summaries and word counts
    read "(Ho et al., 2020)" rather than nothing."""
    for token in tokens:
        for child in token.children or [] if token.type == "inline" else []:
            if child.type == "citation":
                texts = [
                    (prefix + " " if prefix else "") + label + suffix
                    for prefix, _, label, suffix in _parts(child.meta, works)
                ]
                joined = "; ".join(texts)
                child.content = joined if child.meta["narrative"] else f"({joined})"


def references_html(cited: Sequence[str], works: Mapping[str, CitedWork]) -> str:
    """The References section: every cited work that resolved, sorted by author and year."""
    listed = sorted((works[k] for k in cited if k in works), key=lambda w: w.text.lower())
    if not listed:
        return ""
    items = "".join(f'<li id="{element_id(w.key)}">{w.html}</li>\n' for w in listed)
    return (
        f'<section class="references" aria-labelledby="{LIST_ID}">\n'
        f'<h2 id="{LIST_ID}">References</h2>\n'
        f'<ul class="references-list">\n{items}</ul>\n</section>\n'
    )
