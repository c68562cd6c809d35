"""How others refer to a post: a "Cite as" line, BibTeX, CSL-JSON and RIS for people and their
reference managers, Highwire Press `citation_*` tags for Google Scholar and Zotero, and schema.org
JSON-LD for search engines. All are built from the same few facts: title, author, dates, URL."""

from __future__ import annotations

import datetime
import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from notes.bibliography.writing import format_entry
from notes.models import Post

# Inside <script>, these could close the element or open a comment; JSON allows their escapes.
_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}
_KEY_STOPWORDS = {"a", "an", "the", "on", "of", "in", "to", "and", "for", "with", "what", "how"}


@dataclass(frozen=True)
class Citation:
    text: str
    bibtex: str


def author_parts(post: Post) -> tuple[str, str]:
    """(family, given) from the author's name as the site shows it ("Grace Hopper" → Hopper,
    Grace); a single word (a username) is all family name."""
    given, _, family = post.author_name.strip().rpartition(" ")
    return family, given


def author_for_citation(post: Post) -> str:
    """The name the author chose for readers (their profile's) as they wrote it; else
    "Family, Given" when the account has both names, else whatever name they have."""
    user = post.author
    if not _has_display_name(user) and user.last_name and user.first_name:
        return f"{user.last_name}, {user.first_name}"
    return post.author_name


def _has_display_name(user) -> bool:
    # A missing profile raises RelatedObjectDoesNotExist, an AttributeError.
    profile = getattr(user, "author_profile", None)
    return bool(profile and profile.display_name.strip())


def citation_for(post: Post, url: str, site: str, accessed: datetime.date) -> Citation:
    """The Cite-as line and BibTeX entry of a published post whose absolute address is `url`,
    on the site called `site`, as read on `accessed`."""
    published = post.published_at
    author = author_for_citation(post)
    text = (
        f"{author}. ({published:%b %Y}). {post.title}. {site}. {url} (accessed {accessed:%Y-%m-%d})"
    )
    fields = {
        "title": post.title,
        "author": author,
        "howpublished": site,
        "year": f"{published:%Y}",
        "month": f"{published:%b}".lower(),
        "url": url,
        "urldate": f"{accessed:%Y-%m-%d}",
    }
    # @misc rather than biblatex's @online, so plain BibTeX styles read it too; urldate is
    # biblatex's access date, and BibTeX ignores a field it does not know.
    bibtex = format_entry("misc", citation_key(post), fields, raw={"url"})
    return Citation(text=text, bibtex=bibtex)


def csl_json(post: Post, url: str, site: str, accessed: datetime.date) -> list[dict[str, Any]]:
    """The post as CSL-JSON, which Zotero, Pandoc and citeproc read: a one-item list."""
    family, given = author_parts(post)
    published = post.published_at
    return [
        {
            "id": citation_key(post),
            "type": "post-weblog",
            "title": post.title,
            "author": [{"family": family, "given": given} if given else {"literal": family}],
            "issued": {"date-parts": [[published.year, published.month, published.day]]},
            "accessed": {"date-parts": [[accessed.year, accessed.month, accessed.day]]},
            "container-title": site,
            "publisher": site,
            "URL": url,
            "abstract": post.excerpt,
        }
    ]


def ris(post: Post, url: str, site: str, accessed: datetime.date) -> str:
    """The post as an RIS record (EndNote, Mendeley, Zotero), CRLF line ends as the format has."""
    lines = [
        ("TY", "BLOG"),
        ("TI", post.title),
        ("AU", author_for_citation(post)),
        ("PY", f"{post.published_at:%Y}"),
        ("DA", f"{post.published_at:%Y/%m/%d}"),
        ("T2", site),
        ("PB", site),
        ("UR", url),
        ("Y2", f"{accessed:%Y/%m/%d}"),
        ("AB", " ".join(post.excerpt.split())),
        ("ER", ""),
    ]
    return "".join(
        f"{tag}  - {value}".rstrip(" ") + "\r\n" for tag, value in lines if value or tag == "ER"
    )


def highwire_tags(post: Post, url: str, site: str) -> list[tuple[str, str]]:
    """Highwire Press `citation_*` (name, content) pairs, as Google Scholar's inclusion
    guidelines ask for: title, author, publication date, where it appeared, the full text."""
    published = post.published_at
    tags = [
        ("citation_title", post.title),
        ("citation_author", author_for_citation(post)),
        ("citation_publication_date", f"{published:%Y/%m/%d}"),
        ("citation_online_date", f"{published:%Y/%m/%d}"),
        ("citation_journal_title", site),
        ("citation_publisher", site),
        ("citation_fulltext_html_url", url),
        ("citation_abstract_html_url", url),
    ]
    tags += [("citation_keywords", tag.name) for tag in post.tags.all()]
    return tags


def citation_key(post: Post) -> str:
    """A key like "hopper2023attention": author's family name, year, first telling title word."""
    name = _ascii_word(author_parts(post)[0]) or "anon"
    words = [_ascii_word(w) for w in post.title.split()]
    word = next((w for w in words if w[:1].isalpha() and w not in _KEY_STOPWORDS), "post")
    return f"{name}{post.published_at:%Y}{word}"


def _ascii_word(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())


def blog_posting(post: Post, url: str, site: str) -> dict[str, Any]:
    """schema.org BlogPosting for a post, with `dateModified` from its update notes."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "headline": post.title,
        "description": post.excerpt,
        "url": url,
        "mainEntityOfPage": url,
        "author": {"@type": "Person", "name": post.author_name},
        "publisher": {"@type": "Organization", "name": site},
        "keywords": [tag.name for tag in post.tags.all()],
    }
    if post.published_at:
        data["datePublished"] = post.published_at.isoformat()
        data["dateModified"] = post.last_updated.isoformat()
    if post.source_url:
        data["isBasedOn"] = post.source_url
    return data


def json_ld_script(data: dict[str, Any]) -> SafeString:
    """A <script type="application/ld+json"> element that no string in `data` can break out of.

    Django's `json_script` only writes type="application/json", so this applies its escaping.
    """
    payload = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False)
    return format_html(
        '<script type="application/ld+json">{}</script>',
        mark_safe(payload.translate(_SCRIPT_ESCAPES)),  # escaped just above
    )
