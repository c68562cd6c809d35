"""Request-level guards: a request id for the logs, the client's real address behind a proxy,
the login lockout page, and a clear refusal of NUL bytes before they reach the database."""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable
from datetime import timedelta

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.core.exceptions import BadRequest, DisallowedHost
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse

from notes.logging import request_id_var

# In CONTENT_SECURITY_POLICY, the place of the static files' address (and the admin's catalogue).
STATIC_SCRIPTS = "kb:static-files"

# An id a trusted proxy already gave the request is kept, so its logs and ours line up.
_INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Tags the request, its log lines and its response with one id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        trusted = from_trusted_proxy(request) and _INCOMING_ID.match(incoming)
        request.id = incoming if trusted else uuid.uuid4().hex
        token = request_id_var.set(request.id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request.id
        return response


class RejectNullBytesMiddleware:
    """A NUL byte in the address is refused before any view sees it: in the path it is a 404
    (nothing can live there), in the query string a 400 that says what is wrong.

    PostgreSQL refuses NUL in text, so such a value would otherwise turn a search, a filter or
    a lookup into a server error there while SQLite quietly accepts it. Form fields are left to
    the forms: Django's CharField rejects NUL with a field error and keeps the author's text.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path:
            raise Http404("The address contains a NUL character (%00).")
        query = [*request.GET.keys(), *(v for _, values in request.GET.lists() for v in values)]
        if any("\x00" in value for value in query):
            raise BadRequest(
                "The address contains a NUL character (%00), which no search or page uses."
            )
        return self.get_response(request)


def from_trusted_proxy(request: HttpRequest) -> bool:
    """Whether the request came through a proxy of ours, whose headers may be believed:
    kb is behind one, and the peer's address is one of KB_TRUSTED_PROXIES."""
    if not settings.KB_BEHIND_PROXY:
        return False
    try:
        peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(peer in network for network in settings.KB_TRUSTED_PROXIES)


def client_ip(request: HttpRequest) -> str:
    """The address of the person at the other end, for login throttling and logs.

    Behind a proxy, REMOTE_ADDR is the proxy. Each proxy appends the address it saw to
    X-Forwarded-For, so the entry `KB_PROXY_COUNT` places from the right is the last one a
    proxy of ours wrote; anything further left came from the client and could be forged. A
    request that did not come from a trusted proxy counts against its own address, whatever
    it claims: otherwise a client reaching gunicorn directly could rotate the header and
    never be locked out.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    if not from_trusted_proxy(request):
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [a for a in forwarded if a]
    if len(forwarded) < settings.KB_PROXY_COUNT:
        return remote
    return forwarded[-settings.KB_PROXY_COUNT]


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """The page a locked-out login sees: why, and when to try again."""
    cool_off = settings.AXES_COOLOFF_TIME
    minutes = round(timedelta(hours=cool_off).total_seconds() / 60) if cool_off else None
    return render(
        request,
        "403.html",
        {"locked_out": True, "failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes},
        status=429,
    )


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp, with scripts allowed from the static files' address only.

    `'self'` would also let a page load a script from /media/, where what authors and backups
    bring lives; a CSP source cannot name a path without an origin, so the origin is the
    request's (or STATIC_URL's, when static files are on another host).
    """

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        name = "CONTENT_SECURITY_POLICY_REPORT_ONLY" if report_only else "CONTENT_SECURITY_POLICY"
        sources = (getattr(settings, name, None) or {}).get("DIRECTIVES", {}).get("script-src")
        if sources and STATIC_SCRIPTS in sources and "script-src" not in (parts.replace or {}):
            own = static_script_sources(request)
            filled = [s for src in sources for s in (own if src == STATIC_SCRIPTS else [src])]
            parts.replace = {**(parts.replace or {}), "script-src": filled}
        return parts


def static_script_sources(request: HttpRequest) -> list[str]:
    """Where kb's scripts live: the static files, and the admin's translation catalogue (a
    view of Django's admin that its forms load as a script)."""
    try:
        return [
            request.build_absolute_uri(settings.STATIC_URL),
            request.build_absolute_uri(reverse("admin:jsi18n")),
        ]
    except DisallowedHost:  # the response is a 400 that runs nothing
        return ["'none'"]
