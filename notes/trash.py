"""Deleting a post in the admin moves it to the trash. From there it can be restored, with its
tags, links and revisions, for `KEEP_FOR`; it is gone for good only when the trash is emptied."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from notes import links, revisions, services, site_state
from notes.models import Post

KEEP_FOR = datetime.timedelta(days=30)


def kept_until(post: Post) -> datetime.datetime | None:
    """When a trashed post stops being offered for restoring."""
    return post.trashed_at + KEEP_FOR if post.trashed_at else None


def move_to_trash(post: Post, *, user=None) -> None:
    """Take the post off the site without losing a word of it."""
    _set_trashed(post, timezone.now(), user=user, note="Moved to the trash")


def restore_from_trash(post: Post, *, user=None) -> None:
    _set_trashed(post, None, user=user, note="Restored from the trash")


@transaction.atomic
def _set_trashed(post: Post, when: datetime.datetime | None, *, user, note: str) -> None:
    Post.objects.filter(pk=post.pk).update(trashed_at=when)
    post.trashed_at = when
    revisions.capture(post, user=user, note=note)
    # Posts whose wikilinks point at it show them as broken, or as links again.
    services.rerender_linking(post.pk, links.posts_linking_to(post))
    site_state.mark_changed()  # update() sends no signal


@transaction.atomic
def empty_trash(*, older_than: datetime.timedelta | None = None) -> int:
    """Delete trashed posts for good: all of them, or those trashed longer ago than
    `older_than`. Returns how many were deleted."""
    posts = Post.objects.trashed()
    if older_than is not None:
        posts = posts.filter(trashed_at__lte=timezone.now() - older_than)
    count = 0
    for post in posts:
        services.delete_post(post)
        count += 1
    return count
