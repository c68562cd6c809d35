"""Cross-links between posts: resolving [[wikilinks]] and keeping Link rows in step with them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from django.db.models import Q
from django.db.models.functions import Lower

from notes.models import Link, Post
from notes.rendering import WikiTarget


def _matching_posts(targets: Iterable[str]):
    """Published posts whose slug or (case-insensitive) title is one of the targets."""
    targets = [t for t in targets if t]
    if not targets:
        return Post.objects.none()
    lowered = {t.lower() for t in targets}
    return (
        Post.objects.filter(status=Post.Status.PUBLISHED)
        .annotate(title_lower=Lower("title"))
        .filter(Q(slug__in=targets) | Q(title_lower__in=lowered))
        .only("pk", "slug", "title")
    )


def _index(posts: Iterable[Post], targets: Sequence[str]) -> dict[str, Post]:
    by_slug = {p.slug: p for p in posts}
    by_title = {p.title.lower(): p for p in by_slug.values()}
    found = {}
    for target in targets:
        post = by_slug.get(target) or by_title.get(target.lower())
        if post is not None:
            found[target] = post
    return found


def resolve_wikilinks(targets: Sequence[str]) -> dict[str, WikiTarget]:
    """The renderer's resolver: one query for all of a post's wikilinks.

    Only published posts resolve, so a draft's title never appears in public HTML; when the
    draft is published, `rerender_linking_posts` brings the links to life.
    """
    posts = _index(_matching_posts(targets), targets)
    return {t: WikiTarget(title=p.title, url=p.get_absolute_url()) for t, p in posts.items()}


def sync_wikilinks(post: Post, targets: Sequence[str]) -> None:
    """Make the post's wikilink-made Link rows match its body; hand-made links are left alone."""
    wanted = {p.pk for p in _index(_matching_posts(targets), targets).values() if p.pk != post.pk}
    existing = {link.target_id: link for link in post.outgoing_links.all()}
    Link.objects.filter(
        source=post, from_wikilink=True, target_id__in=set(existing) - wanted
    ).delete()
    Link.objects.bulk_create(
        [Link(source=post, target_id=pk, from_wikilink=True) for pk in wanted - set(existing)]
    )


def posts_linking_to(post: Post) -> list[Post]:
    """Posts whose stored HTML may be stale because `post` was created, renamed, published,
    unpublished or is about to be deleted: those whose wikilinks resolved to it, and those with a
    broken wikilink that names its slug or title. Re-rendering an extra one is harmless."""
    query = Q(outgoing_links__target=post, outgoing_links__from_wikilink=True)
    for name in {post.slug.lower(), post.title.lower()} - {""}:
        query |= Q(broken_wikilinks__icontains=name)
    return list(Post.objects.filter(query).exclude(pk=post.pk).distinct())


def rename_wikilinks(body: str, old: str, new: str) -> str:
    """`body` with every wikilink that names `old` (case-insensitively) naming `new` instead;
    labels and #anchors are kept, so [[old|label]] becomes [[new|label]]."""
    pattern = re.compile(r"\[\[\s*" + re.escape(old) + r"\s*(?=[|#\]])", re.IGNORECASE)
    return pattern.sub(lambda _: "[[" + new, body)
