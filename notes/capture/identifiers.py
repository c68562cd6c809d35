"""Papers by identifier: a DOI or an arXiv id (or a doi.org / arxiv.org address) looked up in
the arXiv API and Crossref, through the safe fetcher, with the answers cached.

The services' addresses come from settings (KB_ARXIV_API_URL, KB_CROSSREF_API_URL), so the
tests point them at a local server with fixture answers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlencode

import feedparser
from django.conf import settings
from django.core.cache import cache

from notes.bibliography.parsing import person
from notes.capture.metadata import PageMetadata, normalise_date
from notes.fetching import FetchError, FetchFailed, fetch
from notes.importing.feeds import html_to_paragraphs

CACHE_SECONDS = 7 * 24 * 3600
_ARXIV_NEW = r"\d{4}\.\d{4,5}"
_ARXIV_OLD = r"[a-z][a-z.-]+(?:\.[A-Z]{2})?/\d{7}"
_ARXIV = re.compile(
    rf"^(?:arxiv:\s*|(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/)?"
    rf"(?P<id>{_ARXIV_NEW}|{_ARXIV_OLD})(?P<version>v\d+)?(?:\.pdf)?/?$",
    re.IGNORECASE,
)
_DOI = re.compile(
    r"^(?:doi:\s*|(?:https?://)?(?:dx\.)?doi\.org/)?(?P<doi>10\.\d{4,9}/\S+)$", re.IGNORECASE
)
# Crossref's work types as BibTeX entry types.
_CROSSREF_TYPES = {
    "journal-article": "article", "proceedings-article": "inproceedings", "book": "book",
    "monograph": "book", "edited-book": "book", "book-chapter": "incollection",
    "report": "techreport", "dissertation": "phdthesis", "posted-content": "misc",
}  # fmt: skip
_ARXIV_DOI = re.compile(rf"^10\.48550/arxiv\.(?P<id>{_ARXIV_NEW}|{_ARXIV_OLD})$", re.IGNORECASE)


class LookupFailed(Exception):
    """The paper could not be looked up; the message says why, for the person who asked.
    `unknown` is true when the registry answered that it has no such paper."""

    def __init__(self, message: str, *, unknown: bool = False) -> None:
        super().__init__(message)
        self.unknown = unknown


@dataclass(frozen=True)
class Identifier:
    kind: str  # "arxiv" or "doi"
    value: str

    def __str__(self) -> str:
        return f"arXiv:{self.value}" if self.kind == "arxiv" else f"doi:{self.value}"

    @property
    def url(self) -> str:
        if self.kind == "arxiv":
            return f"https://arxiv.org/abs/{self.value}"
        return f"https://doi.org/{self.value}"


def parse_identifier(text: str) -> Identifier | None:
    """An arXiv id or DOI in any of the ways people paste them, or None."""
    text = unquote(text.strip())
    if match := _ARXIV.match(text):
        return Identifier("arxiv", match["id"])
    if match := _DOI.match(text):
        doi = match["doi"].rstrip(".,;")
        if arxiv := _ARXIV_DOI.match(doi):
            return Identifier("arxiv", arxiv["id"])
        return Identifier("doi", doi.lower())
    return None


def look_up(identifier: Identifier) -> PageMetadata:
    """What the paper's registry says about it; LookupFailed if it can't be reached or
    doesn't know it. Answers are kept for a week; failures are not kept."""
    key = f"kb:paper:{identifier.kind}:{identifier.value}"
    cached = cache.get(key)
    if cached is not None:
        return PageMetadata(**cached)
    found = _arxiv(identifier.value) if identifier.kind == "arxiv" else _crossref(identifier.value)
    cache.set(key, found.as_dict(), CACHE_SECONDS)
    return found


def _get(url: str, service: str, accept: str, wanted: str) -> bytes:
    try:
        return fetch(url, max_bytes=1_000_000, accept=accept).content
    except FetchFailed as exc:
        if exc.status == 404:
            raise LookupFailed(f"{service} knows no paper {wanted}.", unknown=True) from exc
        raise LookupFailed(f"Could not reach {service}: {exc}") from exc
    except FetchError as exc:
        raise LookupFailed(f"Could not reach {service}: {exc}") from exc


def _arxiv(arxiv_id: str) -> PageMetadata:
    query = urlencode({"id_list": arxiv_id, "max_results": 1})
    data = _get(f"{settings.KB_ARXIV_API_URL}?{query}", "arXiv", "application/atom+xml", arxiv_id)
    entries = [e for e in feedparser.parse(data).entries if e.get("title") and "id" in e]
    # arXiv answers an unknown id with an entry titled "Error".
    if not entries or entries[0].get("title") == "Error":
        raise LookupFailed(f"arXiv knows no paper {arxiv_id}.", unknown=True)
    entry = entries[0]
    names = [a.get("name", "") for a in entry.get("authors", []) if a.get("name")]
    return PageMetadata(
        title=" ".join(entry.title.split()),
        url=f"https://arxiv.org/abs/{arxiv_id}",
        description=" ".join(entry.get("summary", "").split()),
        authors=names,
        published=normalise_date(entry.get("published", "")),
        site_name="arXiv",
        keywords=[t.get("term", "") for t in entry.get("tags", []) if t.get("term")],
        doi=entry.get("arxiv_doi", ""),
        arxiv_id=arxiv_id,
        people=[person(name) for name in names],
        details={"entry_type": "misc"},
    )


def _crossref(doi: str) -> PageMetadata:
    data = _get(
        settings.KB_CROSSREF_API_URL + quote(doi, safe="/"), "Crossref", "application/json", doi
    )
    try:
        work = json.loads(data)["message"]
    except (ValueError, KeyError, TypeError) as exc:
        raise LookupFailed(f"Crossref's answer about {doi} could not be read.") from exc
    parts = (work.get("issued") or work.get("published") or {}).get("date-parts") or [[]]
    date = "-".join(str(p).zfill(2) for p in parts[0] if p)
    # JATS markup: <jats:title>Abstract</jats:title><jats:p>…</jats:p>
    jats = re.sub(r"</?jats:(?:p|title|sec)\b[^>]*>", "<p>", work.get("abstract", ""))
    paragraphs = [p for p in html_to_paragraphs(jats) if p.lower() != "abstract"]
    abstract = " ".join(paragraphs)
    people = [
        {"family": a["family"], "given": a.get("given") or ""}
        if a.get("family")
        else {"literal": a.get("name") or ""}
        for a in work.get("author", [])
        if a.get("family") or a.get("name")
    ]
    details = {
        "entry_type": _CROSSREF_TYPES.get(work.get("type", ""), "misc"),
        "volume": str(work.get("volume") or ""),
        "number": str(work.get("issue") or ""),
        "pages": str(work.get("page") or ""),
        "publisher": str(work.get("publisher") or ""),
    }
    return PageMetadata(
        title=" ".join(" ".join(work.get("title") or []).split()),
        url=work.get("URL") or f"https://doi.org/{doi}",
        description=abstract,
        authors=[
            " ".join(filter(None, [a.get("given"), a.get("family")])) or a.get("name", "")
            for a in work.get("author", [])
        ],
        published=normalise_date(date),
        site_name=" ".join(work.get("container-title") or []),
        keywords=list(work.get("subject") or []),
        doi=doi,
        people=[p for p in people if p.get("family") or p.get("literal")],
        details={name: value for name, value in details.items() if value},
    )
