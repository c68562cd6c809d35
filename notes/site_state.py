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
from django.db import InterfaceError, OperationalError, connection
from django.db.models import Min
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone
from django.utils.dateparse import parse_datetime

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
    live), which looks up when the next scheduled post is due.
    """
    row = _read()
    if row is None:
        mark_changed()
        return current()
    token, changed_at, schedule_known, next_at = row
    now = timezone.now()
    if schedule_known and (next_at is None or next_at > now):
        return State(token, changed_at)

    fields = {"schedule_known": True, "next_publication_at": _next_publication(now)}
    if schedule_known:
        # A scheduled post went live at next_at: to the reader, that is when the site changed.
        fields.update(token=_new_token(), changed_at=next_at)
    # Conditional, so a write committed meanwhile (a new token) is never overwritten.
    SiteState.objects.filter(pk=ROW, token=token).update(**fields)
    return State(fields.get("token", token), fields.get("changed_at", changed_at))


def _read() -> tuple[str, datetime.datetime, bool, datetime.datetime | None] | None:
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
    token, changed_at, schedule_known, next_at = row
    return token, _aware(changed_at), bool(schedule_known), _aware(next_at)


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
    "SELECT token, changed_at, schedule_known, next_publication_at "
    f"FROM {SiteState._meta.db_table} WHERE id = %s"
)


def _next_publication(now: datetime.datetime) -> datetime.datetime | None:
    scheduled = Post.objects.not_trashed().filter(
        status=Post.Status.PUBLISHED, published_at__gt=now
    )
    return scheduled.aggregate(first=Min("published_at"))["first"]


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
