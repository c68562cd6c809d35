"""Writing BibTeX: an imported entry goes back out as it came in; one typed in the admin is
written from its fields. Whole files are entries in key order, so exports are stable."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import bibtexparser

from notes.bibliography.parsing import MONTHS

# Characters BibTeX or LaTeX would read as markup, and what stands for each of them literally.
_BIBTEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "%": r"\%",
    "&": r"\&",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_VENUE_FIELD = {"article": "journal", "inproceedings": "booktitle", "incollection": "booktitle"}


def bibtex_escape(text: str) -> str:
    return "".join(_BIBTEX_ESCAPES.get(char, char) for char in text)


def format_entry(entry_type: str, key: str, fields: dict[str, str], *, raw: Iterable = ()) -> str:
    """`@type{key,` and one aligned `name = {value}` line a field; values are escaped, except
    the names in `raw` (month macros, URLs), which are written as given."""
    raw = set(raw)
    present = {name: value for name, value in fields.items() if value}
    width = max((len(name) for name in present), default=0)
    lines = [
        # Month macros (jan, feb, ...) are bare words in BibTeX; every other value is braced.
        f"  {name.ljust(width)} = "
        + (
            value
            if name == "month"
            else "{" + (value if name in raw else bibtex_escape(value)) + "}"
        )
        for name, value in present.items()
    ]
    return f"@{entry_type}{{{key},\n" + ",\n".join(lines) + "\n}"


def _person(author: dict[str, Any]) -> str:
    family = author.get("family") or author.get("literal") or ""
    parts = [family, author.get("suffix", ""), author.get("given", "")]
    return ", ".join(bibtex_escape(p) for p in parts if p)


def generated_bibtex(work: Any) -> str:
    """An entry written from a reference's fields (for one typed in rather than imported)."""
    entry_type = work.entry_type or "misc"
    fields = {
        "author": " and ".join(_person(a) for a in work.authors),
        "title": bibtex_escape(work.title),
        _VENUE_FIELD.get(entry_type, "howpublished"): bibtex_escape(work.venue),
        "volume": bibtex_escape(work.volume),
        "number": bibtex_escape(work.number),
        "pages": bibtex_escape(work.pages).replace("\u2013", "--"),
        "publisher": bibtex_escape(work.publisher),
        "year": str(work.year or ""),
        "month": MONTHS[work.month - 1] if work.month else "",
        "doi": work.doi,
        "eprint": work.arxiv_id,
        "archiveprefix": "arXiv" if work.arxiv_id else "",
        "url": work.url,
    }
    return format_entry(entry_type, work.key, fields, raw=fields)


def entry_bibtex(work: Any) -> str:
    """One reference as a .bib text of its own: an imported entry as it was written, after
    the @string definitions it uses; any other from its fields."""
    return work.bibtex.strip() if work.bibtex.strip() else generated_bibtex(work)


def bibliography_bibtex(works: Iterable[Any]) -> str:
    """A whole .bib file: the @string definitions the entries use, each once, by name; then
    each entry in key order, a blank line between. Reading it back and writing it again gives
    the same bytes."""
    strings: dict[str, str] = {}
    entries = []
    for work in sorted(works, key=lambda w: w.key.lower()):
        text = entry_bibtex(work)
        if "@string" in text.lower():
            library = bibtexparser.parse_string(text, parse_stack=[])
            for string in library.strings:
                strings.setdefault(string.key.lower(), string.raw.strip())
            text = "\n".join(entry.raw.strip() for entry in library.entries)
        entries.append(text)
    blocks = [strings[name] for name in sorted(strings)]
    head = "\n".join(blocks) + "\n\n" if blocks else ""
    return head + "\n\n".join(entries) + ("\n" if entries else "")
