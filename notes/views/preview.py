"""The editor's live preview, routed behind the admin's staff login (see kb/urls.py)."""

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.http import require_POST

from notes.models import MAX_BODY_CHARS, Post
from notes.rendering import markdownify


@method_decorator(staff_member_required, name="dispatch")
class MarkdownPreviewView(View):
    """The editor's live preview: the same pipeline as the stored HTML, for staff only."""

    def post(self, request: HttpRequest) -> HttpResponse:
        content = request.POST.get("content")
        if content is None:
            return HttpResponseBadRequest("The preview needs a 'content' field.")
        if len(content) > MAX_BODY_CHARS:
            return HttpResponse(
                f"The text is {len(content):,} characters long; the limit is {MAX_BODY_CHARS:,}.",
                status=413,
            )
        return HttpResponse(markdownify(content, Post.objects.resolve_wikilinks))


markdown_preview = require_POST(MarkdownPreviewView.as_view())
