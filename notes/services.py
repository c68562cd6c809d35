"""Writes with side effects. The admin, the importers and the demo loader all save through here,
so rendering, link sync and cache invalidation happen once, in one transaction."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from notes import links, mentions, redirects, revisions, search, site_state
from notes.models import MathStylesheet, Post, Reference, SiteSettings, Tag
from notes.rendering import macros
from notes.rendering.results import MAX_EMBED_DEPTH

RENDERED_FIELDS = [
    "body_html",
    "toc_html",
    "math_stylesheet",
    "excerpt",
    "broken_wikilinks",
    "unknown_citations",
    "reading_time",
]


@transaction.atomic
def after_post_saved(post: Post, *, user=None, note: str = "") -> None:
    """Everything that follows a post's row being written: its wikilinks become Link rows,
    posts that link to it are re-rendered so their links point at its current title and slug,
    and what it now says is kept as a revision (`user` saved it; `note` says why, if not an edit).
    """
    links.sync_wikilinks(post, post.linked_post_ids, post.embedded_post_ids)
    sync_citations(post)
    # The admin sets tags before calling this, so the index sees the post's final tags.
    search.index_post(post)
    renamed = _renames(post)
    old_slug = getattr(post, "saved_names", (None, None))[0]
    if old_slug and old_slug != post.slug:
        redirects.record_rename(post, old_slug)
    # Only a new post, a new name or a change of status can mend another post's broken wikilink.
    # (An alias is a name too: a new one can mend a link, a dropped one is followed by its Link.)
    may_mend = (
        bool(renamed)
        or getattr(post, "saved_status", None) != post.status
        or getattr(post, "saved_aliases", None) != post.aliases
        or _came_out_since_last_save(post)
    )
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
    post.saved_aliases = post.aliases
    post.saved_updated_at = post.updated_at
    revisions.capture(post, user=user, note=note)


def _came_out_since_last_save(post: Post) -> bool:
    """A scheduled post whose time came before this save: the posts embedding it may still
    say it is missing, if no reader has come by since (notes/scheduling.py)."""
    before = getattr(post, "saved_updated_at", None)
    return bool(before and post.is_published and post.published_at > before)


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


class EditConflict(Exception):
    """The post was saved (another tab, another person, a script) after the version an edit
    started from; saving would overwrite that."""

    def __init__(self, current: Post) -> None:
        super().__init__(f"“{current}” is at version {current.version} now.")
        self.current = current


def lock_for_edit(pk: int, base_version: int) -> Post | None:
    """The post, its row locked until the transaction ends, if it is still at `base_version`;
    EditConflict if it has been saved since. None if there is no such post. The admin form and
    the API both check through here, against the version `Post.save()` counts up."""
    current = Post.objects.select_for_update().filter(pk=pk).first()
    if current is not None and current.version != base_version:
        raise EditConflict(current)
    return current


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


def rerender_post(post: Post, *, math_preamble: str | None = None) -> None:
    """Re-render one post's stored HTML and re-sync its wikilinks and citations (and its
    search entry if those changed), touching nothing else.

    Its writes send no signals, so the caller tells the page cache: saving or deleting the
    post that made this necessary does, and so do the trash and the rerender command.
    ``math_preamble`` saves a query a post when the caller re-renders many."""
    post.render(math_preamble)
    MathStylesheet.keep(post.math_css)
    Post.objects.filter(pk=post.pk).update(**{f: getattr(post, f) for f in RENDERED_FIELDS})
    links.sync_wikilinks(post, post.linked_post_ids, post.embedded_post_ids)
    if sync_citations(post):
        search.index_post(post)  # the index holds the cited works' authors


def sync_citations(post: Post) -> bool:
    """Point the post's cited references at exactly the works its last render resolved;
    True if that changed anything."""
    through = Post.cited_references.through
    wanted = post.cited_reference_ids
    existing = set(through.objects.filter(post=post).values_list("reference_id", flat=True))
    if wanted == existing:
        return False
    through.objects.filter(post=post, reference_id__in=existing - wanted).delete()
    through.objects.bulk_create(
        [through(post_id=post.pk, reference_id=pk) for pk in wanted - existing]
    )
    return True


def posts_citing(keys: Iterable[str]) -> list[Post]:
    """Posts whose stored HTML shows one of these references, or shows one of these keys as
    unknown (an import can make an unknown key known)."""
    keys = [k for k in keys if k]
    if not keys:
        return []
    mentions = Q()
    for key in keys:
        mentions |= Q(unknown_citations__contains=key)
    unknown = Post.objects.exclude(unknown_citations="").filter(mentions)
    ids = set(unknown.values_list("pk", flat=True)) | set(
        Post.cited_references.through.objects.filter(reference__key__in=keys).values_list(
            "post_id", flat=True
        )
    )
    return list(Post.objects.filter(pk__in=ids)) if ids else []


@transaction.atomic
def save_reference(reference: Reference, *, mark_changed: bool = True) -> Reference:
    """Save a reference, then re-render every post that cites it (or cites its key unknown), so
    their citations and reference lists say what it now says. A bulk import passes
    `mark_changed=False` and tells the page cache once, at the end."""
    old_key = Reference.objects.filter(pk=reference.pk).values_list("key", flat=True).first()
    reference.save()
    for post in posts_citing({reference.key, old_key or ""}):
        rerender_post(post)
        search.index_post(post)  # its authors' names may have changed
    if mark_changed:
        site_state.mark_changed()
    return reference


@transaction.atomic
def delete_reference(reference: Reference) -> None:
    citing = posts_citing([reference.key])
    reference.delete()
    for post in citing:
        rerender_post(post)
        search.index_post(post)
    site_state.mark_changed()


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


@transaction.atomic
def save_tag(tag: Tag) -> Tag:
    """A tag's name is among the words its posts are found by: saving it re-indexes them."""
    tag.save()
    search.index_posts(tag.posts.all())
    return tag


@transaction.atomic
def delete_tag(tag: Tag) -> None:
    posts = list(tag.posts.all())
    tag.delete()
    search.index_posts(posts)


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


@transaction.atomic
def save_site_settings(settings: SiteSettings) -> int:
    """Save the site settings; when the math preamble changed, re-render the posts that use a
    macro it added, changed or removed. Returns how many posts were re-rendered."""
    before = SiteSettings.current().math_preamble
    settings.save()
    if settings.math_preamble == before:
        return 0
    old, _ = macros.parse_preamble(before)
    new, _ = macros.parse_preamble(settings.math_preamble)
    changed = {name for name in old.keys() | new.keys() if old.get(name) != new.get(name)}
    if not changed:
        return 0
    mentions = Q()
    for name in changed:
        mentions |= Q(body__contains=name)
    count = 0
    for post in Post.objects.filter(mentions).order_by("pk"):
        if macros.names_used(post.body, dict.fromkeys(changed)):
            rerender_post(post, math_preamble=settings.math_preamble)
            count += 1
    site_state.mark_changed()
    return count
