"""Cross-links between posts: resolving [[wikilinks]] and keeping Link rows in step with them."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.db.models import Q

from notes.models import Link, Post


def sync_wikilinks(post: Post, target_ids: Iterable[int], embed_ids: Iterable[int] = ()) -> None:
    """Make the post's wikilink-made Link rows point at exactly `target_ids` (the posts its
    wikilinks and embeds resolved to when it was rendered), marking those it embeds
    (`embed_ids`); hand-made links are left alone."""
    wanted = set(target_ids) - {post.pk}
    embedded = set(embed_ids) & wanted
    existing = dict(post.outgoing_links.values_list("target_id", "from_embed"))
    # Each write only when there is something to write: an import saves thousands of posts.
    stale = existing.keys() - wanted
    if stale:
        Link.objects.filter(source=post, from_wikilink=True, target_id__in=stale).delete()
    if wanted - existing.keys():
        Link.objects.bulk_create(
            [
                Link(source=post, target_id=pk, from_wikilink=True, from_embed=pk in embedded)
                for pk in wanted - existing.keys()
            ]
        )
    for flag in (True, False):
        flip = {pk for pk, was in existing.items() if was != flag and (pk in embedded) == flag}
        if flip:
            Link.objects.filter(source=post, target_id__in=flip).update(from_embed=flag)


def posts_embedding(post_ids: Iterable[int]) -> set[int]:
    """The posts that show one of `post_ids` in place."""
    return set(
        Link.objects.filter(target_id__in=list(post_ids), from_embed=True).values_list(
            "source_id", flat=True
        )
    )


def posts_linking_to(post: Post, *, may_mend_broken: bool = True) -> list[Post]:
    """Posts whose stored HTML may be stale because `post` was created, renamed, published,
    unpublished or is about to be deleted: those whose wikilinks resolved to it, and (when
    `may_mend_broken`) those with a broken wikilink naming its slug, title or an alias.
    Re-rendering an extra one is harmless.

    Two narrow queries rather than one OR across a join: this runs on every save, and an import
    of thousands of notes must not scan posts times links each time."""
    ids = set(
        Link.objects.filter(target=post, from_wikilink=True).values_list("source_id", flat=True)
    )
    names = {name.lower() for name in post.names}
    if names and may_mend_broken:
        mentions = Q()
        for name in names:
            mentions |= Q(broken_wikilinks__icontains=name)
        broken = Post.objects.exclude(broken_wikilinks="").filter(mentions).order_by()
        ids |= set(broken.values_list("pk", flat=True))
    ids.discard(post.pk)
    return list(Post.objects.filter(pk__in=ids)) if ids else []


def rename_wikilinks(body: str, old: str, new: str) -> str:
    """`body` with every wikilink that names `old` (case-insensitively) naming `new` instead;
    labels and #anchors are kept, so [[old|label]] becomes [[new|label]]."""
    pattern = re.compile(r"\[\[\s*" + re.escape(old) + r"\s*(?=[|#\]])", re.IGNORECASE)
    return pattern.sub(lambda _: "[[" + new, body)
