"""The editor's live preview, routed behind the admin's staff login (see kb/urls.py)."""

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.http import require_POST

from notes.models import MAX_BODY_CHARS
from notes.rendering import markdownify
from notes.text import clean_text


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
        # What the editor shows is what saving stores: the model cleans the text the same way.
        return HttpResponse(markdownify(clean_text(content)))


markdown_preview = require_POST(MarkdownPreviewView.as_view())
