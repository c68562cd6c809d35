"""The catalogue: every published post's id, newest first, with its year, tags, title and
address, and the links between published posts, kept in each worker and built again when the
site changes.

Search ranks and counts facets against it (notes/search_ranking.py). A post page finds its
chronological neighbours and the posts sharing its tags in it (notes/related.py), and draws
its local graph from its links and titles (notes/graph). At 10,000 posts, asking the database
each time meant visiting hundreds or thousands of rows per page (the posts carrying one of four
tags, or every post between now and an old post's date), where the catalogue answers from a
list and a dict; and each question left to the database was a query to build and send.

It is built from `Post.objects.published()` once per change of the site (its token,
notes/site_state.py, which also changes when a scheduled post comes out, and with every edit
of a title or a link), so it is never stale and drafts are never in it: about 10 MB for
10,000 posts and 45,000 links, built in well under a second by the first reader after a change.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from itertools import chain

from django.db import connection
from django.utils import timezone

from notes import site_state
from notes.models import Link, Post, Tag
from notes.models.addresses import slug_url
from notes.models.posts import post_url


@dataclass(frozen=True)
class TagLink:
    """A tag as a card shows it: its name, linking to its page."""

    name: str
    slug: str

    def get_absolute_url(self) -> str:
        return slug_url("notes:tag-detail", self.slug)


@dataclass(frozen=True, slots=True)
class Teaser:
    """A published post as a link to it shows it: its title, address and date."""

    pk: int
    title: str
    slug: str
    published_at: datetime.datetime

    def get_absolute_url(self) -> str:
        return post_url(self.slug)


@dataclass
class Catalogue:
    token: str
    # Newest first: published_at, then id, descending; the order of every listing.
    order: list[int]
    years: dict[int, int]
    tags: dict[int, frozenset[int]]
    # Tag id -> (name, slug), for the tags published posts carry.
    tag_labels: dict[int, tuple[str, str]]
    teasers: dict[int, Teaser]
    # The links whose both ends are published: post id -> the posts it links to, and those
    # linking to it.
    links_out: dict[int, tuple[int, ...]]
    links_in: dict[int, tuple[int, ...]]
    position: dict[int, int] = field(init=False)
    # Tag id -> the published posts carrying it, newest first.
    carrying: dict[int, list[int]] = field(init=False)
    # How many published posts carry each tag, and fall in each year.
    tag_counts: Counter[int] = field(init=False)
    year_counts: Counter[int] = field(init=False)
    _links: dict[int, TagLink] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.position = {pk: i for i, pk in enumerate(self.order)}
        carrying: dict[int, list[int]] = {}
        for pk in self.order:
            for tag in self.tags[pk]:
                carrying.setdefault(tag, []).append(pk)
        self.carrying = carrying
        self.tag_counts = Counter({tag: len(posts) for tag, posts in carrying.items()})
        self.year_counts = Counter(self.years.values())
        self._links = {pk: TagLink(name, slug) for pk, (name, slug) in self.tag_labels.items()}

    def counts(self, ids: Collection[int]) -> tuple[Counter[int], Counter[int]]:
        """How many of the published posts `ids` (distinct) carry each tag, and fall in each
        year. A word most posts hold matches most of the catalogue, so the posts it misses
        are counted and taken from the totals when they are fewer."""
        tags, years = self.tags, self.years
        if len(ids) <= len(self.order) // 2:
            return Counter(chain.from_iterable(tags[pk] for pk in ids)), Counter(
                years[pk] for pk in ids
            )
        matched = ids if isinstance(ids, (set, frozenset)) else set(ids)
        missed = [pk for pk in self.order if pk not in matched]
        tag_counts = self.tag_counts.copy()
        tag_counts.subtract(chain.from_iterable(tags[pk] for pk in missed))
        year_counts = self.year_counts.copy()
        year_counts.subtract(years[pk] for pk in missed)
        return +tag_counts, +year_counts  # unary plus drops the zeros

    def tag_links(self, pk: int) -> list[TagLink]:
        """The tags published post `pk` carries, by name, as its card shows them."""
        return sorted(
            (self._links[tag] for tag in self.tags[pk]), key=lambda t: (t.name.casefold(), t.name)
        )

    def newest_first(self, ids: Collection[int]) -> list[int]:
        """The published posts among `ids`, in the catalogue's order (newest first)."""
        if len(ids) * 8 < len(self.order):
            place = self.position
            return sorted((pk for pk in ids if pk in place), key=place.__getitem__)
        # Most of the catalogue: walking it is cheaper than sorting them.
        return [pk for pk in self.order if pk in ids]

    def tag_ids(self, name: str) -> frozenset[int]:
        """The tags a `tag:` filter names, by name or slug, in any case."""
        wanted = name.lower()
        return frozenset(
            pk
            for pk, (label, slug) in self.tag_labels.items()
            if wanted in (label.lower(), slug.lower())
        )

    def neighbours(self, pk: int) -> tuple[int | None, int | None]:
        """(older, newer): the published posts just before and after post `pk`, which must be
        published. Posts published at the same instant stand in id order."""
        at = self.position[pk]
        older = self.order[at + 1] if at + 1 < len(self.order) else None
        newer = self.order[at - 1] if at > 0 else None
        return older, newer

    def links_touching(self, ids: Iterable[int]) -> list[tuple[int, int]]:
        """(source, target) of every link between published posts from or to one of `ids`,
        each link once."""
        pairs: set[tuple[int, int]] = set()
        for pk in ids:
            pairs.update((pk, target) for target in self.links_out.get(pk, ()))
            pairs.update((source, pk) for source in self.links_in.get(pk, ()))
        return list(pairs)

    def links_among(self, ids: Collection[int]) -> list[tuple[int, int]]:
        """(source, target) of the links between two of the published posts `ids`."""
        wanted = set(ids)
        return [(pk, t) for pk in wanted for t in self.links_out.get(pk, ()) if t in wanted]

    def sharing_tags(self, tags: Iterable[int]) -> Counter[int]:
        """How many of `tags` each published post carries, for the posts carrying any."""
        shared: Counter[int] = Counter()
        for tag in tags:
            shared.update(self.carrying.get(tag, ()))
        return shared


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
    order, years, teasers = [], {}, {}
    year, year_starts = None, None
    published = Post.objects.published().order_by("-published_at", "-pk")
    for pk, moment, title, slug in published.values_list("pk", "published_at", "title", "slug"):
        # Newest first, so each year's posts are a run: one comparison a post, and a time zone
        # conversion only where a year begins.
        if year is None or moment < year_starts:
            year = timezone.localtime(moment, zone).year
            year_starts = datetime.datetime(year, 1, 1, tzinfo=zone)
        order.append(pk)
        years[pk] = year
        teasers[pk] = Teaser(pk, title, slug, moment)
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
    links_out, links_in = _published_links(teasers)
    return Catalogue(
        token=token,
        order=order,
        years=years,
        tags=frozen,
        tag_labels=labels,
        teasers=teasers,
        links_out=links_out,
        links_in=links_in,
    )


def _published_links(
    published: dict[int, Teaser],
) -> tuple[dict[int, tuple[int, ...]], dict[int, tuple[int, ...]]]:
    """Every link read, and those between two published posts kept both ways, as tuples of the
    ids already held (one int object for each post, not one for each link it is in)."""
    out: dict[int, list[int]] = {}
    into: dict[int, list[int]] = {}
    with connection.cursor() as cursor:
        # Plain rows: making 45,000 rows through the ORM's values_list cost 4x as much.
        cursor.execute(f"SELECT source_id, target_id FROM {Link._meta.db_table}")
        pairs = cursor.fetchall()
    for source, target in pairs:
        if source in published and target in published:
            source, target = published[source].pk, published[target].pk
            out.setdefault(source, []).append(target)
            into.setdefault(target, []).append(source)
    return (
        {pk: tuple(ids) for pk, ids in out.items()},
        {pk: tuple(ids) for pk, ids in into.items()},
    )
