"""When did the public site last change? The page cache (notes/page_cache.py) asks on every
anonymous request, and every write that a public page could show answers by calling
`mark_changed()` inside its own transaction.

The answer lives in the database rather than in the cache because the database is the one thing
every worker and every server shares, and because a token replaced inside the writer's
transaction becomes visible exactly when the new content does: a reader that sees the new token
also sees the new rows, and a reader that raced the commit files its page under a token no one
will ask for again.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Count, Min, Q
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from notes import scheduling
from notes.models import (
    AuthorProfile,
    Link,
    Post,
    Redirect,
    Series,
    SiteSettings,
    SiteState,
    Tag,
    UpdateNote,
)

ROW = 1


@dataclass(frozen=True)
class State:
    token: str
    changed_at: datetime.datetime


def _new_token() -> str:
    # Random rather than counted: a restored backup or a rolled-back test can't bring an old
    # number, and with it an old cached page, back.
    return uuid.uuid4().hex


# Inside `one_change()`, changes are only noted here and the token is renewed once, at the end.
_held: ContextVar[list[bool] | None] = ContextVar("kb_site_state_held", default=None)


@contextmanager
def one_change() -> Iterator[None]:
    """Many writes (an import of thousands of posts) that change the site once, at the end,
    rather than once per row."""
    if _held.get() is not None:
        yield
        return
    token = _held.set([])
    try:
        yield
    finally:
        changed = bool(_held.get())
        _held.reset(token)
        if changed:
            mark_changed()


def mark_changed() -> None:
    """The site's content changed: pages cached until now are out of date."""
    held = _held.get()
    if held is not None:
        held[:] = [True]
        return
    now = timezone.now()
    fields = {
        "token": _new_token(),
        "changed_at": now,
        "schedule_known": False,
        "next_publication_at": None,
    }
    if not SiteState.objects.filter(pk=ROW).update(**fields):
        SiteState.objects.update_or_create(pk=ROW, defaults=fields)


def current() -> State:
    """The token and time of the last change, counting a scheduled post whose time has come.

    One query, except for the first reader after a change (or after a scheduled post goes
    live), which looks up when the next scheduled post is due, and whether one came out
    unseen; then the embeds of such a post are filled in (`_catch_up`).
    """
    row = _read()
    if row is None:
        mark_changed()
        return current()
    token, changed_at, schedule_known, next_at, checked_at = row
    now = timezone.now()
    if schedule_known and (next_at is None or next_at > now):
        return State(token, changed_at)

    since = (checked_at or changed_at) - scheduling.SLACK
    upcoming, came_out = _schedule(now, since)
    if schedule_known or came_out:
        caught_up = _catch_up(token, now, since)
        return caught_up if caught_up is not None else current()
    fields = {"schedule_known": True, "next_publication_at": upcoming, "due_checked_at": now}
    # Conditional, so a write committed meanwhile (a new token) is never overwritten.
    SiteState.objects.filter(pk=ROW, token=token).update(**fields)
    return State(token, changed_at)


def _catch_up(token: str, now: datetime.datetime, since: datetime.datetime) -> State | None:
    """A scheduled post came out: fill in its embeds, learn the schedule again and replace the
    token. None if a write or another worker replaced `token` first.

    The row stays locked until the new token commits with the HTML re-rendered for it, so two
    workers never do this twice, and no reader files an old page under the new token. (SQLite
    has no row locks, but kb opens its transactions IMMEDIATE, which serialises them.)"""
    with transaction.atomic():
        state = SiteState.objects.select_for_update().filter(pk=ROW, token=token).first()
        if state is None:
            return None
        next_at = state.next_publication_at
        if state.schedule_known and (next_at is None or next_at > now):
            return State(state.token, state.changed_at)  # another worker was just here
        filled = scheduling.fill_in_due(since, now, limit=scheduling.READER_LIMIT)
        fields = {
            "schedule_known": True,
            "next_publication_at": _schedule(now, since)[0],
            "token": state.token,
            "changed_at": state.changed_at,
        }
        if filled.complete:
            fields["due_checked_at"] = now
        if state.schedule_known:
            # A scheduled post went live at next_at: to the reader, that is when the site changed.
            fields.update(token=_new_token(), changed_at=next_at)
        elif filled.rerendered:
            fields.update(token=_new_token(), changed_at=now)
        SiteState.objects.filter(pk=ROW).update(**fields)
    return State(fields["token"], fields["changed_at"])


def fill_in_due(since: datetime.datetime | None = None) -> int:
    """Re-render every post embedding a post that came out since the last check (or since
    `since`), with no limit: `manage.py publish_due`, which a cron may run. Returns how many
    posts embedding them were re-rendered."""
    current()  # the row exists, and the schedule is known
    now = timezone.now()
    with transaction.atomic():
        state = SiteState.objects.select_for_update().get(pk=ROW)
        if since is None:
            since = (state.due_checked_at or state.changed_at) - scheduling.SLACK
        filled = scheduling.fill_in_due(since, now)
        if filled.rerendered:
            mark_changed()
        SiteState.objects.filter(pk=ROW).update(due_checked_at=now)
    return filled.rerendered


def _read() -> tuple[str, datetime.datetime, bool, datetime.datetime | None, ...] | None:
    """The row, read with plain SQL: on a cached page this is most of the work, and building
    the same ORM query every time cost more than running it."""
    try:
        row = _fetch_row()
    except (OperationalError, InterfaceError):
        if connection.in_atomic_block:
            raise
        # A connection kept from an earlier request may have died with a database restart.
        # Django's per-request health check would find out at the cost of a round trip on
        # every request; on the request that matters most, trying once more does the same.
        connection.close()
        row = _fetch_row()
    if row is None:
        return None
    token, changed_at, schedule_known, next_at, checked_at = row
    return token, _aware(changed_at), bool(schedule_known), _aware(next_at), _aware(checked_at)


def _fetch_row() -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute(_SELECT, [ROW])
        return cursor.fetchone()


def _aware(value) -> datetime.datetime | None:
    # psycopg returns aware datetimes; SQLite the naive UTC time Django stored (as text or,
    # through Django's converter, as a datetime).
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_datetime(value)
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)


_SELECT = (
    "SELECT token, changed_at, schedule_known, next_publication_at, due_checked_at "
    f"FROM {SiteState._meta.db_table} WHERE id = %s"
)


def _schedule(
    now: datetime.datetime, since: datetime.datetime
) -> tuple[datetime.datetime | None, int]:
    """When the next scheduled post is due, and how many came out in (since, now] with no save
    since (see `scheduling.due_posts`): one query."""
    # Both are later than `since`: the date's index keeps this from reading every post.
    published = Post.objects.not_trashed().filter(
        status=Post.Status.PUBLISHED, published_at__gt=since
    )
    found = published.aggregate(
        first=Min("published_at", filter=Q(published_at__gt=now)),
        came_out=Count("pk", filter=scheduling.came_out(since, now)),
    )
    return found["first"], found["came_out"]


# Writes made through model saves and deletes (the admin, the services, the importers) are
# caught here; the few writes that bypass signals (queryset.update, bulk_create) call
# mark_changed() themselves.
PUBLIC_MODELS = (Post, Tag, Series, Link, UpdateNote, SiteSettings, Redirect, AuthorProfile)


def _changed(sender, **kwargs) -> None:
    mark_changed()


def _user_saved(sender, update_fields=None, **kwargs) -> None:
    # An author's name is printed on their posts; a login only stamps last_login.
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    mark_changed()


def _tags_changed(sender, action: str, **kwargs) -> None:
    if action in {"post_add", "post_remove", "post_clear"}:
        mark_changed()


def connect_signals() -> None:
    for model in PUBLIC_MODELS:
        post_save.connect(_changed, sender=model, dispatch_uid=f"kb-site-state-save-{model}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"kb-site-state-del-{model}")
    post_save.connect(_user_saved, sender=settings.AUTH_USER_MODEL, dispatch_uid="kb-user-save")
    post_delete.connect(_changed, sender=settings.AUTH_USER_MODEL, dispatch_uid="kb-user-del")
    m2m_changed.connect(_tags_changed, sender=Post.tags.through, dispatch_uid="kb-post-tags")
