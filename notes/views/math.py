"""The stylesheet of a post's formulas, named by its content and cached for good."""

import gzip

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_safe

from notes.models import MathStylesheet
from notes.page_cache import ACCEPTS_GZIP


@require_safe
def math_stylesheet(request: HttpRequest, digest: str) -> HttpResponse:
    etag = f'"{digest}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        sheet = get_object_or_404(MathStylesheet, digest=digest)
        body = sheet.css.encode()
        if ACCEPTS_GZIP.search(request.headers.get("Accept-Encoding", "")):
            response = HttpResponse(gzip.compress(body, 6, mtime=0))
            response["Content-Encoding"] = "gzip"
        else:
            response = HttpResponse(body)
        response["Content-Type"] = "text/css; charset=utf-8"
    response["ETag"] = etag
    # The address names the content, so it never changes: browsers need never ask again.
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    patch_vary_headers(response, ["Accept-Encoding"])
    return response
