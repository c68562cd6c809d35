"""Reading BibTeX: bibtexparser 2 splits the file into entries (with their lines and raw text,
and every block it could not read); this module gives the values BibTeX's meaning.

bibtexparser is asked for the values as written (no middleware), because its own string
interpolation leaves `neurips # " 33"` concatenations unresolved and its LaTeX decoder drops
macros it does not know (`{\\TeX}book` became "book"). Here a value is an expression of quoted
or braced strings, numbers and macros joined by `#`; `@string` macros and the month macros
(jan…dec) resolve case-insensitively; LaTeX is decoded to Unicode by pylatexenc, with the TeX
logos added. README "Bibliography" says why bibtexparser rather than pybtex.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

import bibtexparser
from bibtexparser import model
from bibtexparser.middlewares.names import (
    parse_single_name_into_parts,
    split_multiple_persons_names,
)
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

from notes.rendering.citations import KEY_PATTERN  # a key no citation can name is refused

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_NAMES = {
    **{name: i for i, name in enumerate(MONTHS, 1)},
    **{
        full: i
        for i, full in enumerate(
            ("january", "february", "march", "april", "may", "june", "july", "august",
             "september", "october", "november", "december"),
            1,
        )
    },
}  # fmt: skip
_ARXIV_ID = re.compile(r"(?:arxiv[:/ ]\s*|arxiv\.org/abs/)(\d{4}\.\d{4,5}(?:v\d+)?)", re.I)
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.I)
_MAX_LENGTHS = {"title": 1000, "venue": 500, "publisher": 300, "doi": 200, "url": 500}


def _decoder() -> LatexNodes2Text:
    context = get_default_latex_context_db()
    context.add_context_category(
        "kb-logos",
        prepend=True,
        macros=[
            MacroTextSpec("TeX", simplify_repl="TeX"),
            MacroTextSpec("LaTeX", simplify_repl="LaTeX"),
            MacroTextSpec("BibTeX", simplify_repl="BibTeX"),
            MacroTextSpec("url", simplify_repl="%s"),
        ],
    )
    return LatexNodes2Text(latex_context=context, math_mode="verbatim")


_DECODER = _decoder()
# Each unreadable block is reported as a Problem; bibtexparser's own warning would repeat it.
logging.getLogger("bibtexparser.splitter").setLevel(logging.ERROR)


def decode_latex(text: str) -> str:
    """ "G{\\"o}del" → "Gödel", "5998--6008" → an en dash; math stays as written."""
    try:
        decoded = _DECODER.latex_to_text(text)
    except Exception:  # pylatexenc raises assorted errors on broken input; keep the text
        decoded = text
    return " ".join(decoded.split())


@dataclass(frozen=True)
class Problem:
    line: int
    message: str
    key: str = ""

    def __str__(self) -> str:
        return f"line {self.line}: {self.key + ': ' if self.key else ''}{self.message}"


@dataclass
class ParsedEntry:
    key: str
    line: int
    fields: dict[str, Any]  # Reference field name → value
    raw: str  # the entry as written, preceded by the @string definitions it uses


@dataclass
class ParsedBibliography:
    entries: list[ParsedEntry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


class EntryError(ValueError):
    pass


def _split_expression(value: str) -> list[str]:
    """The pieces of `a # "b" # {c}`, split at `#` outside quotes and braces."""
    pieces, depth, quoted, start = [], 0, False, 0
    for i, char in enumerate(value):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == '"' and depth == 0:
            quoted = not quoted
        elif char == "#" and depth == 0 and not quoted:
            pieces.append(value[start:i].strip())
            start = i + 1
    pieces.append(value[start:].strip())
    return pieces


def macros_used(value: str) -> list[str]:
    """The @string macro names (lower case) a field value refers to."""
    return [
        piece.lower()
        for piece in _split_expression(value.strip())
        if piece and piece[0] not in '{"' and not piece.isdigit() and piece.lower() not in MONTHS
    ]


def resolve_value(value: str, macros: dict[str, str]) -> str:
    """The LaTeX text a BibTeX field value stands for (not yet decoded)."""
    out = []
    for piece in _split_expression(value.strip()):
        if len(piece) >= 2 and (piece[0], piece[-1]) in (("{", "}"), ('"', '"')):
            out.append(piece[1:-1])
        elif piece.isdigit():
            out.append(piece)
        elif piece.lower() in macros:
            out.append(macros[piece.lower()])
        elif piece.lower() in MONTHS:
            out.append(piece.lower())
        else:
            raise EntryError(f"“{piece}” is not a defined @string macro")
    return "".join(out)


def person(name: str) -> dict[str, str]:
    """One name as BibTeX reads it ("Jonathan Ho", "Ho, Jonathan", "van der Berg, Jr., Anna")
    as {"family", "given"[, "suffix"]}."""
    parts = parse_single_name_into_parts(name, strict=False)
    found = {
        "family": decode_latex(" ".join(parts.von + parts.last)),
        "given": decode_latex(" ".join(parts.first)),
    }
    if parts.jr:
        found["suffix"] = decode_latex(" ".join(parts.jr))
    return found


def _authors(latex: str) -> list[dict[str, str]]:
    return [person(name) for name in split_multiple_persons_names(latex) if name.strip()]


def _arxiv_id(values: dict[str, str]) -> str:
    prefix = (values.get("archiveprefix") or values.get("eprinttype") or "").lower()
    if values.get("eprint") and prefix in ("arxiv", ""):
        candidate = values["eprint"].strip()
        if re.fullmatch(r"\d{4}\.\d{4,5}(v\d+)?|[a-z-]+(\.[A-Z]{2})?/\d{7}", candidate):
            return candidate
    for name in ("arxiv", "note", "url", "journal"):
        found = _ARXIV_ID.search(values.get(name, "") or "")
        if found:
            return found.group(1)
    return ""


def entry_fields(entry_type: str, values: dict[str, str]) -> dict[str, Any]:
    """Reference fields from an entry's resolved (LaTeX) values, keyed by lower-case name."""
    text = {name: decode_latex(value) for name, value in values.items() if name != "author"}
    year_text = text.get("year", "")
    year = None
    if year_text:
        digits = re.fullmatch(r"\s*(\d{1,4})\s*", year_text)
        if not digits:
            raise EntryError(f"the year “{year_text}” is not a year")
        year = int(digits.group(1))
    month_text = text.get("month", "").strip().lower()
    month = _MONTH_NAMES.get(month_text) or (int(month_text) if month_text.isdigit() else None)
    if month is not None and not 1 <= month <= 12:
        month = None
    authors = _authors(values.get("author") or values.get("editor") or "")
    fields = {
        "entry_type": entry_type.lower(),
        "title": text.get("title", ""),
        "authors": authors,
        "year": year,
        "month": month,
        "venue": text.get("journal")
        or text.get("booktitle")
        or text.get("school")
        or text.get("institution")
        or text.get("howpublished", ""),
        "volume": text.get("volume", ""),
        "number": text.get("number", ""),
        "pages": text.get("pages", ""),
        "publisher": text.get("publisher", ""),
        "doi": _DOI_PREFIX.sub("", text.get("doi", "")).strip(),
        "arxiv_id": _arxiv_id(text),
        "url": text.get("url", "").strip(),
        "abstract": text.get("abstract", ""),
    }
    if not fields["title"]:
        raise EntryError("the entry has no title")
    for name, limit in _MAX_LENGTHS.items():
        if len(fields[name]) > limit:
            raise EntryError(f"the {name} is longer than {limit} characters")
    if fields["url"] and not re.match(r"https?://", fields["url"]):
        raise EntryError(f"the url “{fields['url']}” is not an http(s) address")
    for name in ("volume", "number", "pages"):
        fields[name] = fields[name][:50]
    return fields


def parse_bibtex(text: str) -> ParsedBibliography:
    """Every entry of a .bib file, and every problem with the line it is on (counted from 1)."""
    result = ParsedBibliography()
    if "\x00" in text:
        result.problems.append(Problem(text[: text.index("\x00")].count("\n") + 1, "NUL byte"))
        return result
    library = bibtexparser.parse_string(text, parse_stack=[])
    macros: dict[str, str] = {}
    # Each macro's definition as written, and the macros it uses, so an entry can be kept with
    # the definitions it needs and written back out whole.
    definitions: dict[str, tuple[str, list[str]]] = {}
    first_line: dict[str, int] = {}
    for block in library.blocks:
        line = block.start_line + 1
        if isinstance(block, model.String):
            try:
                macros[block.key.lower()] = resolve_value(block.value, macros)
                definitions[block.key.lower()] = (block.raw.strip(), macros_used(block.value))
            except EntryError as error:
                result.problems.append(Problem(line, str(error), block.key))
        elif isinstance(block, model.DuplicateBlockKeyBlock):
            seen = first_line.get(block.key.lower())
            where = f" (first at line {seen})" if seen else ""
            result.problems.append(Problem(line, f"the key is used twice{where}", block.key))
        elif isinstance(block, model.ParsingFailedBlock):
            reason = getattr(block.error, "abort_reason", "") or str(block.error)
            message = reason.strip().rstrip(".").lower() or "it could not be read"
            result.problems.append(Problem(line, f"unreadable entry ({message})"))
        elif isinstance(block, model.Entry):
            first_line.setdefault(block.key.lower(), line)
            _add_entry(result, block, line, macros, definitions)
    return result


def _definitions_for(entry: model.Entry, definitions) -> list[str]:
    wanted = [name for f in entry.fields for name in macros_used(f.value)]
    needed: dict[str, str] = {}
    while wanted:
        name = wanted.pop()
        if name in definitions and name not in needed:
            raw, uses = definitions[name]
            needed[name] = raw
            wanted += uses
    return [needed[name] for name in sorted(needed)]


def _add_entry(
    result: ParsedBibliography, entry: model.Entry, line: int, macros, definitions
) -> None:
    if entry.key.lower() in {e.key.lower() for e in result.entries}:
        result.problems.append(Problem(line, "the key is used twice", entry.key))
        return
    if len(entry.key) > 200 or not re.fullmatch(KEY_PATTERN, entry.key):
        result.problems.append(Problem(line, "the key is not a usable citation key", entry.key))
        return
    try:
        values = {f.key.lower(): resolve_value(f.value, macros) for f in entry.fields}
        fields = entry_fields(entry.entry_type, values)
    except EntryError as error:
        result.problems.append(Problem(line, str(error), entry.key))
        return
    raw = "\n".join([*_definitions_for(entry, definitions), entry.raw.strip()])
    result.entries.append(ParsedEntry(entry.key, line, fields, raw))
