"""What a reader may go to next from a post: related posts, its chronological neighbours, and its
place in a series. Each takes a fixed few queries however many posts exist, and each reaches
posts only through `Post.objects.published()`."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db.models import Q, Subquery

from notes.catalogue import Catalogue, Teaser, catalogue
from notes.models import Link, Post

RELATED_LIMIT = 5
# A cross-link is a deliberate "read this too" from the author, so it outweighs one shared tag.
LINK_WEIGHT = 2

TEASER = ("title", "slug", "published_at", "series_order")


@dataclass(frozen=True)
class Neighbours:
    older: Post | Teaser | None
    newer: Post | Teaser | None


@dataclass(frozen=True)
class SeriesPlace:
    parts: list[Post]
    position: int  # 1-based, among the parts shown

    @property
    def count(self) -> int:
        return len(self.parts)

    @property
    def previous(self) -> Post | None:
        return self.parts[self.position - 2] if self.position > 1 else None

    @property
    def next(self) -> Post | None:
        return self.parts[self.position] if self.position < self.count else None


@dataclass(frozen=True)
class Navigation:
    """What the foot of a post offers, each post once: "see also" (the author's own links) come
    first, then "linked from", then older/newer, then related posts filling the rest."""

    see_also: list[Link]
    linked_from: list[Link]
    neighbours: Neighbours
    related: list[Post | Teaser]


def navigation(
    post: Post,
    outgoing: Iterable[Link],
    incoming: Iterable[Link],
    linked: Mapping[int, Post] | None = None,
    known: Catalogue | None = None,
) -> Navigation:
    """`linked`, the published posts it links with either way, by id, with their teaser fields,
    saves reading them again; `known`, the catalogue the request already holds, a query."""
    known = catalogue() if known is None else known
    have = dict(linked or {})
    see_also = list(outgoing)
    shown = {post.pk} | {link.target_id for link in see_also}
    linked_from = [link for link in incoming if link.source_id not in shown]
    shown |= {link.source_id for link in linked_from}
    if post.pk in known.position:
        older, newer = known.neighbours(post.pk)
    else:  # a draft or a scheduled post, which staff may preview: not in the catalogue
        around = chronological_neighbours(post)
        have |= {p.pk: p for p in (around.older, around.newer) if p}
        older, newer = (p.pk if p else None for p in (around.older, around.newer))
    older = None if older in shown else older
    newer = None if newer in shown else newer
    shown |= {pk for pk in (older, newer) if pk}
    ranked = _related_ids(post, known, RELATED_LIMIT, shown, linked)
    teasers = _teasers([older, newer, *ranked], have, known)
    return Navigation(
        see_also,
        linked_from,
        Neighbours(older=teasers.get(older), newer=teasers.get(newer)),
        [teasers[pk] for pk in ranked if pk in teasers],
    )


def related_posts(
    post: Post,
    limit: int = RELATED_LIMIT,
    exclude: Iterable[int] = (),
    linked: Mapping[int, Post] | None = None,
    known: Catalogue | None = None,
) -> list[Post | Teaser]:
    """Published posts ranked by tags shared with `post` plus cross-links in either direction,
    newest first among equals. `post.tags` should be prefetched; `linked`, the published
    posts it links with either way, by id, with their teaser fields, saves reading them when
    the caller has."""
    known = catalogue() if known is None else known
    ranked = _related_ids(post, known, limit, exclude, linked)
    teasers = _teasers(ranked, linked or {}, known)
    return [teasers[pk] for pk in ranked if pk in teasers]


def _related_ids(
    post: Post,
    known: Catalogue,
    limit: int,
    exclude: Iterable[int],
    linked: Mapping[int, Post] | None,
) -> list[int]:
    """Scored in Python from the catalogue's posts by tag and the posts it links with. Asking
    the database to score every post made it visit all of them (~0.5 s for 10,000 posts on
    PostgreSQL); asking it for the posts sharing a tag, hundreds of rows (~12 ms on SQLite)."""
    scores = known.sharing_tags(tag.pk for tag in post.tags.all())
    if linked is None:
        ends = {t if s == post.pk else s for s, t in post_link_pairs(post.pk)}
        linked_ids = {pk for pk in ends if pk in known.position}
    else:
        linked_ids = set(linked)
    for pk in linked_ids:
        scores[pk] += LINK_WEIGHT
    for pk in {post.pk, *exclude}:
        scores.pop(pk, None)
    # Newest first among equals: the catalogue's order. A few out of hundreds sharing a tag:
    # picked, not sorted.
    place, last = known.position, len(known.order)
    return heapq.nsmallest(limit, scores, key=lambda pk: (-scores[pk], place.get(pk, last), -pk))


def _teasers(
    ids: Iterable[int | None], have: Mapping[int, Post], known: Catalogue
) -> dict[int, Post | Teaser]:
    """The published posts `ids` with their teaser fields: those in `have` as they are, else
    the catalogue's. Every id here came from one or the other (the catalogue's neighbours,
    posts sharing a tag or linked, or a draft's neighbours read into `have`)."""
    found: dict[int, Post | Teaser] = {}
    for pk in ids:
        if pk is not None and pk not in found:
            teaser = have.get(pk) or known.teasers.get(pk)
            if teaser is not None:
                found[pk] = teaser
    return found


def post_link_pairs(pk: int) -> list[tuple[int, int]]:
    """(source, target) of every link to or from post `pk`, whatever the other end's status."""
    links = Link.objects.filter(Q(source=pk) | Q(target=pk)).order_by()
    return list(links.values_list("source_id", "target_id"))


def chronological_neighbours(post: Post) -> Neighbours:
    """The published posts just before and just after `post`, fetched together in one query.
    For a published post the catalogue knows them (`navigation`); this is for the others.

    Posts published at the same instant are ordered by id, so every post has one place in line.
    """
    if post.published_at is None:
        return Neighbours(older=None, newer=None)
    published = Post.objects.published().exclude(pk=post.pk)
    at, pk = post.published_at, post.pk
    # The plain bound on the date beside the OR lets the database start its walk along the
    # date index at this post: with only the OR, it began at the newest post and read every
    # post in between (20 ms for an old post among 10,000 on SQLite).
    older = (
        published.filter(published_at__lte=at)
        .filter(Q(published_at__lt=at) | Q(published_at=at, pk__lt=pk))
        .order_by("-published_at", "-pk")
    )
    newer = (
        published.filter(published_at__gte=at)
        .filter(Q(published_at__gt=at) | Q(published_at=at, pk__gt=pk))
        .order_by("published_at", "pk")
    )
    # The subqueries already keep to published posts; filtering the outer query too made
    # SQLite walk every published post to test it against them (~2 ms at 1,500 posts).
    both = (
        Post.objects.filter(
            Q(pk=Subquery(older.values("pk")[:1])) | Q(pk=Subquery(newer.values("pk")[:1]))
        )
        .order_by()
        .only(*TEASER)
    )
    found = {"older": None, "newer": None}
    for other in both:
        side = "older" if (other.published_at, other.pk) < (at, pk) else "newer"
        found[side] = other
    return Neighbours(**found)


def series_place(post: Post) -> SeriesPlace | None:
    """Where `post` stands in its series, among the published parts (plus itself when staff
    preview an unpublished part), in part order."""
    if post.series_id is None:
        return None
    parts = list(
        Post.objects.filter(Q(pk__in=Post.objects.published()) | Q(pk=post.pk))
        .filter(series=post.series_id)
        .order_by("series_order", "published_at", "pk")
        .only(*TEASER)
    )
    position = next(i for i, part in enumerate(parts, start=1) if part.pk == post.pk)
    return SeriesPlace(parts=parts, position=position)
