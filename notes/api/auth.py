"""Who is calling the API, what they may do, and how often.

A script sends `Authorization: Bearer kb_…`; staff in the browser use their admin session, with
Django's CSRF check on every write. Anyone else gets 401. A read-only token sees what the public
site shows; a read-write token, like a staff session, also sees drafts and may write.
"""

from __future__ import annotations

import time
from functools import wraps

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, JsonResponse
from ninja.errors import AuthenticationError, AuthorizationError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.throttling import BaseThrottle

from notes.models import Post, tokens


class TokenAuth(HttpBearer):
    def __init__(self, *, write: bool = False) -> None:
        self.write = write
        super().__init__()

    def authenticate(self, request: HttpRequest, token: str):
        try:
            found = tokens.authenticate(token.strip())
        except tokens.TokenRefused as exc:
            raise AuthenticationError(message=str(exc)) from exc
        if self.write and not found.can_write:
            raise AuthorizationError(
                message="This API token is read-only; writing needs a read-write token."
            )
        request.api_token = found
        request.api_user = found.user
        return found


class StaffSession(APIKeyCookie):
    """The admin's session. CSRF is checked only once there is a staff session to protect, so
    a request with no credentials at all is a plain 401."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest):
        user = getattr(request, "user", None)
        if not (user and user.is_authenticated and user.is_active and user.is_staff):
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key):
        if key is None:
            return None
        request.api_token = None
        request.api_user = request.user
        return request.user


READ = [TokenAuth(), StaffSession()]
WRITE = [TokenAuth(write=True), StaffSession()]


def staff_or_token(view):
    """For the schema and the docs: staff in the browser (others go to the login page), or a
    script with any valid token, so a client can be generated from the schema."""
    for_staff = staff_member_required(view)

    @wraps(view)
    def checked(request: HttpRequest, *args, **kwargs):
        scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return for_staff(request, *args, **kwargs)
        try:
            tokens.authenticate(secret.strip())
        except tokens.TokenRefused as exc:
            return JsonResponse({"detail": str(exc)}, status=401)
        return view(request, *args, **kwargs)

    return checked


def visible_posts(request: HttpRequest):
    """Posts this caller may read: published ones with a read-only token; with write access,
    drafts and scheduled posts as well (never the trash)."""
    token = getattr(request, "api_token", None)
    if token is not None and not token.can_write:
        return Post.objects.published()
    return Post.objects.not_trashed()


def parse_rate(rate: str) -> tuple[int, int]:
    """'120/minute' → (120, 60)."""
    periods = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
    count, _, period = rate.partition("/")
    seconds = periods.get(period.strip().lower().rstrip("s"))
    if not count.strip().isdigit() or seconds is None:
        raise ImproperlyConfigured(
            f"KB_API_RATE_LIMIT must look like '120/minute' (second, minute, hour, day), "
            f"not {rate!r}"
        )
    return int(count), seconds


class PerCallerThrottle(BaseThrottle):
    """At most KB_API_RATE_LIMIT requests per token (or staff member) in each window.

    A counter per caller and window in the cache: one add and one increment a request, shared by
    every worker when the cache is Redis. Windows start on multiples of their length, so the
    wait until the next one is known without remembering anything.
    """

    def allow_request(self, request: HttpRequest) -> bool:
        limit, seconds = parse_rate(settings.KB_API_RATE_LIMIT)
        token = getattr(request, "api_token", None)
        caller = f"token-{token.pk}" if token else f"user-{request.api_user.pk}"
        key = f"kb:api-rate:{caller}:{int(time.time() // seconds)}"
        cache.add(key, 0, seconds + 1)
        try:
            used = cache.incr(key)
        except ValueError:  # evicted between the two calls
            cache.set(key, 1, seconds + 1)
            used = 1
        return used <= limit

    def wait(self) -> float:
        seconds = parse_rate(settings.KB_API_RATE_LIMIT)[1]
        return max(1.0, seconds - time.time() % seconds)
