"""References in one consistent, APA-like author-year style.

In the text: "(Ho et al., 2020)", "Ho and Jain (2020)". In the list:
"Ho, J., Jain, A., & Abbeel, P. (2020). Denoising diffusion probabilistic models.
*Advances in Neural Information Processing Systems 33*. https://doi.org/…".
Titles keep the capitals the entry gives them: turning them into sentence case would need
BibTeX's brace protection, which imported entries do not use consistently.

Works on anything with a Reference's attributes, so it needs no model (and no query)."""

from __future__ import annotations

from typing import Any, Protocol

from django.utils.html import escape

# APA lists up to 20 authors; past that the first 19, an ellipsis, and the last.
MAX_LISTED_AUTHORS = 20
# Entries whose title is a whole publication, set in italics with the publisher after it.
_STANDALONE_TYPES = {"book", "phdthesis", "mastersthesis", "techreport", "manual", "misc"}


class Work(Protocol):
    key: str
    entry_type: str
    title: str
    authors: list[dict[str, str]]
    year: int | None
    venue: str
    volume: str
    number: str
    pages: str
    publisher: str
    doi: str
    arxiv_id: str
    url: str


def _family(author: dict[str, Any]) -> str:
    return author.get("family") or author.get("literal") or ""


def _is_others(author: dict[str, Any]) -> bool:
    return _family(author).lower() == "others" and not author.get("given")


def initials(given: str) -> str:
    """ "Jong Wook" → "J. W.", "Jean-Paul" → "J.-P."; an initial already written stays."""
    parts = []
    for word in given.split():
        pieces = [p for p in word.split("-") if p]
        parts.append("-".join(p[0] + "." for p in pieces))
    return " ".join(parts)


def year_text(work: Work) -> str:
    return str(work.year) if work.year else "n.d."


def in_text_authors(work: Work, *, narrative: bool = False) -> str:
    """How a citation names the authors: one family name, two joined, or the first "et al."."""
    names = [a for a in work.authors if not _is_others(a)]
    if not names:
        return ""
    if len(names) == 1 and len(work.authors) == 1:
        return _family(names[0])
    if len(names) == 2 and len(work.authors) == 2:
        joiner = " and " if narrative else " & "
        return _family(names[0]) + joiner + _family(names[1])
    return f"{_family(names[0])} et al."


def in_text(work: Work) -> str:
    authors = in_text_authors(work) or work.title
    return f"{authors}, {year_text(work)}"


def _listed_author(author: dict[str, Any]) -> str:
    family = _family(author)
    given = initials(author.get("given", ""))
    return f"{family}, {given}" if given else family


def author_list(work: Work) -> str:
    """ "Ho, J., Jain, A., & Abbeel, P." as the reference list names them."""
    others = any(_is_others(a) for a in work.authors)
    names = [_listed_author(a) for a in work.authors if not _is_others(a)]
    if not names:
        return ""
    if others:
        return ", ".join(names) + ", et al."
    if len(names) > MAX_LISTED_AUTHORS:
        return ", ".join(names[: MAX_LISTED_AUTHORS - 1]) + ", … " + names[-1]
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + ", & " + names[-1]


def link(work: Work) -> str:
    """The one address the list shows: the DOI, else arXiv, else the URL given."""
    if work.doi:
        return f"https://doi.org/{work.doi}"
    if work.arxiv_id:
        return f"https://arxiv.org/abs/{work.arxiv_id}"
    return work.url


def _parts(work: Work) -> list[tuple[str, bool]]:
    """The reference as (text, italic) pieces, so the text and the HTML can't drift apart."""
    authors = author_list(work)
    title = work.title.rstrip(".")
    pieces: list[tuple[str, bool]] = []
    head = f"{authors} ({year_text(work)}). " if authors else ""
    standalone = work.entry_type.lower() in _STANDALONE_TYPES and not work.venue
    if authors:
        pieces.append((head, False))
        pieces += [(title, True), (". ", False)] if standalone else [(title + ". ", False)]
    else:
        # No author: the title takes the author's place, as APA does.
        pieces += [(title, standalone), (f" ({year_text(work)}). ", False)]
    if work.venue:
        pieces.append((work.venue, True))
        if work.volume:
            pieces += [(", ", False), (work.volume, True)]
            if work.number:
                pieces.append((f"({work.number})", False))
        if work.pages:
            pieces.append((f", {work.pages}", False))
        pieces.append((". ", False))
    if work.publisher and work.publisher != work.venue:
        pieces.append((f"{work.publisher}. ", False))
    return pieces


def reference_text(work: Work) -> str:
    address = link(work)
    text = "".join(text for text, _ in _parts(work)).strip()
    return f"{text} {address}" if address else text


def reference_html(work: Work) -> str:
    html = "".join(
        f"<em>{escape(text)}</em>" if italic else escape(text) for text, italic in _parts(work)
    ).strip()
    address = link(work)
    if address:
        html += f' <a href="{escape(address)}">{escape(address)}</a>'
    return html
