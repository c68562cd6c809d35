"""The editor's live preview, routed behind the admin's staff login (see kb/urls.py)."""

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.http import require_POST

from notes.models import MAX_BODY_CHARS, MathStylesheet, Post, Reference, SiteSettings
from notes.rendering.pipeline import preview
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
        markup, rendered = preview(
            clean_text(content),
            Post.objects.resolve_wikilinks,
            Reference.objects.resolve_citations,
            math_preamble=SiteSettings.current().math_preamble,
            resolve_embeds=Post.objects.resolve_embeds,
        )
        digest = MathStylesheet.keep(rendered.math_css) if rendered else ""
        if digest:
            # The formulas' layout, as the post page will link it (allowed in the body).
            url = reverse("notes:math-stylesheet", kwargs={"digest": digest})
            markup = f'<link rel="stylesheet" href="{url}">' + markup
        return HttpResponse(markup)


markdown_preview = require_POST(MarkdownPreviewView.as_view())
