"""Which published posts a search matches, in what order, and how they spread over tags and years.

The engine (notes/search.py) answers the text part with sets of ids: the posts matching the whole
query, and those whose title, or summary and tags, hold a searched word. Everything else is
worked out here, in Python, against the catalogue of published posts (notes/catalogue.py): a
word most posts hold matches thousands of them; joining those to the posts for the order, then
again for each facet, cost the database far more than walking a list does.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate

from django.db import connection

from notes import site_state
from notes.catalogue import Catalogue, catalogue
from notes.search import TIERS, engine
from notes.search_query import SearchQuery

FACET_LIMIT = 20
RELEVANCE_STEPS = 20  # per factor of e
SCORED = 200  # per tier


@dataclass(frozen=True)
class FacetCount:
    label: str
    value: str
    count: int


def _relevance(score: float) -> int:
    """The score in steps of about 5%: posts that differ only by a tag or a word of length are
    equals, so the newer comes first, as it does when scores are exactly equal."""
    return round(math.log(max(score, 1e-12)) * RELEVANCE_STEPS)


@dataclass
class Matches:
    """The published posts a search matches, best first."""

    ids: Sequence[int]
    catalogue: Catalogue | None = None
    _facet_counts: tuple[Counter[int], Counter[int]] | None = field(default=None, repr=False)

    def year_facets(self) -> list[FacetCount]:
        """How many matches each year holds, newest year first."""
        if not self.catalogue:
            return []
        counts = self._counts()[1]
        return [FacetCount(str(y), str(y), counts[y]) for y in sorted(counts, reverse=True)]

    def tag_facets(self, limit: int = FACET_LIMIT) -> list[FacetCount]:
        """The tags the matches carry, most common first, then by name."""
        if not self.catalogue:
            return []
        counts = self._counts()[0]
        labels = self.catalogue.tag_labels
        best = sorted(counts, key=lambda tag: (-counts[tag], labels[tag][0]))[:limit]
        return [FacetCount(labels[tag][0], labels[tag][1], counts[tag]) for tag in best]

    def release(self) -> None:
        """Let go of the sets of matching ids once the page shown and its facets are worked
        out. Held while the page renders, a broad search's thousands of ids (fresh int
        objects from the database driver) sit among what the render keeps for longer (cached
        pages, addresses), and a worker grew by over 100 MB in a thousand searches, memory
        malloc never gave back. What was counted or ranked stays; nothing more can be."""
        if self.catalogue:
            self._counts()
        if isinstance(self.ids, Ranked):
            self.ids.release()

    def _counts(self) -> tuple[Counter[int], Counter[int]]:
        if self._facet_counts is None:
            ids = self.ids
            members = ids.members() if isinstance(ids, Ranked) else ids
            self._facet_counts = self.catalogue.counts(members)
        return self._facet_counts


def find(query: SearchQuery, state: site_state.State | None = None) -> Matches:
    """The published posts matching the query: a post whose title holds a searched word first,
    then one whose summary or tags do, then the rest; by score within each, newest first among
    equals."""
    if query.is_empty:
        return Matches(ids=[])
    known = catalogue(state)
    search = engine()
    with connection.cursor() as cursor:
        if query.has_text:
            # The excluded words are taken out by the engine.
            found, tiers = search.text_matches(cursor, query, TIERS)
            excluded: set[int] = set()
        else:
            found, tiers = set(), []
            excluded = search.matching_ids(cursor, [query.excluded]) if query.excluded else set()
    required = [known.tag_ids(name) for name in query.tags]
    refused = frozenset().union(*(known.tag_ids(name) for name in query.excluded_tags))

    def wanted(pk: int) -> bool:
        if pk in excluded:
            return False
        carried = known.tags[pk]
        if any(not carried & tags for tags in required) or carried & refused:
            return False
        return not query.year or known.years[pk] == query.year

    filtered = excluded or required or refused or query.year
    if not query.has_text:
        ids = [pk for pk in known.order if wanted(pk)] if filtered else known.order
        return Matches(ids=ids, catalogue=known)
    # Set operations, not walks over the catalogue: a word most posts hold matches thousands
    # of them, and only the tiers a page reaches need putting in order (see Ranked). No new
    # set as large as the matches is made: a worker that made several a search (half a
    # megabyte each for 9,000 posts) held on to some 150 MB that malloc never gave back.
    matched = found  # the engine's own set, made for this search
    # Drafts and scheduled posts are in the index but not in the catalogue.
    matched.difference_update([pk for pk in found if pk not in known.position])
    if filtered:
        matched.difference_update([pk for pk in matched if not wanted(pk)])
    named: list[set[int]] = []
    for tier in tiers:
        # Each tier holds the matches it names and no earlier tier took.
        own = tier & matched  # as large as the smaller of the two
        for earlier in named:
            own.difference_update(earlier)
        named.append(own)

    def scores(ids: list[int]) -> dict[int, float]:
        with connection.cursor() as cursor:
            return search.scores(cursor, query.clauses, ids)

    return Matches(ids=Ranked(matched, named, known, scores), catalogue=known)


class Ranked(Sequence[int]):
    """The matches in order: the tiers in turn, each one's newest SCORED posts by score (newest
    first among equals), then its others newest first. Only the newest are scored because a
    word in thousands of posts distinguishes none of them, and scoring every one would cost
    more than the search.

    A tier is put in order and ranked when a slice first reaches into it, the tiers a slice
    reaches in one query: the first page of a word most posts hold orders and scores the one
    tier it shows, not three (on PostgreSQL, scoring is most of such a search)."""

    def __init__(
        self,
        members: set[int],
        named: list[set[int]],
        known: Catalogue,
        score: Callable[[list[int]], dict[int, float]],
    ):
        """`named`: the tiers before the last, disjoint sets of `members`; the last tier is
        every other member, and is only listed when a page reaches it."""
        self._members = members
        self._named = named
        self._known = known
        self._score = score
        sizes = [len(tier) for tier in named]
        sizes.append(len(members) - sum(sizes))
        self._ranked: list[list[int] | None] = [None] * len(sizes)
        self._released = False
        self._starts = list(accumulate(sizes, initial=0))

    def __len__(self) -> int:
        return self._starts[-1]

    def __getitem__(self, index):
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            return self._span(start, stop) if step == 1 else self._span(0, len(self))[index]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("no such match")
        return self._span(index, index + 1)[0]

    def __iter__(self) -> Iterator[int]:
        return iter(self._span(0, len(self)))

    def __eq__(self, other) -> bool:
        return list(self) == list(other) if isinstance(other, Sequence) else NotImplemented

    __hash__ = None

    def release(self) -> None:
        """See `Matches.release`: the tiers already ranked stay, the sets go."""
        self._members = set()
        self._named = [set() for _ in self._named]
        self._released = True

    def members(self) -> set[int]:
        """Every match, in no particular order: what counting them needs."""
        return self._members

    def _span(self, start: int, stop: int) -> list[int]:
        starts = self._starts
        tiers = len(self._ranked)
        reached = [i for i in range(tiers) if starts[i] < stop and start < starts[i + 1]]
        self._rank([i for i in reached if self._ranked[i] is None])
        found: list[int] = []
        for i in reached:
            found += self._ranked[i][max(start - starts[i], 0) : stop - starts[i]]
        return found

    def _rank(self, tiers: list[int]) -> None:
        if not tiers:
            return
        if self._released:
            raise RuntimeError("These matches were released before this part was ranked.")
        newest = {i: self._newest_first(i) for i in tiers}
        scores = self._score([pk for i in tiers for pk in newest[i][:SCORED]])
        for i in tiers:
            tier = newest[i]
            # A stable sort: equal scores stay newest first.
            ranked = sorted(tier[:SCORED], key=lambda pk: -_relevance(scores.get(pk, 0)))
            self._ranked[i] = ranked + tier[SCORED:]

    def _newest_first(self, tier: int) -> list[int]:
        known, named = self._known, self._named
        if tier < len(named):
            return known.newest_first(named[tier])
        members = self._members
        return [pk for pk in known.order if pk in members and not any(pk in t for t in named)]
