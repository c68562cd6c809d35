"""Which published posts a search matches, in what order, and how they spread over tags and years.

The engine (notes/search.py) answers the text part with sets of ids: the posts matching the whole
query, and those whose title, or summary and tags, hold a searched word. Everything else is
worked out here, in Python, against the catalogue: every published post's id, newest first, with
its year and tags. A word most posts hold matches thousands of them; joining those to the posts
for the order, then again for each facet, cost the database far more than walking a list does.

The catalogue is built from `Post.objects.published()` once per change of the site (its token,
notes/site_state.py), so it is never stale and drafts are never in it. Each worker keeps its own:
about 3 MB for 10,000 posts, built in a few tens of milliseconds by the first search after a
change.
"""

from __future__ import annotations

import datetime
import math
from collections import Counter
from dataclasses import dataclass, field
from itertools import chain

from django.db import connection
from django.utils import timezone

from notes import site_state
from notes.models import Post, Tag
from notes.search import TIERS, engine
from notes.search_query import SearchQuery

FACET_LIMIT = 20
RELEVANCE_STEPS = 20  # per factor of e
SCORED = 400  # per tier


@dataclass(frozen=True)
class FacetCount:
    label: str
    value: str
    count: int


@dataclass
class Catalogue:
    token: str
    # Newest first: published_at, then id, descending; the order of every listing.
    order: list[int]
    years: dict[int, int]
    tags: dict[int, frozenset[int]]
    # Tag id -> (name, slug), for the tags published posts carry.
    tag_labels: dict[int, tuple[str, str]]
    position: dict[int, int] = field(init=False)

    def __post_init__(self) -> None:
        self.position = {pk: i for i, pk in enumerate(self.order)}

    def tag_ids(self, name: str) -> frozenset[int]:
        """The tags a `tag:` filter names, by name or slug, in any case."""
        wanted = name.lower()
        return frozenset(
            pk
            for pk, (label, slug) in self.tag_labels.items()
            if wanted in (label.lower(), slug.lower())
        )


_cached: Catalogue | None = None


def catalogue(state: site_state.State | None = None) -> Catalogue:
    """This worker's catalogue of published posts, rebuilt when the site has changed. `state`
    saves a query when the page cache has already read it for this request."""
    global _cached
    token = (state or site_state.current()).token
    if _cached is None or _cached.token != token:
        _cached = _build(token)
    return _cached


def _build(token: str) -> Catalogue:
    zone = timezone.get_current_timezone()
    order, years = [], {}
    year, year_starts = None, None
    published = Post.objects.published().order_by("-published_at", "-pk")
    for pk, moment in published.values_list("pk", "published_at"):
        # Newest first, so each year's posts are a run: one comparison a post, and a time zone
        # conversion only where a year begins.
        if year is None or moment < year_starts:
            year = timezone.localtime(moment, zone).year
            year_starts = datetime.datetime(year, 1, 1, tzinfo=zone)
        order.append(pk)
        years[pk] = year
    tags: dict[int, set[int]] = {pk: set() for pk in order}
    for post_id, tag_id in Post.tags.through.objects.values_list("post_id", "tag_id"):
        if post_id in tags:
            tags[post_id].add(tag_id)
    carried = set().union(*tags.values()) if tags else set()
    labels = {
        pk: (name, slug)
        for pk, name, slug in Tag.objects.filter(pk__in=carried).values_list("pk", "name", "slug")
    }
    frozen = {pk: frozenset(ids) for pk, ids in tags.items()}
    return Catalogue(token=token, order=order, years=years, tags=frozen, tag_labels=labels)


def _relevance(score: float) -> int:
    """The score in steps of about 5%: posts that differ only by a tag or a word of length are
    equals, so the newer comes first, as it does when scores are exactly equal."""
    return round(math.log(max(score, 1e-12)) * RELEVANCE_STEPS)


@dataclass
class Matches:
    """The published posts a search matches, best first."""

    ids: list[int]
    catalogue: Catalogue | None = None

    def year_facets(self) -> list[FacetCount]:
        """How many matches each year holds, newest year first."""
        if not self.catalogue:
            return []
        counts = Counter(self.catalogue.years[pk] for pk in self.ids)
        return [FacetCount(str(y), str(y), counts[y]) for y in sorted(counts, reverse=True)]

    def tag_facets(self, limit: int = FACET_LIMIT) -> list[FacetCount]:
        """The tags the matches carry, most common first, then by name."""
        if not self.catalogue:
            return []
        tags = self.catalogue.tags
        counts = Counter(chain.from_iterable(tags[pk] for pk in self.ids))
        labels = self.catalogue.tag_labels
        best = sorted(counts, key=lambda tag: (-counts[tag], labels[tag][0]))[:limit]
        return [FacetCount(labels[tag][0], labels[tag][1], counts[tag]) for tag in best]


def find(query: SearchQuery, state: site_state.State | None = None) -> Matches:
    """The published posts matching the query: a post whose title holds a searched word first,
    then one whose summary or tags do, then the rest; by score within each, newest first among
    equals."""
    if query.is_empty:
        return Matches(ids=[])
    known = catalogue(state)
    search = engine()
    with connection.cursor() as cursor:
        found = search.matching_ids(cursor, query.clauses) if query.has_text else set()
        excluded = search.matching_ids(cursor, [query.excluded]) if query.excluded else set()
        tiers = (
            [search.matching_ids(cursor, [query.terms], fields) for fields in TIERS]
            if query.has_text
            else []
        )
    required = [known.tag_ids(name) for name in query.tags]
    refused = frozenset().union(*(known.tag_ids(name) for name in query.excluded_tags))

    def wanted(pk: int) -> bool:
        if pk in excluded:
            return False
        carried = known.tags[pk]
        if any(not carried & tags for tags in required) or carried & refused:
            return False
        return not query.year or known.years[pk] == query.year

    if not query.has_text:
        candidates = known.order
    else:
        # Sorted by place in the catalogue, which also drops drafts and scheduled posts.
        place = known.position
        candidates = sorted((pk for pk in found if pk in place), key=place.__getitem__)
    filtered = excluded or required or refused or query.year
    ids = [pk for pk in candidates if wanted(pk)] if filtered else list(candidates)
    if not query.has_text:
        return Matches(ids=ids, catalogue=known)
    by_tier = []
    for tier in tiers:
        by_tier.append([pk for pk in ids if pk in tier])
        ids = [pk for pk in ids if pk not in tier]
    by_tier.append(ids)
    # Only the newest SCORED_PER_TIER of a tier are scored: a word in thousands of posts
    # distinguishes none of them, and scoring every one would cost more than the search.
    with connection.cursor() as cursor:
        scores = search.scores(cursor, query.clauses, [pk for t in by_tier for pk in t[:SCORED]])
    ranked = []
    for tier_ids in by_tier:
        # A stable sort: equal scores stay newest first.
        ranked += sorted(tier_ids[:SCORED], key=lambda pk: -_relevance(scores.get(pk, 0)))
        ranked += tier_ids[SCORED:]
    return Matches(ids=ranked, catalogue=known)
