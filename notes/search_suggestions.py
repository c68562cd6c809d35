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

from django.db import connection
from django.db.models import BooleanField, FloatField
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils.http import urlencode

from notes import site_state
from notes.catalogue import catalogue
from notes.models import Post, Tag
from notes.search import engine
from notes.search_query import SearchQuery, fold
from notes.search_ranking import find

LIMIT = 3
MAX_WORDS = 6
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
    words = list(dict.fromkeys(words))[:MAX_WORDS]
    if connection.vendor == "postgresql":
        posts, tags = _close_on_postgres(words)
    else:
        posts, tags = _close_on_sqlite(words, state)
    return Suggestions(
        posts=[Suggestion(p.title, p.get_absolute_url()) for p in posts],
        tags=[Suggestion(t.name, t.get_absolute_url()) for t in tags],
        broader=_without_rarest_word(query, state),
    )


def _public_tags():
    return Tag.objects.filter(posts__in=Post.objects.published()).distinct()


def _close_on_postgres(words: list[str]):
    return (
        _trigram_closest(Post.objects.published(), "title", words, "-published_at"),
        _trigram_closest(Tag.objects.filter(pk__in=_public_tags().values("pk")), "name", words),
    )


def _trigram_closest(queryset, column: str, words: list[str], *tie_order: str) -> list:
    """The rows whose `column` holds a word close to one of `words`, closest first. `<%` is
    pg_trgm's word-similarity operator, which the trigram index (migration 0015) answers."""
    table = queryset.model._meta.db_table
    near = " OR ".join([f"%s <%% {table}.{column}"] * len(words))
    closest = "GREATEST(" + ", ".join([f"word_similarity(%s, {table}.{column})"] * len(words))
    with connection.cursor() as cursor:
        # Per session: the operator reads its threshold from this setting.
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, false)",
            [str(PG_SIMILARITY)],
        )
    return list(
        queryset.filter(RawSQL(near, words, output_field=BooleanField()))
        .annotate(similarity=RawSQL(closest + ")", words, output_field=FloatField()))
        .order_by("-similarity", *tie_order, "pk")[:LIMIT]
    )


@dataclass(frozen=True)
class _Names:
    """Published titles and public tag names, newest post first, with the words they hold."""

    token: str
    titles: list[tuple[int, set[str]]]
    tags: list[tuple[int, set[str]]]
    vocabulary: list[str]


_names: _Names | None = None


def _names_for(state) -> _Names:
    # Kept per worker and per change of the site, like the search catalogue.
    global _names
    token = (state or site_state.current()).token
    if _names is None or _names.token != token:
        titles = Post.objects.published().order_by("-published_at", "-pk")
        title_words = [(pk, _words(t)) for pk, t in titles.values_list("pk", "title")]
        tags = _public_tags().order_by("name").values_list("pk", "name")
        tag_words = [(pk, _words(name)) for pk, name in tags]
        vocabulary = sorted({w for _, words in title_words + tag_words for w in words})
        _names = _Names(token, title_words, tag_words, vocabulary)
    return _names


def _close_on_sqlite(words: list[str], state):
    names = _names_for(state)
    close: dict[str, float] = {}
    for word in words:
        for match in difflib.get_close_matches(word, names.vocabulary, 20, SQLITE_SIMILARITY):
            ratio = difflib.SequenceMatcher(None, word, match).ratio()
            close[match] = max(close.get(match, 0), ratio)

    def closest(rows) -> list[int]:
        if not close:
            return []
        scored = [(max((close.get(w, 0) for w in own), default=0), pk) for pk, own in rows]
        # A stable sort: equals stay newest first (posts) or by name (tags).
        return [pk for score, pk in sorted(scored, key=lambda s: -s[0]) if score][:LIMIT]

    post_ids, tag_ids = closest(names.titles), closest(names.tags)
    found_posts = Post.objects.published().only("title", "slug").in_bulk(post_ids)
    found_tags = Tag.objects.in_bulk(tag_ids)
    return [found_posts[pk] for pk in post_ids], [found_tags[pk] for pk in tag_ids]


def _words(name: str) -> set[str]:
    return {fold(w) for w in _WORD.findall(name)}


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
