"""Whole public pages, cached for anonymous readers and revalidated with ETag/Last-Modified.

A page is rendered once per change of the site: its cache key carries the site's token
(notes/site_state.py), which every write replaces, so there is nothing to invalidate page by
page and no edit can be missed. The price is that one edit makes every page render once more,
which a personal site, written by one person and read by many, can afford.

Only requests without a session cookie are served from the cache, so staff (and anyone else
logged in) always see fresh pages, drafts and banners included; and only responses that are the
same for everyone are stored: a 200, setting no cookie, not marked private.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date
from django.utils.regex_helper import _lazy_re_compile

from notes import cdn, site_state

ACCEPTS_GZIP = _lazy_re_compile(r"\bgzip\b")
# Headers of the stored response that belong to the one request, not to the page.
NOT_STORED = {"set-cookie", "content-length", "content-encoding", "x-request-id"}


@dataclass(frozen=True)
class Entry:
    """What is kept of a page: its headers and its body, compressed once for every reader."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @classmethod
    def of(cls, response: HttpResponse) -> Entry:
        headers = tuple((k, v) for k, v in response.items() if k.lower() not in NOT_STORED)
        return cls(response.status_code, headers, gzip.compress(response.content, 6, mtime=0))

    def response_for(self, request: HttpRequest) -> HttpResponse:
        if ACCEPTS_GZIP.search(request.headers.get("Accept-Encoding", "")):
            response = HttpResponse(self.body, status=self.status)
            response["Content-Encoding"] = "gzip"
        else:
            response = HttpResponse(gzip.decompress(self.body), status=self.status)
        for name, value in self.headers:
            response[name] = value
        response["Content-Length"] = str(len(response.content))
        return response


def build_id() -> str:
    """Changes whenever a deployment changes what a page looks like: the code and templates
    that render it, the static files' hashed names in it, and the site's settings."""
    digest = hashlib.sha256()
    roots = [Path(settings.BASE_DIR) / name for name in ("kb", "notes", "templates")]
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.suffix in {".py", ".html", ".txt", ".xml"} and path.is_file():
                digest.update(path.read_bytes())
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if manifest.is_file():
        digest.update(manifest.read_bytes())
    for name in ("KB_SITE_TITLE", "KB_SITE_DESCRIPTION", "KB_POSTS_PER_PAGE", "DEBUG"):
        digest.update(repr(getattr(settings, name)).encode())
    return digest.hexdigest()[:12]


class AnonymousPageCacheMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.build = build_id()
        self.skipped = tuple(settings.KB_PAGE_CACHE_SKIP)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self.applies_to(request):
            return self.get_response(request)
        state = request.site_state = site_state.current()
        key = self.key(request, state.token)
        entry = cache.get(key)
        if entry is None:
            response = self.get_response(request)
            if not self.is_public(request, response):
                return response
            if cdn.enabled():
                cdn.mark(response, cdn.keys_shown(response))
            entry = Entry.of(response)
            cache.set(key, entry, settings.KB_PAGE_CACHE_SECONDS)
        response = entry.response_for(request)
        etag = f'W/"{self.build}-{state.token}"'
        last_modified = http_date(state.changed_at.timestamp())
        response["ETag"] = etag
        response["Last-Modified"] = last_modified
        # Browsers and proxies may keep the page, but must ask whether it is still current;
        # the answer is usually a bodiless 304. A CDN, when one is configured, may keep it
        # for KB_CDN_MAX_AGE (notes/cdn.py).
        response["Cache-Control"] = cdn.cache_control() if cdn.enabled() else "no-cache"
        patch_vary_headers(response, ["Cookie", "Accept-Encoding"])
        return get_conditional_response(
            request, etag=etag, last_modified=int(state.changed_at.timestamp()), response=response
        )

    def applies_to(self, request: HttpRequest) -> bool:
        return (
            settings.KB_PAGE_CACHE_SECONDS > 0
            and request.method in {"GET", "HEAD"}
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
            and not request.path.startswith(self.skipped)
        )

    def is_public(self, request: HttpRequest, response: HttpResponse) -> bool:
        """Whether the response is the page every anonymous reader would get."""
        cache_control = response.get("Cache-Control", "")
        user = getattr(request, "user", None)
        return (
            response.status_code == 200
            and not response.streaming
            and not response.cookies
            and "private" not in cache_control
            and "no-store" not in cache_control
            and not (user and user.is_authenticated)
        )

    def key(self, request: HttpRequest, token: str) -> str:
        # Scheme and host are part of the page: canonical links and feeds are built from them.
        address = f"{request.scheme}://{request.get_host()}{request.get_full_path()}".encode()
        return f"kb:page:{self.build}:{token}:{hashlib.sha256(address).hexdigest()[:32]}"
