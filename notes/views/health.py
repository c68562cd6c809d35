"""How the site reports on itself: /healthz for a load balancer, and the page a reader gets when
something failed, which says "down for a moment" (503) rather than "broken" when the database is
out of reach."""

from __future__ import annotations

import logging
import sys

from django.conf import settings
from django.core.exceptions import BadRequest
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.template import loader
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)

UNREACHABLE_ERRORS = (OperationalError, InterfaceError)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers a trivial query; 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.warning("Health check: the database did not answer", exc_info=True)
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 400 handler, in the site's design, saying what was wrong when kb itself refused
    the request (a BadRequest); other refusals, such as a forged Host header, say nothing more."""
    message = str(exception) if isinstance(exception, BadRequest) else ""
    body = loader.render_to_string("400.html", {"message": message}, request=request)
    return HttpResponseBadRequest(body)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500 handler, which a database outage turns into the 503 page.

    It runs inside the `except` that caught the error, so `sys.exc_info()` names it. Neither
    page touches the database or the session: both are rendered without the request.
    """
    error = sys.exc_info()[1]
    if isinstance(error, UNREACHABLE_ERRORS):
        status, template, fallback = 503, "503.html", "The site is briefly unavailable."
    else:
        status, template, fallback = 500, "500.html", "Something went wrong on our side."
    context = {
        "site_title": settings.KB_SITE_TITLE,
        "site_description": settings.KB_SITE_DESCRIPTION,
    }
    try:
        body = loader.get_template(template).render(context)
    except Exception:
        # The error page must never fail in turn; plain text always renders.
        logger.exception("The %s page could not be rendered", status)
        return HttpResponse(fallback, status=status, content_type="text/plain; charset=utf-8")
    response = HttpResponse(body, status=status)
    if status == 503:
        response["Retry-After"] = "30"
    return response
