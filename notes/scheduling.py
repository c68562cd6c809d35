"""A scheduled post's embeds, filled in when its time comes, with no one saving anything.

An embed shows another post's text, so a post scheduled for later does not resolve as an embed
until it is out (`PostQuerySet.resolve_embeds`): the embedding post stores a "no post called …"
notice and lists the name among its broken wikilinks, and nothing of the scheduled text. (A
plain wikilink to a scheduled post already resolves to a link, since it shows only a title; it
needs nothing here.) When the time comes, those embedding posts must be rendered again.

`fill_in_due()` does that, through the same service as every other re-render. It is called by
the first reader after a scheduled post comes due (notes/site_state.py, which holds the site
state row's lock meanwhile, so one worker does it and the new page-cache token and the new HTML
commit together), a bounded number of posts at a time; `manage.py publish_due`, run from cron,
does the rest, if any.

Which posts are stale is read from the data, not remembered: a post is re-rendered when one of
its broken names is now the slug, title or alias of a post that came out with no save since
(a save re-renders the posts naming it itself). Re-rendering mends that name, so a post is
not found twice, and a missed run costs nothing but a delay. The site state row remembers only
up to when this was done (`due_checked_at`), which a change to the site leaves alone, so a
change between a post's time and the next reader does not lose it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, Q

from notes import cdn
from notes.models import Post

# How far before the last check to look for posts that came due: a post rendered inside a
# transaction that was still open at the last check (a long import) was rendered before it.
SLACK = datetime.timedelta(days=1)
# Posts re-rendered on a reader's request, at most; the cron command has no limit.
READER_LIMIT = 20
# Posts that came due whose names are looked for in one pass, newest first.
MAX_DUE = 100
NAMES_A_QUERY = 100


@dataclass(frozen=True)
class Filled:
    rerendered: int
    complete: bool  # False when `limit` left stale posts for another pass


def came_out(since: datetime.datetime, now: datetime.datetime) -> Q:
    """Published posts whose date fell in (since, now] and which were last saved before it:
    the ones whose coming out no save has handled (a save re-renders the posts naming it)."""
    return Q(
        status=Post.Status.PUBLISHED,
        trashed_at__isnull=True,
        published_at__gt=since,
        published_at__lte=now,
    ) & Q(published_at__gt=F("updated_at"))


def due_posts(since: datetime.datetime, now: datetime.datetime) -> list[Post]:
    posts = Post.objects.filter(came_out(since, now)).only("pk", "slug", "title", "aliases")
    return list(posts.order_by("-published_at")[:MAX_DUE])


def stale_embedders(due: list[Post]) -> list[Post]:
    """Posts (any status: a draft's preview is rendered too) with a broken name that one of
    `due` now answers to. A LIKE narrows the rows; the exact, case-blind match is made here."""
    owners: dict[str, set[int]] = {}
    for post in due:
        for name in post.names:
            owners.setdefault(name.lower(), set()).add(post.pk)
    if not owners:
        return []
    ids: set[int] = set()
    names = sorted(owners)
    # In chunks: SQLite refuses an expression nested more than 1,000 deep.
    for start in range(0, len(names), NAMES_A_QUERY):
        mentions = Q()
        for name in names[start : start + NAMES_A_QUERY]:
            mentions |= Q(broken_wikilinks__icontains=name)
        rows = Post.objects.not_trashed().exclude(broken_wikilinks="").filter(mentions)
        ids.update(rows.values_list("pk", flat=True))
    candidates = Post.objects.filter(pk__in=ids).order_by("pk") if ids else []
    # A post's own name among its broken ones is an embed of itself, which no date mends.
    return [
        post
        for post in candidates
        if any(
            owners.get(line.strip().lower(), set()) - {post.pk}
            for line in post.broken_wikilink_list
        )
    ]


@transaction.atomic(savepoint=False)  # its callers hold a transaction already
def fill_in_due(
    since: datetime.datetime, now: datetime.datetime, *, limit: int | None = None
) -> Filled:
    """Re-render the posts embedding a post that came out in (since, now], then the posts that
    embed those, at most `limit` of the first kind. The caller tells the page cache."""
    from notes import services  # services reach site_state, which imports this module

    stale = stale_embedders(due_posts(since, now))
    chosen = stale if limit is None else stale[:limit]
    for post in chosen:
        services.rerender_post(post)
        # Its writes send no signals, so a CDN keeping its page hears of them here.
        cdn.purge_later({cdn.key_for(post)})
    if chosen:
        services.rerender_embedding({post.pk for post in chosen})
    return Filled(rerendered=len(chosen), complete=len(chosen) == len(stale))
