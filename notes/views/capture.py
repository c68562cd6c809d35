"""/capture/: the staff page a bookmarklet opens, prefilled from the page being read (or a DOI
or arXiv id), that saves a summary draft and opens it in the editor."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from notes.capture.drafts import MAX_QUOTE, Draft, compose, save_draft
from notes.capture.identifiers import Identifier, LookupFailed, look_up, parse_identifier
from notes.capture.metadata import PageMetadata, read_page
from notes.capture.papers import reference_for
from notes.fetching import FetchError, fetch
from notes.models import MAX_BODY_CHARS, Post, Reference, Tag

HTML_TYPES = {"text/html", "application/xhtml+xml"}


class CaptureForm(forms.Form):
    title = forms.CharField(
        max_length=Post._meta.get_field("title").max_length,
        widget=forms.TextInput(attrs={"class": "vTextField"}),
    )
    source_url = forms.URLField(
        label="Source", max_length=500, required=False, assume_scheme="https",
        widget=forms.URLInput(attrs={"class": "vURLField"}),
    )  # fmt: skip
    summary = forms.CharField(
        max_length=500, required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField"}),
    )  # fmt: skip
    body = forms.CharField(
        max_length=MAX_BODY_CHARS,
        widget=forms.Textarea(attrs={"rows": 14, "class": "vLargeTextField"}),
    )
    tags = forms.ModelMultipleChoiceField(
        Tag.objects.all(), required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Ticked: the existing tags this page seems to be about.",
    )  # fmt: skip
    new_tags = forms.CharField(
        required=False,
        help_text="Comma-separated names of tags to create and add.",
        widget=forms.TextInput(attrs={"class": "vTextField"}),
    )
    # The paper's DOI or arXiv id, when it was looked up: saving adds it to the bibliography.
    paper = forms.CharField(required=False, max_length=300, widget=forms.HiddenInput)


def gather(url: str, identifier_text: str) -> tuple[PageMetadata, list[str], Identifier | None]:
    """What can be learned about the page or paper, what went wrong on the way, and the paper's
    identifier when it is one the registries know."""
    identifier = parse_identifier(identifier_text) or (parse_identifier(url) if url else None)
    if identifier_text and identifier is None:
        return PageMetadata(), [f"“{identifier_text}” is not a DOI or an arXiv id."], None
    if identifier is not None:
        try:
            return look_up(identifier), [], identifier
        except LookupFailed as exc:
            problem = f"{exc} The form holds what was sent."
            return PageMetadata(url=identifier.url), [problem], None
    if not url:
        return PageMetadata(), [], None
    try:
        page = fetch(url)
    except FetchError as exc:
        return PageMetadata(url=url), [f"{exc} The form holds what the bookmarklet sent."], None
    if page.content_type not in HTML_TYPES:
        return PageMetadata(url=page.url), [], None
    return read_page(page.text, page.url), [], None


def bookmarklet(request: HttpRequest) -> str:
    capture_url = request.build_absolute_uri(reverse("notes:capture"))
    return (
        "javascript:(function(){var s=String(window.getSelection()).slice(0,2000);"
        f"location.href='{capture_url}?url='+encodeURIComponent(location.href)"
        "+'&title='+encodeURIComponent(document.title)+'&selection='+encodeURIComponent(s);})()"
    )


@staff_member_required
def capture(request: HttpRequest) -> HttpResponse:
    problems: list[str] = []
    if request.method == "POST":
        form = CaptureForm(request.POST)
        if form.is_valid():
            try:
                return _save(request, form)
            except ValidationError as exc:  # what only the model checks, e.g. a body too deep
                form.add_error(None, exc.messages)
    else:
        params = request.GET
        url, identifier = params.get("url", "").strip(), params.get("id", "").strip()
        form = CaptureForm()
        if url or identifier or params.get("title"):
            meta, problems, paper = gather(url, identifier)
            draft = compose(
                meta,
                title=params.get("title", "").strip(),
                url=url if parse_identifier(url) is None else "",
                selection=params.get("selection", "")[:MAX_QUOTE],
            )
            initial = {**draft.__dict__, "tags": [t.pk for t in draft.tags]}
            form = CaptureForm(initial={**initial, "paper": str(paper or "")})
    context = {
        **admin.site.each_context(request),
        "title": "Capture a page or a paper",
        "form": form,
        "problems": problems,
        "bookmarklet": bookmarklet(request),
    }
    return render(request, "notes/capture.html", context)


def _save(request: HttpRequest, form: CaptureForm) -> HttpResponse:
    data = form.cleaned_data
    draft = Draft(data["title"], data["source_url"], data["summary"], data["body"],
                  list(data["tags"]))  # fmt: skip
    new_tags = [n for n in data["new_tags"].split(",") if n.strip()]
    with transaction.atomic():
        draft.reference = _paper_entry(request, data["paper"])
        post = save_draft(draft, user=request.user, extra_tags=new_tags)
    cited = f" It is attached to [@{draft.reference.key}]." if draft.reference else ""
    messages.success(request, f"Saved “{post}” as a draft.{cited}")
    return redirect("admin:notes_post_change", post.pk)


def _paper_entry(request: HttpRequest, identifier_text: str) -> Reference | None:
    """The bibliography entry of the paper looked up, added if new. The registry's answer is
    cached from the lookup that filled the form; if it is gone and the registry is down, the
    draft is still saved and the author told."""
    identifier = parse_identifier(identifier_text) if identifier_text else None
    if identifier is None:
        return None
    try:
        reference, created = reference_for(identifier)
    except (LookupFailed, ValidationError) as exc:
        reason = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        messages.warning(request, f"{identifier} was not added to the bibliography: {reason}")
        return None
    if created:
        messages.info(request, f"Added [@{reference.key}] to the bibliography.")
    return reference
