"""CDN-ready caching, opt-in with KB_CDN_MAX_AGE: anonymous pages say a shared cache may keep
them (`Cache-Control: public, s-maxage=…, stale-while-revalidate=…`) and name what they show
in `Surrogate-Key` (Fastly, and most others) and `Cache-Tag` (Cloudflare): `post-12`, `tag-3`,
`series-2`, `lists` on every listing, and `site` on every page. When a post, tag or series
changes, the keys that name it are purged once the transaction commits, with one POST to
KB_CDN_PURGE_URL; any other public change (site settings, an author's name) purges `site`.

A purge that fails is logged and forgotten: an edit never fails because the CDN is down, and
the pages then expire after s-maxage anyway.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.request
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpResponse

from notes.models import Link, Post, Series, SiteSettings, Tag, UpdateNote

logger = logging.getLogger(__name__)
SITE_KEY = "site"
LISTS_KEY = "lists"
PURGE_TIMEOUT_SECONDS = 5


def enabled() -> bool:
    return settings.KB_CDN_MAX_AGE > 0


def cache_control() -> str:
    return (
        f"public, max-age=0, s-maxage={settings.KB_CDN_MAX_AGE}, "
        f"stale-while-revalidate={settings.KB_CDN_STALE_SECONDS}"
    )


def key_for(thing) -> str:
    return f"{type(thing).__name__.lower()}-{thing.pk}"


def keys_shown(response: HttpResponse) -> list[str]:
    """The keys of what a rendered page shows, read from its template context."""
    context = getattr(response, "context_data", None) or {}
    keys = {SITE_KEY}
    for name in ("post", "tag", "series"):
        thing = context.get(name)
        if isinstance(thing, Post | Tag | Series):
            keys.add(key_for(thing))
            if isinstance(thing, Post):
                keys.update(key_for(tag) for tag in thing.tags.all())
    for tag in context.get("tags") or []:
        if isinstance(tag, Tag):
            keys.add(key_for(tag))
    listed = [*(context.get("posts") or []), *(r.post for r in context.get("results") or [])]
    if listed or "page_obj" in context:
        keys.add(LISTS_KEY)
    keys.update(key_for(post) for post in listed if isinstance(post, Post))
    return sorted(keys)


def mark(response: HttpResponse, keys: Iterable[str]) -> None:
    names = " ".join(keys)
    response["Cache-Control"] = cache_control()
    response["Surrogate-Key"] = names
    response["Cache-Tag"] = ",".join(names.split())


# Purging.

_pending = threading.local()


def purge_later(keys: Iterable[str]) -> None:
    """Purge these keys when the current transaction commits (at once outside one). The first
    callback of a commit sends every key waiting, in one request; the others find none."""
    if not (enabled() and settings.KB_CDN_PURGE_URL):
        return
    _pending.__dict__.setdefault("keys", set()).update(keys)
    transaction.on_commit(_flush)


def _flush() -> None:
    keys = sorted(getattr(_pending, "keys", ()))
    _pending.keys = set()
    if keys:
        purge(keys)


def purge(keys: list[str]) -> bool:
    body = json.dumps({"surrogate_keys": keys, "tags": keys}).encode()
    headers = {"Content-Type": "application/json", "Surrogate-Key": " ".join(keys)}
    if settings.KB_CDN_PURGE_TOKEN:
        headers["Authorization"] = f"Bearer {settings.KB_CDN_PURGE_TOKEN}"
    request = urllib.request.Request(settings.KB_CDN_PURGE_URL, body, headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=PURGE_TIMEOUT_SECONDS) as response:
            ok = 200 <= response.status < 300
    except OSError as error:
        ok = False
        logger.warning("CDN purge of %s failed: %s", " ".join(keys), error)
    return ok


def _post_keys(post: Post) -> set[str]:
    # A new or changed post shows on listings that don't name it yet (the newest page).
    keys = {key_for(post), LISTS_KEY}
    if post.pk:
        keys.update(f"tag-{pk}" for pk in post.tags.values_list("pk", flat=True))
        if post.series_id:
            keys.add(f"series-{post.series_id}")
    return keys


def _changed(sender, instance, **kwargs) -> None:
    if isinstance(instance, Post):
        purge_later(_post_keys(instance))
    elif isinstance(instance, Tag | Series):
        purge_later({key_for(instance), LISTS_KEY})
    elif isinstance(instance, Link):
        purge_later({f"post-{instance.source_id}", f"post-{instance.target_id}"})
    elif isinstance(instance, UpdateNote):
        purge_later({f"post-{instance.post_id}"})
    else:
        purge_later({SITE_KEY})


def _tags_changed(sender, instance, action: str, pk_set=None, **kwargs) -> None:
    if action in {"post_add", "post_remove", "post_clear"} and isinstance(instance, Post):
        purge_later(_post_keys(instance) | {f"tag-{pk}" for pk in pk_set or ()})


def connect_signals() -> None:
    for model in (Post, Tag, Series, Link, UpdateNote, SiteSettings):
        post_save.connect(_changed, sender=model, dispatch_uid=f"kb-cdn-save-{model}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"kb-cdn-delete-{model}")
    m2m_changed.connect(_tags_changed, sender=Post.tags.through, dispatch_uid="kb-cdn-tags")
