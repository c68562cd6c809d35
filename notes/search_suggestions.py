"""What to offer when a search finds nothing: close titles and tags, the query without its
rarest word, and the tag page a word names.

Close titles and tags are found by trigram similarity on PostgreSQL (`pg_trgm`'s
word_similarity, so a misspelt word matches a word of a long title) and, on SQLite, by
RapidFuzz's similarity ratio (twice the letters in common, in order, over both words' length:
difflib's measure, computed exactly and in C) between the query's words and the words of
titles and tag names. Both read only published posts and the tags they carry.

Neither walks every title. Where titles look alike (a vault of `2024-05-01 Daily` notes, or
the bench's synthetic ones), nearly every title passes the trigram threshold, and scoring them
all took 200-450 ms at 10,000 posts on PostgreSQL and difflib 20 ms a word on SQLite. So
PostgreSQL asks a GiST index for each word's nearest titles, best first, and stops at the
few it shows (migration 0019); SQLite looks the close words up in an index of title words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import BooleanField, FloatField
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils.http import urlencode
from rapidfuzz import fuzz, process

from notes import site_state
from notes.catalogue import catalogue
from notes.models import Post, Tag
from notes.search import engine
from notes.search_query import SearchQuery, fold
from notes.search_ranking import find

LIMIT = 3
CANDIDATES = 4 * LIMIT  # per word, of the nearest titles on PostgreSQL
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
    _set_similarity_threshold()
    return (
        _nearest_titles(words),
        _trigram_closest(Tag.objects.filter(pk__in=_public_tags().values("pk")), "name", words),
    )


def _set_similarity_threshold() -> None:
    with connection.cursor() as cursor:
        # Per session: the `<%` operator reads its threshold from this setting.
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, false)",
            [str(PG_SIMILARITY)],
        )


def _nearest_titles(words: list[str]) -> list[Post]:
    """The published posts whose title holds a word closest to one of `words`, closest first,
    then newest. Each word's nearest titles come from the GiST index in distance order
    (`<<->`, one minus word_similarity), in one statement; the best of those are the best
    overall, since a title's score is its best word's. The index gives titles equally close
    in no set order, so each word brings a few more than are shown, and the newest of those
    stand first."""
    per_word = [
        Post.objects.published()
        .only("title", "slug", "published_at")
        .filter(RawSQL("%s <%% notes_post.title", [word], output_field=BooleanField()))
        .annotate(
            similarity=RawSQL(
                "word_similarity(%s, notes_post.title)", [word], output_field=FloatField()
            )
        )
        # Distance alone: a second sort key would make PostgreSQL sort every passing title.
        .order_by(RawSQL("%s <<-> notes_post.title", [word]))[:CANDIDATES]
        for word in words
    ]
    rows = per_word[0].union(*per_word[1:], all=True) if len(per_word) > 1 else per_word[0]
    best: dict[int, Post] = {}
    for post in rows:
        if post.pk not in best or post.similarity > best[post.pk].similarity:
            best[post.pk] = post
    ranked = sorted(best.values(), key=lambda p: (-p.similarity, -p.published_at.timestamp(), p.pk))
    return ranked[:LIMIT]


def _trigram_closest(queryset, column: str, words: list[str]) -> list:
    """The rows whose `column` holds a word close to one of `words`, closest first. `<%` is
    pg_trgm's word-similarity operator, which the trigram index (migration 0011) answers;
    for the few hundred tag names a site has, scoring each one that passes is cheap."""
    table = queryset.model._meta.db_table
    near = " OR ".join([f"%s <%% {table}.{column}"] * len(words))
    closest = "GREATEST(" + ", ".join([f"word_similarity(%s, {table}.{column})"] * len(words))
    return list(
        queryset.filter(RawSQL(near, words, output_field=BooleanField()))
        .annotate(similarity=RawSQL(closest + ")", words, output_field=FloatField()))
        .order_by("-similarity", "pk")[:LIMIT]
    )


@dataclass(frozen=True)
class _Names:
    """Published titles (newest post first) and public tag names (by name), and for each word
    they hold, where it stands in those lists."""

    token: str
    posts: list[int]
    tags: list[int]
    in_titles: dict[str, list[int]]
    in_tags: dict[str, list[int]]
    vocabulary: list[str]


_names: _Names | None = None


def _word_index(names: list[str]) -> dict[str, list[int]]:
    index: dict[str, list[int]] = {}
    for at, name in enumerate(names):
        for word in _words(name):
            index.setdefault(word, []).append(at)
    return index


def _names_for(state) -> _Names:
    # Kept per worker and per change of the site, like the search catalogue.
    global _names
    token = (state or site_state.current()).token
    if _names is None or _names.token != token:
        titles = Post.objects.published().order_by("-published_at", "-pk")
        posts, post_titles = _columns(titles.values_list("pk", "title"))
        tags, tag_names = _columns(_public_tags().order_by("name").values_list("pk", "name"))
        in_titles, in_tags = _word_index(post_titles), _word_index(tag_names)
        vocabulary = sorted(in_titles.keys() | in_tags.keys())
        _names = _Names(token, posts, tags, in_titles, in_tags, vocabulary)
    return _names


def _columns(rows) -> tuple[list, list]:
    rows = list(rows)
    return [row[0] for row in rows], [row[1] for row in rows]


def _close_on_sqlite(words: list[str], state):
    names = _names_for(state)
    close: dict[str, float] = {}
    for word in words:
        for match, ratio, _ in process.extract(
            word,
            names.vocabulary,
            scorer=fuzz.ratio,
            score_cutoff=SQLITE_SIMILARITY * 100,
            limit=20,
        ):
            close[match] = max(close.get(match, 0), ratio)

    def closest(ids: list[int], index: dict[str, list[int]]) -> list[int]:
        """A name's score is its closest word's; equals stay in the list's order (newest
        post first, tags by name)."""
        score: dict[int, float] = {}
        for word, ratio in close.items():
            for at in index.get(word, ()):
                score[at] = max(score.get(at, 0), ratio)
        return [ids[at] for at in sorted(score, key=lambda at: (-score[at], at))[:LIMIT]]

    post_ids = closest(names.posts, names.in_titles)
    tag_ids = closest(names.tags, names.in_tags)
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
