"""PostgreSQL's side of search (see notes/search.py): a weighted tsvector per post in
`notes_post_search` under GIN indexes, ts_rank_cd for relevance and ts_headline for snippets."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from notes.search_query import SearchQuery, Term, fold
from notes.search_text import MARK_END, MARK_START, SNIPPET_WORDS, search_language

if TYPE_CHECKING:
    from notes.search import Document

PG_TABLE = "notes_post_search"
# ts_headline parses all the text it is given, ~1 ms per 2,000 characters for each result on
# the page. So it reads a post's first 1,500 characters first; for a post whose match is not
# there, a window of 1,000 characters from just before the first place a searched phrase, or
# else a searched word's stem, appears as written (strpos is far cheaper than parsing); and
# only when that fails too (a stem spelt otherwise in the text, `happi` for `happy`), the
# first 6,000. A post whose only match lies past those (and whose stem is not spelt out)
# shows its excerpt.
HEADLINE_CHARS = 6_000
HEADLINE_FIRST_CHARS = 1_500
HEADLINE_WINDOW_CHARS = 1_000
HEADLINE_WINDOW_BEFORE = 200  # for a word; a phrase's window starts at the phrase (see snippets)
# ts_rank_cd's normalisation flag 1: the rank divided by 1 + log(number of words).
PG_RANK_NORMALISATION = 1

_NOT_WORD = re.compile(r"[\W_]+")


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
        # One array rather than a row per post: thousands of rows cost more to fetch than to find.
        cursor.execute(
            f"SELECT array_agg(post_id) FROM {PG_TABLE} WHERE {column} @@ {tsquery}", params
        )
        return set(cursor.fetchone()[0] or ())

    def text_matches(
        self,
        cursor,
        query: SearchQuery,
        tiers: Sequence[Sequence[str]],
    ) -> tuple[set[int], list[set[int]]]:
        """The ids of the posts (drafts too) matching the query's text and none of its excluded
        terms, and for each tier's fields the posts (drafts and non-matches too: the caller
        intersects) whose fields hold a searched term.
        One statement, each set from its own GIN index: testing the tiers' vectors on every
        row the document's index found cost more (4 ms of 18 for a word in every post), and
        separate statements a round trip each."""
        tsquery, params = _tsquery(query.clauses)
        any_term, any_params = _tsquery([query.terms])
        arrays = ", ".join(
            f"(SELECT array_agg(post_id) FROM {PG_TABLE} "
            f"WHERE {_PG_COLUMNS[tuple(fields)]} @@ {any_term})"
            for fields in tiers
        )
        where = f"document @@ {tsquery}"
        if query.excluded:
            unwanted, unwanted_params = _tsquery([query.excluded])
            # A hashed subplan over the index, not `NOT document @@ …` on every row found,
            # which would read each matching post's whole vector.
            where += (
                f" AND post_id NOT IN (SELECT post_id FROM {PG_TABLE} WHERE document @@ {unwanted})"
            )
            params += unwanted_params
        cursor.execute(
            f"SELECT array_agg(post_id), {arrays} FROM {PG_TABLE} WHERE {where}",
            [*any_params * len(tiers), *params],
        )
        found, *named = cursor.fetchone()
        return set(found or ()), [set(ids or ()) for ids in named]

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
        language = search_language()
        options = (
            f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords={SNIPPET_WORDS}, MinWords=12"
        )
        # The first place (1-based, 0 for none) where a searched phrase is written as typed,
        # else where a searched word's stem is.
        first_stem = _first_written("unnest(tsvector_to_array(to_tsvector(%s::regconfig, %s)))")
        phrases = [_pg_words(str(term)).lower() for term in terms if len(term.words) > 1]
        locate = (
            f"coalesce(nullif({_first_written('unnest(%s::text[])')}, 0), {first_stem})"
            if phrases
            else first_stem
        )
        # Its words standing apart just before a phrase would be marked too.
        before = 0 if phrases else HEADLINE_WINDOW_BEFORE
        located = [phrases] if phrases else []
        located += [language, " ".join(_pg_words(str(term)) for term in terms)]
        passes = [
            (f"left(snippet_text, {HEADLINE_FIRST_CHARS})", []),
            (
                f"substr(snippet_text, greatest(at - {before}, 1), {HEADLINE_WINDOW_CHARS})",
                located,
            ),
            (f"left(snippet_text, {HEADLINE_CHARS})", []),
        ]
        found: dict[int, str] = {}
        wanted = list(post_ids)
        for text, at_params in passes:
            at = f", {locate} AS at" if at_params else ""
            conditions, condition_params = ["at > 0"] if at_params else [], []
            if phrases:
                # ts_headline marks a phrase's words wherever they stand, together or not: a
                # passage is kept only if the query matches it.
                conditions.append(f"to_tsvector(%s::regconfig, {text}) @@ {tsquery}")
                condition_params = [language, *params]
            where = ("WHERE " + " AND ".join(conditions)) if conditions else ""
            cursor.execute(
                f"SELECT post_id, ts_headline(%s::regconfig, {text}, {tsquery}, %s) "
                f"FROM (SELECT post_id, snippet_text{at} FROM {PG_TABLE} "
                f"WHERE post_id = ANY(%s)) AS post {where}",
                [language, *params, options, *at_params, wanted, *condition_params],
            )
            found |= {pk: text for pk, text in cursor.fetchall() if MARK_START in (text or "")}
            wanted = [pk for pk in wanted if pk not in found]
            if not wanted:
                break
        return found


# Where each ranking tier's words live, and the whole weighted document.
_PG_COLUMNS = {("title",): "title_document", ("summary", "tags"): "summary_document"}


def _pg_words(text: str) -> str:
    """Text split where FTS5 would split it, so both engines see the same words (PostgreSQL's
    parser would otherwise keep `weight-decay` or `3.11` whole)."""
    return _NOT_WORD.sub(" ", fold(text))


def _first_written(values: str) -> str:
    """SQL for where in the post the first of `values` (a set-returning expression) is
    written, 1-based, 0 for none."""
    return (
        "(SELECT coalesce(min(nullif(strpos(lower(snippet_text), value), 0)), 0) "
        f"FROM {values} AS value)"
    )


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
