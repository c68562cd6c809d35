"""What a reader may go to next from a post: related posts, its chronological neighbours, and its
place in a series. Each takes a fixed few queries however many posts exist, and each reaches
posts only through `Post.objects.published()`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db.models import Q, Subquery

from notes.models import Link, Post, id_list

RELATED_LIMIT = 5
# A cross-link is a deliberate "read this too" from the author, so it outweighs one shared tag.
LINK_WEIGHT = 2

TEASER = ("title", "slug", "published_at", "series_order")


@dataclass(frozen=True)
class Neighbours:
    older: Post | None
    newer: Post | None


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
    related: list[Post]


def navigation(
    post: Post,
    outgoing: Iterable[Link],
    incoming: Iterable[Link],
    linked: Mapping[int, Post] | None = None,
) -> Navigation:
    see_also = list(outgoing)
    shown = {post.pk} | {link.target_id for link in see_also}
    linked_from = [link for link in incoming if link.source_id not in shown]
    shown |= {link.source_id for link in linked_from}
    around = chronological_neighbours(post)
    older = around.older if around.older and around.older.pk not in shown else None
    newer = around.newer if around.newer and around.newer.pk not in shown else None
    shown |= {p.pk for p in (older, newer) if p}
    related = related_posts(post, exclude=shown, linked=linked)
    return Navigation(see_also, linked_from, Neighbours(older=older, newer=newer), related)


def related_posts(
    post: Post,
    limit: int = RELATED_LIMIT,
    exclude: Iterable[int] = (),
    linked: Mapping[int, Post] | None = None,
) -> list[Post]:
    """Published posts ranked by tags shared with `post` plus cross-links in either direction,
    newest first among equals. `post.tags` should be prefetched; `linked`, the published
    posts it links with either way, by id, with their teaser fields, saves reading them when
    the caller has.

    Scored in Python from the few rows that can score: the posts carrying one of its tags
    (one row for each tag shared) and the posts it links with. Asking the database to score
    every post instead made it visit all of them, ~0.5 s for 10,000 posts on PostgreSQL.
    """
    published = Post.objects.published().order_by()
    fields = ("id", *TEASER)
    scores: Counter[int] = Counter()
    rows: dict[int, tuple] = {}
    tags = [tag.pk for tag in post.tags.all()]
    if tags:
        sharing = published.filter(tags__in=tags).exclude(pk=post.pk).values_list(*fields)
        for row in sharing:
            scores[row[0]] += 1
            rows[row[0]] = row
    if linked is None:
        ends = {t if s == post.pk else s for s, t in post_link_pairs(post.pk)} - {post.pk}
        unseen = id_list(ends - rows.keys())
        rows |= {row[0]: row for row in published.filter(pk__in=unseen).values_list(*fields)}
        linked_ids = ends & rows.keys()
    else:
        rows |= {pk: tuple(getattr(p, f) for f in fields) for pk, p in linked.items()}
        linked_ids = set(linked)
    for pk in linked_ids:
        scores[pk] += LINK_WEIGHT
    for pk in {post.pk, *exclude}:
        scores.pop(pk, None)
    # Ranked from bare rows, and only the winners made posts (`from_db`, as a query would):
    # a popular tag brings hundreds of candidates, and making each a model cost more than the
    # query; a second query for the winners cost more than carrying their titles here.
    ranked = sorted(scores, key=lambda pk: (scores[pk], rows[pk][3], pk), reverse=True)
    return [Post.from_db(published.db, fields, rows[pk]) for pk in ranked[:limit]]


def post_link_pairs(pk: int) -> list[tuple[int, int]]:
    """(source, target) of every link to or from post `pk`, whatever the other end's status."""
    links = Link.objects.filter(Q(source=pk) | Q(target=pk)).order_by()
    return list(links.values_list("source_id", "target_id"))


def chronological_neighbours(post: Post) -> Neighbours:
    """The published posts just before and just after `post`, fetched together in one query.

    Posts published at the same instant are ordered by id, so every post has one place in line.
    """
    if post.published_at is None:
        return Neighbours(older=None, newer=None)
    published = Post.objects.published().exclude(pk=post.pk)
    at, pk = post.published_at, post.pk
    older = published.filter(Q(published_at__lt=at) | Q(published_at=at, pk__lt=pk)).order_by(
        "-published_at", "-pk"
    )
    newer = published.filter(Q(published_at__gt=at) | Q(published_at=at, pk__gt=pk)).order_by(
        "published_at", "pk"
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
