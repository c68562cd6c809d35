"""What a page says about itself: <title>, OpenGraph, Twitter cards, Highwire `citation_*` meta
(what Google Scholar reads, and what journals and arXiv print) and JSON-LD articles.

Each source fills what the better ones left empty, best first: `citation_*`, then JSON-LD, then
OpenGraph, then Twitter, then the plain <title> and description.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields
from html.parser import HTMLParser
from urllib.parse import urljoin

ARTICLE_TYPES = {
    "Article", "ScholarlyArticle", "NewsArticle", "BlogPosting", "TechArticle", "Report",
    "MedicalScholarlyArticle", "SocialMediaPosting", "Thesis", "Book", "Chapter",
}  # fmt: skip


@dataclass
class PageMetadata:
    title: str = ""
    url: str = ""
    description: str = ""
    authors: list[str] = field(default_factory=list)
    published: str = ""  # as the source wrote it, normalised to YYYY-MM-DD where it can be
    site_name: str = ""
    keywords: list[str] = field(default_factory=list)
    doi: str = ""
    arxiv_id: str = ""
    # What a paper's registry knows beyond a page's meta, for its bibliography entry: the
    # authors as {"family", "given"}, and "entry_type", "volume", "number", "pages", "publisher".
    people: list[dict[str, str]] = field(default_factory=list)
    details: dict[str, str] = field(default_factory=dict)

    def fill_from(self, other: PageMetadata) -> PageMetadata:
        """Take from `other` whatever is still empty here."""
        for f in fields(self):
            if not getattr(self, f.name):
                setattr(self, f.name, getattr(other, f.name))
        return self

    @property
    def year(self) -> str:
        return self.published[:4] if self.published[:4].isdigit() else ""

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class _HeadReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, list[str]] = {}
        self.canonical = ""
        self.title = ""
        self.json_ld: list[str] = []
        self._in: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        attributes = {name.lower(): (value or "") for name, value in attrs}
        if tag == "meta":
            key = (attributes.get("property") or attributes.get("name") or "").strip().lower()
            if key and "content" in attributes:
                self.meta.setdefault(key, []).append(attributes["content"].strip())
        elif tag == "link" and "canonical" in attributes.get("rel", "").lower().split():
            self.canonical = self.canonical or attributes.get("href", "")
        elif tag == "title" and not self.title:
            self._in, self._text = "title", []
        elif tag == "script" and attributes.get("type", "").lower() == "application/ld+json":
            self._in, self._text = "json-ld", []

    def handle_data(self, data: str) -> None:
        if self._in:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._in == "title" and tag == "title":
            self.title = " ".join("".join(self._text).split())
            self._in = None
        elif self._in == "json-ld" and tag == "script":
            self.json_ld.append("".join(self._text))
            self._in = None


def _clean(text: str) -> str:
    return " ".join(text.split())


def normalise_date(value: str) -> str:
    """'2020/06/19', '2020-06-19T10:00:00Z' → '2020-06-19'; a year alone stays a year."""
    match = re.match(r"\s*(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?", value or "")
    if not match:
        return ""
    year, month, day = match.groups()
    return "-".join(p.zfill(2) for p in (year, month, day) if p)


def _highwire(meta: dict[str, list[str]]) -> PageMetadata:
    first = {key: values[0] for key, values in meta.items() if values}
    date = (
        first.get("citation_publication_date")
        or first.get("citation_date")
        or first.get("citation_online_date")
        or ""
    )
    keywords = [k for value in meta.get("citation_keywords", []) for k in re.split(r"[;,]", value)]
    return PageMetadata(
        title=_clean(first.get("citation_title", "")),
        url=first.get("citation_abstract_html_url", ""),
        description=_clean(first.get("citation_abstract", "")),
        authors=[_clean(a) for a in meta.get("citation_author", []) if a.strip()],
        published=normalise_date(date),
        site_name=_clean(
            first.get("citation_journal_title", "") or first.get("citation_conference_title", "")
        ),
        keywords=[_clean(k) for k in keywords if k.strip()],
        doi=first.get("citation_doi", "").removeprefix("doi:").strip(),
        arxiv_id=first.get("citation_arxiv_id", "").strip(),
    )


def _names(value) -> list[str]:
    if isinstance(value, list):
        return [name for item in value for name in _names(item)]
    if isinstance(value, dict):
        value = value.get("name") or " ".join(
            filter(None, [value.get("givenName"), value.get("familyName")])
        )
    return [_clean(value)] if isinstance(value, str) and value.strip() else []


def _nodes(data):
    """Every object in a JSON-LD document, through lists and @graph."""
    if isinstance(data, list):
        for item in data:
            yield from _nodes(item)
    elif isinstance(data, dict):
        yield data
        yield from _nodes(data.get("@graph", []))


def _json_ld(blocks: list[str]) -> PageMetadata:
    for block in blocks:
        try:
            data = json.loads(block)
        except ValueError:
            continue  # a broken block on someone else's page is not our error
        for node in _nodes(data):
            types = node.get("@type", [])
            types = {types} if isinstance(types, str) else set(types)
            if not types & ARTICLE_TYPES:
                continue
            keywords = node.get("keywords", [])
            if isinstance(keywords, str):
                keywords = keywords.split(",")
            publisher = node.get("publisher") or node.get("isPartOf") or {}
            title = node.get("headline") or node.get("name") or ""
            return PageMetadata(
                title=_clean(title) if isinstance(title, str) else "",
                url=node.get("url", "") if isinstance(node.get("url"), str) else "",
                description=_clean(str(node.get("description") or node.get("abstract") or "")),
                authors=_names(node.get("author", [])),
                published=normalise_date(str(node.get("datePublished", ""))),
                site_name=(_names(publisher) or [""])[0],
                keywords=[_clean(str(k)) for k in keywords if str(k).strip()],
            )
    return PageMetadata()


def _social(meta: dict[str, list[str]], prefix: str) -> PageMetadata:
    first = {key: values[0] for key, values in meta.items() if values}
    return PageMetadata(
        title=_clean(first.get(f"{prefix}:title", "")),
        url=first.get(f"{prefix}:url", ""),
        description=_clean(first.get(f"{prefix}:description", "")),
        authors=[_clean(a) for a in meta.get("article:author", []) if a and "://" not in a],
        published=normalise_date(first.get("article:published_time", "")),
        site_name=_clean(first.get(f"{prefix}:site_name", "")),
        keywords=[_clean(t) for t in meta.get("article:tag", []) if t.strip()],
    )


def read_page(html: str, base_url: str) -> PageMetadata:
    reader = _HeadReader()
    reader.feed(html)
    reader.close()
    meta = reader.meta
    first = {key: values[0] for key, values in meta.items() if values}
    plain = PageMetadata(
        title=reader.title,
        url=reader.canonical,
        description=_clean(first.get("description", "")),
        authors=[_clean(a) for a in meta.get("author", []) if a.strip()],
        keywords=[_clean(k) for k in first.get("keywords", "").split(",") if k.strip()],
    )
    found = _highwire(meta)
    for other in (_json_ld(reader.json_ld), _social(meta, "og"), _social(meta, "twitter"), plain):
        found.fill_from(other)
    found.url = urljoin(base_url, found.url) if found.url else base_url
    return found
