"""Writes with side effects. The admin, the importers and the demo loader all save through here,
so rendering, link sync and cache invalidation happen once, in one transaction."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from notes import links, redirects, revisions, search
from notes.models import Post, Tag

RENDERED_FIELDS = ["body_html", "toc_html", "excerpt", "broken_wikilinks", "reading_time"]


@transaction.atomic
def after_post_saved(post: Post, *, user=None, note: str = "") -> None:
    """Everything that follows a post's row being written: its wikilinks become Link rows,
    posts that link to it are re-rendered so their links point at its current title and slug,
    and what it now says is kept as a revision (`user` saved it; `note` says why, if not an edit).
    """
    links.sync_wikilinks(post, post.linked_post_ids)
    # The admin sets tags before calling this, so the index sees the post's final tags.
    search.index_post(post)
    renamed = _renames(post)
    old_slug = getattr(post, "saved_names", (None, None))[0]
    if old_slug and old_slug != post.slug:
        redirects.record_rename(post, old_slug)
    # Only a new post, a new name or a change of status can mend another post's broken wikilink.
    may_mend = bool(renamed) or getattr(post, "saved_status", None) != post.status
    for other in links.posts_linking_to(post, may_mend_broken=may_mend):
        body = other.body
        for old, new in renamed:
            body = links.rename_wikilinks(body, old, new)
        if body != other.body:
            # Like a note-taking app renaming a page: links that named it follow the new name.
            other.body = body
            save_post(other)
        else:
            rerender_post(other)
    post.saved_names = (post.slug, post.title)
    post.saved_status = post.status
    revisions.capture(post, user=user, note=note)


def _renames(post: Post) -> list[tuple[str, str]]:
    old_slug, old_title = getattr(post, "saved_names", (None, None))
    pairs = [(old_slug, post.slug), (old_title, post.title)]
    return [(old, new) for old, new in pairs if old and old.lower() != new.lower()]


@transaction.atomic
def save_post(post: Post, *, tags: Iterable[Tag] | None = None, user=None, note: str = "") -> Post:
    post.save()
    if tags is not None:
        post.tags.set(tags)
    after_post_saved(post, user=user, note=note)
    return post


@transaction.atomic
def delete_post(post: Post) -> None:
    linking = links.posts_linking_to(post)
    post_id = post.pk
    post.delete()
    search.unindex_post(post_id)
    for other in linking:
        rerender_post(other)


def rerender_post(post: Post) -> None:
    """Re-render one post's stored HTML and re-sync its wikilinks, touching nothing else.

    Its writes send no signals, so the caller tells the page cache: saving or deleting the
    post that made this necessary does, and so do the trash and the rerender command."""
    post.render()
    Post.objects.filter(pk=post.pk).update(**{f: getattr(post, f) for f in RENDERED_FIELDS})
    links.sync_wikilinks(post, post.linked_post_ids)


@transaction.atomic
def publish(posts: Iterable[Post], *, user=None) -> int:
    count = 0
    for post in posts:
        if post.status != Post.Status.PUBLISHED:
            post.status = Post.Status.PUBLISHED
            post.published_at = post.published_at or timezone.now()
            save_post(post, user=user, note="Published")
            count += 1
    return count


@transaction.atomic
def unpublish(posts: Iterable[Post], *, user=None) -> int:
    count = 0
    for post in posts:
        if post.status != Post.Status.DRAFT:
            post.status = Post.Status.DRAFT
            save_post(post, user=user, note="Moved back to draft")
            count += 1
    return count


def get_or_create_tags(names: Iterable[str]) -> list[Tag]:
    """Tags by name, matched case-insensitively, created when missing; blank names are ignored."""
    tags: dict[str, Tag] = {}
    for raw in names:
        name = " ".join(raw.split())
        if not name or name.lower() in tags:
            continue
        tag = Tag.objects.filter(name__iexact=name).first() or Tag.objects.create(name=name)
        tags[name.lower()] = tag
    return list(tags.values())
