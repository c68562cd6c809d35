"""Full-text search over posts: one small interface, a PostgreSQL and a SQLite engine behind it.

PostgreSQL keeps a weighted tsvector per post (title A, summary and tags B, body C) in
`notes_post_search`, under GIN indexes (its engine is notes/search_postgres.py). SQLite keeps
an FTS5 table, `notes_post_fts`, with one column per field. Both are written explicitly by
`index_post` (called from the services) rather than by triggers: Django rebuilds a SQLite table
when a migration alters it, dropping its triggers.

The index holds every post, drafts too. An engine only answers which ids match; who may see
what is decided in notes/search_ranking.py, against `Post.objects.published()`, so publishing,
unpublishing or a scheduled date passing needs no re-index and a draft can never leak through a
stale row.

Ranking (also there) is a tier, then relevance, then recency: a post whose title holds a
searched term comes first, then one whose summary or tags do, then a body-only match. Within a
tier the engine's own score orders them (FTS5's bm25, PostgreSQL's ts_rank_cd divided by the
log of the document's length), so a post that discusses a term at length comes before one that
mentions it in passing; newer first only on equal scores. The two scores are different numbers,
but both grow with how often the words occur and shrink with the length of the post, so on
clear cases the engines agree (tests/test_search.py holds such a fixture).

What is indexed is the post read as prose (notes/search_text.py), which is also what snippets
are cut from: no Markdown syntax, and formulas as one mark that the page shows as a token.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from notes import site_state
from notes.models import Post
from notes.search_postgres import PostgresEngine
from notes.search_query import SearchQuery, Term
from notes.search_text import (
    FORMULA,
    MARK_END,
    MARK_START,
    SNIPPET_WORDS,
    prose,
    search_language,
)

FTS_TABLE = "notes_post_fts"
# bm25's weight for each FTS5 column: the tiers already put title and summary matches first,
# so within a tier these only decide how much a second field's match adds.
BM25_WEIGHTS = (4.0, 2.0, 2.0, 1.0)
FORMULA_HTML = '<span class="snippet-formula">formula</span>'

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def fts5_tokenizer(language: str) -> str:
    # FTS5's only stemmer is Porter's, for English; other languages are matched unstemmed.
    if language == "english":
        return "porter unicode61 remove_diacritics 2"
    return "unicode61 remove_diacritics 2"


@dataclass(frozen=True)
class Document:
    """What one post puts in the index."""

    post_id: int
    title: str
    summary: str
    tags: str
    body: str

    @classmethod
    def build(cls, post_id: int, title: str, summary: str, body: str, tags: Iterable[str]):
        return cls(
            post_id=post_id,
            title=_CONTROL.sub(" ", title),
            summary=prose(summary),
            tags=" ".join(_CONTROL.sub(" ", t) for t in tags),
            body=prose(body),
        )


# Which fields each ranking tier looks at, best first; everything else is the last tier.
TIERS: tuple[tuple[str, ...], ...] = (("title",), ("summary", "tags"))


class SqliteEngine:
    def create(self, cursor) -> None:
        cursor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
            f"title, summary, tags, body, tokenize = '{fts5_tokenizer(search_language())}')"
        )

    def drop(self, cursor) -> None:
        cursor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")

    def write(self, cursor, documents: Sequence[Document]) -> None:
        self.remove(cursor, [d.post_id for d in documents])
        cursor.executemany(
            f"INSERT INTO {FTS_TABLE} (rowid, title, summary, tags, body) "
            "VALUES (%s, %s, %s, %s, %s)",
            [(d.post_id, d.title, d.summary, d.tags, d.body) for d in documents],
        )

    def remove(self, cursor, post_ids: Sequence[int]) -> None:
        cursor.executemany(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [(i,) for i in post_ids])

    def analyze(self, cursor) -> None:
        """FTS5 keeps no planner statistics."""

    def matching_ids(
        self, cursor, clauses: Sequence[Sequence[Term]], fields: Sequence[str] = ()
    ) -> set[int]:
        """The ids of the posts (drafts too) whose `fields`, or whole text, match."""
        expression = _fts5_expression(clauses)
        if fields:
            expression = "{" + " ".join(fields) + "} : (" + expression + ")"
        # One string rather than a row per post: for a word most posts hold, stepping through
        # thousands of rows cost twice what joining and splitting them does.
        cursor.execute(
            f"SELECT group_concat(rowid) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [expression]
        )
        joined = cursor.fetchone()[0]
        return set(map(int, joined.split(","))) if joined else set()

    def text_matches(
        self, cursor, query: SearchQuery, tiers: Sequence[Sequence[str]]
    ) -> tuple[set[int], list[set[int]]]:
        """As PostgresEngine.text_matches; FTS5 tests a column filter only through its index,
        so here each set is a query of its own."""
        found = self.matching_ids(cursor, query.clauses)
        if found and query.excluded:
            found.difference_update(self.matching_ids(cursor, [query.excluded]))
        if not found:
            return found, [set() for _ in tiers]
        return found, [self.matching_ids(cursor, [query.terms], fields) for fields in tiers]

    def scores(
        self, cursor, clauses: Sequence[Sequence[Term]], post_ids: Sequence[int]
    ) -> dict[int, float]:
        """How well each of these posts matches the query, higher is better (bm25 is lower
        for better matches, so it is negated)."""
        if not post_ids:
            return {}
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        cursor.execute(
            f"SELECT rowid, -bm25({FTS_TABLE}, {weights}) FROM {FTS_TABLE} "
            # `+rowid`: a filter on the MATCH's rows. A plain `rowid IN` would be handed to
            # FTS5, which then runs the whole query once per id (seconds for a common word).
            f"WHERE {FTS_TABLE} MATCH %s AND +rowid IN ({', '.join(['%s'] * len(post_ids))})",
            [_fts5_expression(clauses), *post_ids],
        )
        return dict(cursor.fetchall())

    def snippets(self, cursor, terms: Sequence[Term], post_ids: Sequence[int]) -> dict[int, str]:
        anywhere = " OR ".join(_fts5_phrase(term) for term in terms)
        cursor.execute(
            f"SELECT rowid, snippet({FTS_TABLE}, -1, %s, %s, '…', {SNIPPET_WORDS}) "
            f"FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s "
            f"AND rowid IN ({', '.join(['%s'] * len(post_ids))})",
            [MARK_START, MARK_END, "{summary body} : (" + anywhere + ")", *post_ids],
        )
        return dict(cursor.fetchall())


def _fts5_expression(clauses: Sequence[Sequence[Term]]) -> str:
    return " AND ".join(
        "(" + " OR ".join(_fts5_phrase(term) for term in clause) + ")" for clause in clauses
    )


def _fts5_phrase(term: Term) -> str:
    # Words hold only letters and digits, but quoting keeps FTS5 syntax out even so.
    return '"' + " ".join(term.words).replace('"', '""') + '"'


def engine() -> SqliteEngine | PostgresEngine:
    if connection.vendor == "postgresql":
        return PostgresEngine()
    if connection.vendor == "sqlite":
        return SqliteEngine()
    raise NotImplementedError(f"Search supports PostgreSQL and SQLite, not {connection.vendor}.")


# Writing the index.


def index_post(post: Post) -> None:
    """Put the post's current title, summary, tags and body in the index; the names of the
    authors it cites go with the body, so searching for an author finds the posts citing them."""
    tags = post.tags.values_list("name", flat=True)
    cited = _cited_authors(Post, [post.pk]).get(post.pk, "")
    document = Document.build(post.pk, post.title, post.summary, post.body + cited, tags)
    with connection.cursor() as cursor:
        engine().write(cursor, [document])


def _cited_authors(post_model: type[Post], post_ids: Sequence[int]) -> dict[int, str]:
    """For each post, the author names of the works it cites, as a paragraph of text. A
    migration's historical Post may predate citations, and then there are none."""
    field_names = {f.name for f in post_model._meta.get_fields()}
    if "cited_references" not in field_names:
        return {}
    through = post_model.cited_references.through
    names: dict[int, list[str]] = {}
    rows = through.objects.filter(post_id__in=list(post_ids)).values_list(
        "post_id", "reference__author_names"
    )
    for post_id, authors in rows:
        names.setdefault(post_id, []).append(authors)
    return {pk: "\n\n" + " ".join(parts) for pk, parts in names.items()}


def index_new_posts(posts: Sequence[Post], tags: dict[int, list[str]]) -> None:
    """`index_post` for many posts at once, their tag names given (an import writes thousands):
    one query for the cited authors and one write for the batch."""
    cited = _cited_authors(Post, [post.pk for post in posts])
    documents = [
        Document.build(p.pk, p.title, p.summary, p.body + cited.get(p.pk, ""), tags.get(p.pk, []))
        for p in posts
    ]
    with connection.cursor() as cursor:
        engine().write(cursor, documents)


def index_posts(posts: Iterable[Post]) -> None:
    for post in posts:
        index_post(post)


def unindex_post(post_id: int) -> None:
    with connection.cursor() as cursor:
        engine().remove(cursor, [post_id])


def rebuild_index(post_model: type[Post] = Post, batch_size: int = 500) -> int:
    """Drop and refill the whole index; returns how many posts it holds.

    Takes the model so a migration can pass its historical one. Reads only the columns it needs,
    in batches, so 10,000 posts need neither 10,000 queries nor all their bodies in memory.
    """
    search = engine()
    with connection.cursor() as cursor:
        # Recreated rather than emptied, so a changed KB_SEARCH_LANGUAGE takes effect on SQLite.
        search.drop(cursor)
        search.create(cursor)
        ids = list(post_model.objects.order_by("pk").values_list("pk", flat=True))
        through = post_model.tags.through
        for start in range(0, len(ids), batch_size):
            batch = ids[start : start + batch_size]
            tags: dict[int, list[str]] = {}
            for post_id, name in through.objects.filter(post_id__in=batch).values_list(
                "post_id", "tag__name"
            ):
                tags.setdefault(post_id, []).append(name)
            rows = post_model.objects.filter(pk__in=batch).values_list(
                "pk", "title", "summary", "body"
            )
            cited = _cited_authors(post_model, batch)
            search.write(
                cursor,
                [
                    Document.build(pk, t, s, b + cited.get(pk, ""), tags.get(pk, []))
                    for pk, t, s, b in rows
                ],
            )
        search.analyze(cursor)
    if post_model is Post:
        site_state.mark_changed()  # search results may differ
    return len(ids)


# Reading it.


def highlighted_snippets(query: SearchQuery, posts: Sequence[Post]) -> dict[int, SafeString]:
    """For each post whose summary or body holds a searched word, a short passage with the
    words in <mark>; one query for the whole page."""
    if not (query.has_text and posts):
        return {}
    with connection.cursor() as cursor:
        raw = engine().snippets(cursor, query.terms, [p.pk for p in posts])
    return {pk: _marked(text) for pk, text in raw.items() if MARK_START in (text or "")}


def _marked(snippet: str) -> SafeString:
    # The passage is the author's text: escaped first, then the engine's markers become tags.
    html = escape(snippet).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")
    return mark_safe(html.replace(FORMULA, FORMULA_HTML))
