"""How others refer to a post: a "Cite as" line and a BibTeX entry for people, and schema.org
JSON-LD for search engines. All are built from the same few facts: title, author, dates, URL."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from notes.models import Post

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
# Inside <script>, these could close the element or open a comment; JSON allows their escapes.
_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}
_KEY_STOPWORDS = {"a", "an", "the", "on", "of", "in", "to", "and", "for", "with", "what", "how"}


@dataclass(frozen=True)
class Citation:
    text: str
    bibtex: str


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


def citation_for(post: Post, url: str, site: str) -> Citation:
    """The Cite-as line and BibTeX entry of a published post whose absolute address is `url`,
    on the site called `site`."""
    published = post.published_at
    author = author_for_citation(post)
    text = f"{author}. ({published:%b %Y}). {post.title}. {site}. {url}"
    fields = {
        "title": _bibtex_escape(post.title),
        "author": _bibtex_escape(author),
        "howpublished": _bibtex_escape(site),
        "year": f"{published:%Y}",
        "month": f"{published:%b}".lower(),
        "url": url,
    }
    width = max(len(name) for name in fields)
    lines = [
        # Month macros (jan, feb, ...) are bare words in BibTeX; every other value is braced.
        f"  {name.ljust(width)} = {value if name == 'month' else '{' + value + '}'}"
        for name, value in fields.items()
    ]
    bibtex = f"@misc{{{citation_key(post)},\n" + ",\n".join(lines) + "\n}"
    return Citation(text=text, bibtex=bibtex)


def citation_key(post: Post) -> str:
    """A key like "hopper2023attention": author's family name, year, first telling title word."""
    family = post.author_name.split()[-1] if _has_display_name(post.author) else ""
    name = _ascii_word(family or post.author.last_name or post.author_name) or "anon"
    words = [_ascii_word(w) for w in post.title.split()]
    word = next((w for w in words if w[:1].isalpha() and w not in _KEY_STOPWORDS), "post")
    return f"{name}{post.published_at:%Y}{word}"


def _ascii_word(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())


def _bibtex_escape(text: str) -> str:
    return "".join(_BIBTEX_ESCAPES.get(char, char) for char in text)


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
