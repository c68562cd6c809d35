"""Full-text search over posts: one small interface, a PostgreSQL and a SQLite engine behind it.

PostgreSQL keeps a weighted tsvector per post (title A, summary and tags B, body C) in
`notes_post_search`, under a GIN index. SQLite keeps an FTS5 table, `notes_post_fts`, with one
column per field. Both are written explicitly by `index_post` (called from the services) rather
than by triggers: Django rebuilds a SQLite table when a migration alters it, dropping its triggers.

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

from django.conf import settings
from django.db import connection
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from notes import site_state
from notes.models import Post
from notes.search_query import SearchQuery, Term, fold
from notes.search_text import FORMULA, prose

PG_TABLE = "notes_post_search"
FTS_TABLE = "notes_post_fts"
SNIPPET_WORDS = 28
# ts_headline parses all the text it is given, ~1 ms per 2,000 characters for each result on
# the page, so it reads the first 1,500 first and goes on to 6,000 only for a post whose match
# is not there; a post whose only match comes later (past its first ~1,000 words) shows its
# excerpt.
HEADLINE_CHARS = 6_000
HEADLINE_FIRST_CHARS = 1_500
_MARK_START, _MARK_END = "\x02", "\x03"
# bm25's weight for each FTS5 column: the tiers already put title and summary matches first,
# so within a tier these only decide how much a second field's match adds.
BM25_WEIGHTS = (4.0, 2.0, 2.0, 1.0)
# ts_rank_cd's normalisation flag 1: the rank divided by 1 + log(number of words).
PG_RANK_NORMALISATION = 1
FORMULA_HTML = '<span class="snippet-formula">formula</span>'

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NOT_WORD = re.compile(r"[\W_]+")


def search_language() -> str:
    return getattr(settings, "KB_SEARCH_LANGUAGE", "english")


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
        cursor.execute(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [expression])
        return {row[0] for row in cursor.fetchall()}

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
            [_MARK_START, _MARK_END, "{summary body} : (" + anywhere + ")", *post_ids],
        )
        return dict(cursor.fetchall())


def _fts5_expression(clauses: Sequence[Sequence[Term]]) -> str:
    return " AND ".join(
        "(" + " OR ".join(_fts5_phrase(term) for term in clause) + ")" for clause in clauses
    )


def _fts5_phrase(term: Term) -> str:
    # Words hold only letters and digits, but quoting keeps FTS5 syntax out even so.
    return '"' + " ".join(term.words).replace('"', '""') + '"'


class PostgresEngine:
    def create(self, cursor) -> None:
        # No foreign key: the test runner's flush truncates Django's tables only, and a key
        # pointing at notes_post would make that fail. `remove` and the published() join
        # make up for it.
        # The title's and the summary's vectors are kept apart too: ranking asks them for every
        # match, and reading them is far cheaper than filtering the whole document's.
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {PG_TABLE} (post_id bigint PRIMARY KEY, "
            "snippet_text text NOT NULL, title_document tsvector NOT NULL, "
            "summary_document tsvector NOT NULL, document tsvector NOT NULL)"
        )
        for column in (*_PG_COLUMNS.values(), "document"):
            # Without fastupdate, a write goes straight into the index instead of a pending
            # list that every search must scan until the next vacuum; a blog writes rarely.
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {PG_TABLE}_{column} ON {PG_TABLE} "
                f"USING GIN ({column}) WITH (fastupdate = off)"
            )
            # With statistics, a word most posts hold makes the planner pick a sequential scan,
            # which decompresses and tests every tsvector (30 ms for 10,000 posts); the GIN
            # index answers the same in 3 ms. Without them it assumes a rare word and uses it.
            cursor.execute(f"ALTER TABLE {PG_TABLE} ALTER COLUMN {column} SET STATISTICS 0")

    def drop(self, cursor) -> None:
        cursor.execute(f"DROP TABLE IF EXISTS {PG_TABLE}")

    def write(self, cursor, documents: Sequence[Document]) -> None:
        language = search_language()
        cursor.executemany(
            f"INSERT INTO {PG_TABLE} AS s "
            "(post_id, snippet_text, title_document, summary_document, document) "
            "SELECT %s, %s, v.title, v.summary, "
            "v.title || v.summary || setweight(to_tsvector(%s::regconfig, %s), 'C') "
            "FROM (SELECT setweight(to_tsvector(%s::regconfig, %s), 'A') AS title, "
            "setweight(to_tsvector(%s::regconfig, %s) || to_tsvector(%s::regconfig, %s), 'B') "
            "AS summary) AS v "
            "ON CONFLICT (post_id) DO UPDATE SET snippet_text = EXCLUDED.snippet_text, "
            "title_document = EXCLUDED.title_document, "
            "summary_document = EXCLUDED.summary_document, document = EXCLUDED.document",
            [
                (
                    d.post_id,
                    _snippet_source(d),
                    *(language, _pg_words(d.body)),
                    *(language, _pg_words(d.title)),
                    *(language, _pg_words(d.summary)),
                    *(language, _pg_words(d.tags)),
                )
                for d in documents
            ],
        )

    def remove(self, cursor, post_ids: Sequence[int]) -> None:
        cursor.execute(f"DELETE FROM {PG_TABLE} WHERE post_id = ANY(%s)", [list(post_ids)])

    def analyze(self, cursor) -> None:
        # A freshly filled table looks empty to the planner until autovacuum gets to it, and
        # it then joins the posts to it in a nested loop, testing every tsvector.
        cursor.execute(f"ANALYZE {PG_TABLE}")

    def matching_ids(
        self, cursor, clauses: Sequence[Sequence[Term]], fields: Sequence[str] = ()
    ) -> set[int]:
        """The ids of the posts (drafts too) whose `fields`, or whole text, match; the GIN
        index answers in a few milliseconds even when nearly every post does."""
        tsquery, params = _tsquery(clauses)
        column = _PG_COLUMNS[tuple(fields)] if fields else "document"
        cursor.execute(f"SELECT post_id FROM {PG_TABLE} WHERE {column} @@ {tsquery}", params)
        return {row[0] for row in cursor.fetchall()}

    def scores(
        self, cursor, clauses: Sequence[Sequence[Term]], post_ids: Sequence[int]
    ) -> dict[int, float]:
        """How well each of these posts matches the query, higher is better (0 for a post it
        does not match)."""
        if not post_ids:
            return {}
        tsquery, params = _tsquery(clauses)
        # No `document @@ q` here: the posts asked about matched already, and with it the
        # planner went through the GIN index, rechecking every matching post's vector (9,000
        # for a common word, 30 ms) to keep the few hundred asked about (10 ms by key).
        cursor.execute(
            f"SELECT post_id, ts_rank_cd(document, q, {PG_RANK_NORMALISATION}) "
            f"FROM {PG_TABLE}, (SELECT {tsquery} AS q) AS query WHERE post_id = ANY(%s)",
            [*params, list(post_ids)],
        )
        return dict(cursor.fetchall())

    def snippets(self, cursor, terms: Sequence[Term], post_ids: Sequence[int]) -> dict[int, str]:
        """A passage of each post around the searched words; see HEADLINE_CHARS."""
        tsquery, params = _tsquery([terms])
        options = (
            f"StartSel={_MARK_START}, StopSel={_MARK_END}, MaxWords={SNIPPET_WORDS}, MinWords=12"
        )
        found: dict[int, str] = {}
        wanted = list(post_ids)
        for chars in (HEADLINE_FIRST_CHARS, HEADLINE_CHARS):
            cursor.execute(
                f"SELECT post_id, ts_headline(%s::regconfig, left(snippet_text, {chars}), "
                f"{tsquery}, %s) FROM {PG_TABLE} WHERE post_id = ANY(%s)",
                [search_language(), *params, options, wanted],
            )
            found |= dict(cursor.fetchall())
            wanted = [pk for pk in wanted if _MARK_START not in (found.get(pk) or "")]
            if not wanted:
                break
        return found


# Where each ranking tier's words live, and the whole weighted document.
_PG_COLUMNS = {("title",): "title_document", ("summary", "tags"): "summary_document"}


def _pg_words(text: str) -> str:
    """Text split where FTS5 would split it, so both engines see the same words (PostgreSQL's
    parser would otherwise keep `weight-decay` or `3.11` whole)."""
    return _NOT_WORD.sub(" ", fold(text))


def _snippet_source(document: Document) -> str:
    return f"{document.summary}\n\n{document.body}" if document.summary else document.body


def _tsquery(clauses: Sequence[Sequence[Term]]) -> tuple[str, list[str]]:
    """A tsquery built from parameters only: user text never becomes tsquery syntax."""
    language = search_language()
    sql_clauses, params = [], []
    for clause in clauses:
        sql_clauses.append(
            "(" + " || ".join(["phraseto_tsquery(%s::regconfig, %s)"] * len(clause)) + ")"
        )
        for term in clause:
            params += [language, str(term)]
    # Bracketed whole: `@@` binds tighter than `&&`.
    return "(" + " && ".join(sql_clauses) + ")", params


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
    return {pk: _marked(text) for pk, text in raw.items() if _MARK_START in (text or "")}


def _marked(snippet: str) -> SafeString:
    # The passage is the author's text: escaped first, then the engine's markers become tags.
    html = escape(snippet).replace(_MARK_START, "<mark>").replace(_MARK_END, "</mark>")
    return mark_safe(html.replace(FORMULA, FORMULA_HTML))
