"""Writing checked posts through `services.save_post`, the admin's path, in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from notes import redirects, services, site_state
from notes.importing import bulk
from notes.importing.media import copy_media
from notes.importing.posts import PostData
from notes.importing.report import ImportReport, InvalidImport, Problem, Progress
from notes.models import Link, Post, Reference, Series, Tag, UpdateNote
from notes.models.posts import COMING_POSTS
from notes.rendering import WikiTarget
from notes.slugs import slug_base


class Lookups:
    """Tags, series and authors found or created once per import rather than once per post."""

    def __init__(self, default_author, *, dry_run: bool):
        self.default_author = default_author
        self.dry_run = dry_run
        self.tags: dict[str, Tag] = {}
        self.users: dict[str, Any] = {}
        self.series_by_title: dict[str, Series] = {}

    def tag_list(self, names: Iterable[str]) -> list[Tag]:
        wanted = {" ".join(n.split()).lower(): " ".join(n.split()) for n in names if n.strip()}
        missing = [name for key, name in wanted.items() if key not in self.tags]
        # Matched case-insensitively, so "ML" finds the tag "ml".
        for tag in services.get_or_create_tags(missing):
            self.tags[tag.name.lower()] = tag
        return [self.tags[key] for key in wanted]

    def series(self, title: str | None) -> Series | None:
        if not title:
            return None
        if title.lower() not in self.series_by_title:
            slug = slug_base(title, Series._meta.get_field("slug").max_length)
            found = Series.objects.filter(title__iexact=title).first()
            found = found or Series.objects.filter(slug=slug).first()
            found = found or Series.objects.create(title=title, slug=slug)
            self.series_by_title[title.lower()] = found
        return self.series_by_title[title.lower()]

    def author(self, name: str | None):
        """The user a file names (checked to exist by `unknown_authors` before writing)."""
        if not name:
            return self.default_author
        if name not in self.users:
            self.users[name] = find_user(name) or self.default_author
        return self.users[name]


def find_user(name: str):
    """The account a front-matter `author` means, by username or else by full name."""
    users = get_user_model().objects
    found = users.filter(username=name).first()
    if found is None and " " in name.strip():
        first, _, last = name.strip().partition(" ")
        found = users.filter(first_name__iexact=first, last_name__iexact=last).first()
    return found


def unknown_authors(posts: list[PostData], default_author) -> tuple[list[Problem], list[Problem]]:
    """Front-matter authors with no account. Accounts are never made up from a name: with a
    default author the post is theirs (noted); without one the file is refused."""
    problems, notes = [], []
    known: dict[str, bool] = {}
    for data in posts:
        if data.author is None:
            continue
        if data.author not in known:
            known[data.author] = find_user(data.author) is not None
        if known[data.author]:
            continue
        if default_author is None:
            reason = f"no user is called {data.author!r}; create the account or pass an author"
            problems.append(Problem(data.path, reason))
        else:
            reason = f"no user is called {data.author!r}; the post is {default_author}'s"
            notes.append(Problem(data.path, reason))
            data.author = None
    return problems, notes


def _is_unchanged(post: Post, data: PostData, author) -> bool:
    current_links = sorted(
        (link.target.slug, link.note)
        for link in post.outgoing_links.all()
        if not link.from_wikilink
    )
    checks = [
        post.title == data.title,
        post.body == data.body,
        post.summary == data.summary,
        post.alias_list == data.aliases,
        post.source_url == data.source_url,
        (post.reference.key if post.reference_id else "") == data.reference,
        post.status == (Post.Status.DRAFT if data.draft else Post.Status.PUBLISHED),
        data.published_at is None or post.published_at == data.published_at,
        data.updated_at is None or post.updated_at == data.updated_at,
        data.author is None or post.author_id == author.pk,
        (post.series.title.lower() if post.series else None)
        == (data.series.lower() if data.series else None),
        post.series_order == data.series_order,
        {t.name.lower() for t in post.tags.all()} == {t.lower() for t in data.tags},
        data.updates is None
        or sorted((n.date, n.text) for n in post.update_notes.all()) == sorted(data.updates),
        data.see_also is None or current_links == sorted(data.see_also),
        post.feed_entry_id == data.feed_entry_id,
        post.trashed_at is None,
        all(default_storage.exists(m.name) for m in data.media),
    ]
    return all(checks)


def _existing(slugs: Sequence[str]) -> dict[str, Post]:
    found: dict[str, Post] = {}
    for start in range(0, len(slugs), 500):
        posts = (
            Post.objects.filter(slug__in=slugs[start : start + 500])
            .select_related("series", "author", "reference")
            .prefetch_related("tags", "update_notes", "outgoing_links__target")
        )
        found.update((p.slug, p) for p in posts)
    return found


def _write(
    posts: list[PostData],
    report: ImportReport,
    lookups: Lookups,
    progress: Progress | None,
) -> None:
    existing = _existing([d.slug for d in posts])
    linked: list[tuple[Post, PostData]] = []
    # New posts are written in bulk once the changed ones are saved (notes/importing/bulk.py).
    pending: list[bulk.NewPost] = []
    coming, slug_at = _coming(posts)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, len(posts))

    held = COMING_POSTS.set(coming)
    try:
        _save_each(posts, existing, linked, pending, report, lookups, tick)
        written = bulk.write_new(pending, lookups, report, tick) if pending else []
    finally:
        COMING_POSTS.reset(held)
    linked += written
    _link_to_coming(linked, slug_at)
    if written:
        bulk.mend_links_to([post for post, _ in written])
        site_state.mark_changed()
    for post, data in linked:
        _set_see_also(post, data, report)


def _coming(posts: list[PostData]) -> tuple[dict[str, WikiTarget], dict[str, str]]:
    """What the import's published posts will be, by slug and by lower-cased title or alias;
    and each one's address with its slug. A post dated in the future is left out: a link to it
    stays the words written until it is out, as for any scheduled post (notes/scheduling.py)."""
    coming: dict[str, WikiTarget] = {}
    slug_at: dict[str, str] = {}
    now = timezone.now()
    published = [
        d for d in posts if not d.draft and (d.published_at is None or d.published_at <= now)
    ]
    urls = [reverse("notes:post-detail", kwargs={"slug": d.slug}) for d in published]
    for data, url in zip(published, urls, strict=True):
        target = WikiTarget(title=data.title, url=url)
        coming.setdefault(data.slug, target)
        coming.setdefault(data.title.lower(), target)
        slug_at.setdefault(url, data.slug)
    # A slug or title wins over another post's alias, as when the links resolve later.
    for data, url in zip(published, urls, strict=True):
        for alias in data.aliases:
            coming.setdefault(alias.lower(), WikiTarget(title=alias, url=url))
    return coming, slug_at


def _link_to_coming(saved: list[tuple[Post, PostData]], slug_at: dict[str, str]) -> None:
    """The cross-links of posts rendered before their targets were written."""
    waiting = [post for post, _ in saved if getattr(post, "coming_link_urls", None)]
    if not waiting:
        return
    wanted = {slug_at[url] for post in waiting for url in post.coming_link_urls if url in slug_at}
    ordered, ids = sorted(wanted), {}
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        ids.update(Post.objects.filter(slug__in=chunk).values_list("slug", "pk"))
    # The links to posts that existed were written with each post; these are the rest, in one go.
    Link.objects.bulk_create(
        [
            Link(source=post, target_id=target, from_wikilink=True)
            for post in waiting
            for target in {ids.get(slug_at.get(url)) for url in post.coming_link_urls}
            - post.linked_post_ids
            - {None, post.pk}
        ],
        batch_size=500,
        ignore_conflicts=True,  # a hand-made link to the same post already stands
    )


def _save_each(
    posts: list[PostData],
    existing: dict[str, Post],
    linked: list[tuple[Post, PostData]],
    pending: list[bulk.NewPost],
    report: ImportReport,
    lookups: Lookups,
    tick: Callable[[], None],
) -> None:
    for data in posts:
        post = existing.get(data.slug)
        author = lookups.author(data.author) if not lookups.dry_run or data.author is None else None
        if post is not None and _is_unchanged(post, data, author or post.author):
            report.unchanged.append(data.slug)
        else:
            (report.updated if post else report.created).append(data.slug)
            if lookups.dry_run:
                errors = _formula_errors(data.body)
            elif post is None:
                pending.append(bulk.NewPost(data, author, lookups.tag_list(data.tags)))
                errors = ()  # reported once it is rendered
            else:
                post = _save(post or Post(slug=data.slug), data, lookups, author)
                linked.append((post, data))
                errors = getattr(post, "math_errors", ())
            report.warnings += [
                Problem(data.path, f"a formula can't be typeset: {error}") for error in errors
            ]
        if data.redirects:
            report.translated["old addresses redirected"] += len(set(data.redirects))
            if post is not None and not lookups.dry_run:
                redirects.record(post, data.redirects)
        if lookups.dry_run or post is not None:
            tick()


def _formula_errors(body: str) -> tuple[str, ...]:
    """What the real run would warn of in the body's formulas: it is rendered (reading, never
    writing) so a dry run lists them too."""
    probe = Post(body=body)
    probe.render()
    return probe.math_errors


def _save(post: Post, data: PostData, lookups: Lookups, author) -> Post:
    copy_media(data.media)
    post.title = data.title
    post.body = data.body
    post.summary = data.summary
    post.aliases = "\n".join(data.aliases)
    post.source_url = data.source_url
    # The key was checked against the bibliography the import brings (see markdown.py).
    post.reference = (
        Reference.objects.filter(key=data.reference).first() if data.reference else None
    )
    post.feed_entry_id = data.feed_entry_id
    # Importing a file whose post is in the trash means the author wants it back.
    post.trashed_at = None
    post.status = Post.Status.DRAFT if data.draft else Post.Status.PUBLISHED
    if data.published_at is not None:
        post.published_at = data.published_at
    if data.author is not None or post.pk is None:
        post.author = author
    post.series = lookups.series(data.series)
    post.series_order = data.series_order
    services.save_post(post, tags=lookups.tag_list(data.tags))
    if data.updated_at is not None:
        # updated_at is auto_now; the file's lastmod is the truth about when it last changed.
        Post.objects.filter(pk=post.pk).update(updated_at=data.updated_at)
        post.updated_at = data.updated_at
    if data.updates is not None and sorted(
        (n.date, n.text) for n in post.update_notes.all()
    ) != sorted(data.updates):
        post.update_notes.all().delete()
        UpdateNote.objects.bulk_create(
            UpdateNote(post=post, date=date, text=text) for date, text in data.updates
        )
    # The two writes above send no signals; the page cache must still hear of them.
    site_state.mark_changed()
    return post


def _set_see_also(post: Post, data: PostData, report: ImportReport) -> None:
    """Hand-made links, written once every post of the import exists to be linked to."""
    if data.see_also is None:
        return
    Link.objects.filter(source=post, from_wikilink=False).delete()
    taken = set(Link.objects.filter(source=post).values_list("target__slug", flat=True))
    targets = Post.objects.in_bulk([slug for slug, _ in data.see_also], field_name="slug")
    for slug, note in data.see_also:
        target = targets.get(slug)
        if target is None or target.pk == post.pk:
            report.warnings.append(Problem(data.path, f"see_also: no other post has slug {slug!r}"))
        elif slug not in taken:
            Link.objects.create(source=post, target=target, note=note)
            taken.add(slug)


def run(
    posts: list[PostData],
    problems: list[Problem],
    *,
    author,
    skip_invalid: bool,
    dry_run: bool,
    progress: Progress | None,
) -> ImportReport:
    report = ImportReport(dry_run=dry_run)
    if problems and not skip_invalid:
        raise InvalidImport(problems)
    report.skipped = problems
    lookups = Lookups(author, dry_run=dry_run)
    if dry_run:
        _write(posts, report, lookups, progress)
    else:
        with transaction.atomic(), site_state.one_change():
            _write(posts, report, lookups, progress)
    return report
