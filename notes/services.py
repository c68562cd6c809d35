"""Writes with side effects. The admin, the importers and the demo loader all save through here,
so rendering, link sync and cache invalidation happen once, in one transaction."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from notes import links, mentions, revisions, search
from notes.models import Post, Tag
from notes.rendering.results import MAX_EMBED_DEPTH

RENDERED_FIELDS = ["body_html", "toc_html", "excerpt", "broken_wikilinks", "reading_time"]


@transaction.atomic
def after_post_saved(post: Post, *, user=None, note: str = "") -> None:
    """Everything that follows a post's row being written: its wikilinks become Link rows,
    posts that link to it are re-rendered so their links point at its current title and slug,
    and what it now says is kept as a revision (`user` saved it; `note` says why, if not an edit).
    """
    links.sync_wikilinks(post, post.linked_post_ids, post.embedded_post_ids)
    # The admin sets tags before calling this, so the index sees the post's final tags.
    search.index_post(post)
    renamed = _renames(post)
    # Only a new post, a new name or a change of status can mend another post's broken wikilink.
    may_mend = bool(renamed) or getattr(post, "saved_status", None) != post.status
    touched = {post.pk}
    for other in links.posts_linking_to(post, may_mend_broken=may_mend):
        touched.add(other.pk)
        body = other.body
        for old, new in renamed:
            body = links.rename_wikilinks(body, old, new)
        if body != other.body:
            # Like a note-taking app renaming a page: links that named it follow the new name.
            other.body = body
            save_post(other)
        else:
            rerender_post(other)
    rerender_embedding(touched)
    post.saved_names = (post.slug, post.title)
    post.saved_status = post.status
    revisions.capture(post, user=user, note=note)


def rerender_embedding(changed: set[int]) -> None:
    """Re-render the posts that embed one of `changed` (already re-rendered themselves), and
    those that embed them, to the embeds' depth limit."""
    seen = set(changed)
    frontier = changed
    for _ in range(MAX_EMBED_DEPTH):
        frontier = links.posts_embedding(frontier) - seen
        if not frontier:
            return
        for other in Post.objects.filter(pk__in=frontier):
            rerender_post(other)
        seen |= frontier


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
    rerender_linking(post_id, linking)


def rerender_linking(post_id: int, linking: Iterable[Post]) -> None:
    """Re-render the posts that linked to or showed a post that changed out of sight (deleted,
    trashed, restored), then those that show them in turn."""
    touched = {post_id}
    for other in linking:
        rerender_post(other)
        touched.add(other.pk)
    rerender_embedding(touched)


def rerender_post(post: Post) -> None:
    """Re-render one post's stored HTML and re-sync its wikilinks, touching nothing else.

    Its writes send no signals, so the caller tells the page cache: saving or deleting the
    post that made this necessary does, and so do the trash and the rerender command."""
    post.render()
    Post.objects.filter(pk=post.pk).update(**{f: getattr(post, f) for f in RENDERED_FIELDS})
    links.sync_wikilinks(post, post.linked_post_ids, post.embedded_post_ids)


@transaction.atomic
def link_mention(source: Post, target: Post, *, user=None) -> bool:
    """Turn the first unlinked mention of `target` in `source` into a wikilink: a normal edit of
    `source`, kept as a revision. False (and nothing saved) if there is no such mention."""
    body = mentions.with_first_mention_linked(source.body, target)
    if body is None:
        return False
    source.body = body
    save_post(source, user=user, note=f"Linked a mention of “{target.title}”")
    return True


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
