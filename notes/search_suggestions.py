"""What to offer when a search finds nothing: close titles and tags, the query without its
rarest word, and the tag page a word names.

Close titles and tags are found by trigram similarity on PostgreSQL (`pg_trgm`'s
word_similarity, so a misspelt word matches a word of a long title) and, on SQLite, by
difflib's similarity ratio between the query's words and the words of titles and tag names.
Both read only published posts and the tags they carry. This runs only on a page with no
results, so its cost (a pass over the titles on SQLite) is paid rarely.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from django.contrib.postgres.search import TrigramWordSimilarity
from django.db import connection
from django.urls import reverse
from django.utils.http import urlencode

from notes import site_state
from notes.models import Post, Tag
from notes.search import engine
from notes.search_query import SearchQuery
from notes.search_ranking import catalogue, find

LIMIT = 3
# word_similarity from here up reads as "the same word, misspelt" (pg_trgm itself uses 0.6).
PG_SIMILARITY = 0.4
SQLITE_SIMILARITY = 0.75
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Suggestion:
    label: str
    href: str


@dataclass(frozen=True)
class Suggestions:
    posts: list[Suggestion]
    tags: list[Suggestion]
    broader: Suggestion | None

    def __bool__(self) -> bool:
        return bool(self.posts or self.tags or self.broader)


def suggest(query: SearchQuery, state: site_state.State | None = None) -> Suggestions:
    words = [word for term in query.terms for word in term.words]
    if not words:
        return Suggestions([], [], None)
    if connection.vendor == "postgresql":
        posts, tags = _close_on_postgres(" ".join(words))
    else:
        posts, tags = _close_on_sqlite(words)
    return Suggestions(
        posts=[Suggestion(p.title, p.get_absolute_url()) for p in posts],
        tags=[Suggestion(t.name, t.get_absolute_url()) for t in tags],
        broader=_without_rarest_word(query, state),
    )


def _public_tags():
    return Tag.objects.filter(posts__in=Post.objects.published()).distinct()


def _close_on_postgres(text: str):
    posts = (
        Post.objects.published()
        .annotate(similarity=TrigramWordSimilarity(text, "title"))
        .filter(similarity__gte=PG_SIMILARITY)
        .order_by("-similarity", "-published_at")
        .only("title", "slug")[:LIMIT]
    )
    tags = (
        Tag.objects.filter(pk__in=_public_tags().values("pk"))
        .annotate(similarity=TrigramWordSimilarity(text, "name"))
        .filter(similarity__gte=PG_SIMILARITY)
        .order_by("-similarity", "name")[:LIMIT]
    )
    return list(posts), list(tags)


def _close_on_sqlite(words: list[str]):
    def closeness(name: str) -> float:
        """How well the query's words match this name's closest words, 0 to 1."""
        own = [w.lower() for w in _WORD.findall(name)]
        best = [
            max((difflib.SequenceMatcher(None, word, w).ratio() for w in own), default=0)
            for word in words
        ]
        return sum(best) / len(best)

    titles = Post.objects.published().order_by("-published_at").only("title", "slug")
    posts = [(closeness(p.title), p) for p in titles.iterator(chunk_size=2000)]
    tags = [(closeness(t.name), t) for t in _public_tags().order_by("name")]
    # Stable sorts: equals stay newest first (posts) or by name (tags).
    return (
        [p for score, p in sorted(posts, key=lambda s: -s[0]) if score >= SQLITE_SIMILARITY][
            :LIMIT
        ],
        [t for score, t in sorted(tags, key=lambda s: -s[0]) if score >= SQLITE_SIMILARITY][:LIMIT],
    )


def _without_rarest_word(query: SearchQuery, state) -> Suggestion | None:
    """With two words or more, the query without the one that fewest published posts hold,
    if what is left finds something."""
    if len(query.clauses) < 2:
        return None
    published = catalogue(state).position.keys()
    with connection.cursor() as cursor:
        counts = [
            len(engine().matching_ids(cursor, [clause]) & published) for clause in query.clauses
        ]
    rarest = min(range(len(counts)), key=counts.__getitem__)
    broader = query.without_clause(rarest)
    if not find(broader, state).ids:
        return None
    dropped = " OR ".join(str(term) for term in query.clauses[rarest])
    href = reverse("notes:search") + "?" + urlencode({"q": broader.as_text()})
    return Suggestion(f"without “{dropped}”", href)
