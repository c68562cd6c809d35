"""What a reader may go to next from a post: related posts, its chronological neighbours, and its
place in a series. Each is one query however many posts exist, and each reaches posts only
through `Post.objects.published()`."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, Count, Exists, F, OuterRef, Q, Subquery, Value, When

from notes.models import Link, Post

RELATED_LIMIT = 5
# A cross-link is a deliberate "read this too" from the author, so it outweighs one shared tag.
LINK_WEIGHT = 2

_TEASER_FIELDS = ("title", "slug", "published_at", "series_order")


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


def related_posts(post: Post, limit: int = RELATED_LIMIT) -> list[Post]:
    """Published posts ranked by tags shared with `post` plus cross-links in either direction.

    The score is computed by the database in one query. `post.tags` should be prefetched.
    """
    tag_ids = [tag.pk for tag in post.tags.all()]
    links_out = Exists(Link.objects.filter(source=post.pk, target=OuterRef("pk")))
    links_in = Exists(Link.objects.filter(source=OuterRef("pk"), target=post.pk))
    shared_tags = Count("tags", filter=Q(tags__in=tag_ids), distinct=True) if tag_ids else Value(0)
    return list(
        Post.objects.published()
        .exclude(pk=post.pk)
        .annotate(
            shared_tags=shared_tags,
            link_score=_weight(links_out) + _weight(links_in),
        )
        .annotate(score=F("shared_tags") + F("link_score"))
        .filter(score__gt=0)
        .order_by("-score", "-published_at", "-pk")
        .only(*_TEASER_FIELDS)[:limit]
    )


def _weight(condition: Exists) -> Case:
    return Case(When(condition, then=Value(LINK_WEIGHT)), default=Value(0))


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
    both = published.filter(
        Q(pk=Subquery(older.values("pk")[:1])) | Q(pk=Subquery(newer.values("pk")[:1]))
    ).only(*_TEASER_FIELDS)
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
        .only(*_TEASER_FIELDS)
    )
    position = next(i for i, part in enumerate(parts, start=1) if part.pk == post.pk)
    return SeriesPlace(parts=parts, position=position)
