"""Pages behind the post editor, staff only (routed through the admin, see notes/admin/writing):
the frame the preview is shown in, with the public site's stylesheets, and the posts `[[`
completes to."""

from __future__ import annotations

from csp.decorators import csp_replace
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET

from notes.models import Post

COMPLETIONS = 8


@require_GET
@xframe_options_sameorigin
@csp_replace({"frame-ancestors": ["'self'"]})
def preview_frame(request: HttpRequest) -> HttpResponse:
    """An empty post page, as readers see one; the editor writes the rendered body into it."""
    return render(request, "admin/notes/post/preview_frame.html")


@require_GET
def link_targets(request: HttpRequest) -> JsonResponse:
    """Posts whose address starts like the text after `[[`: one indexed query, a few rows."""
    text = request.GET.get("q", "")[:100]
    exclude = request.GET.get("exclude", "")
    posts = Post.objects.link_candidates(
        text, limit=COMPLETIONS, exclude=int(exclude) if exclude.isdigit() else None
    )
    results = [
        {"title": p.title, "slug": p.slug, "draft": p.status != Post.Status.PUBLISHED}
        for p in posts
    ]
    return JsonResponse({"results": results})
