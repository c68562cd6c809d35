"""The bibliography on the site: /references/ lists the works published posts cite, each
reference's page shows the posts citing it, and .bib / CSL-JSON / RIS downloads. A reference
is public once a published post cites or summarizes it; drafts never count."""

from __future__ import annotations

import json

from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.http import require_safe
from django.views.generic import DetailView, ListView

from notes import citation
from notes.bibliography.writing import bibliography_bibtex
from notes.models import Post, Reference, SiteSettings
from notes.views.reading import PublishedPaginationMixin

SORTS = {
    "author": ["author_names", "year", "title"],
    "year": ["-year", "author_names", "title"],
    "title": ["title", "year"],
}


class ReferenceListView(PublishedPaginationMixin, ListView):
    template_name = "notes/reference_list.html"
    context_object_name = "references"
    paginate_by = 50

    def get_queryset(self):
        self.sort = self.request.GET.get("sort", "author")
        if self.sort not in SORTS:
            self.sort = "author"
        self.query = " ".join(self.request.GET.get("q", "").replace("\x00", " ").split())[:200]
        references = Reference.objects.public()
        for word in self.query.split():
            references = references.filter(
                Q(title__icontains=word) | Q(author_names__icontains=word) | Q(key__iexact=word)
            )
        return references.order_by(*SORTS[self.sort])

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            sort=self.sort, sorts=list(SORTS), query=self.query, **kwargs
        )


class ReferenceDetailView(DetailView):
    template_name = "notes/reference_detail.html"
    context_object_name = "reference"
    slug_field = "key"
    slug_url_kwarg = "key"

    def get_queryset(self):
        return Reference.objects.public()

    def get_context_data(self, **kwargs):
        reference = self.object
        published = Post.objects.published().for_listing()
        return super().get_context_data(
            citing_posts=published.filter(cited_references=reference),
            summaries=published.filter(reference=reference),
            **kwargs,
        )


def _download(content: str, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_safe
def bibliography_bib(request: HttpRequest) -> HttpResponse:
    """Every public reference, as one .bib file."""
    return _download(
        bibliography_bibtex(Reference.objects.public()), "references.bib", "text/x-bibtex"
    )


@require_safe
def reference_bib(request: HttpRequest, key: str) -> HttpResponse:
    reference = get_object_or_404(Reference.objects.public(), key=key)
    return _download(bibliography_bibtex([reference]), f"{_file_stem(key)}.bib", "text/x-bibtex")


def _published_post(slug: str) -> Post:
    return get_object_or_404(Post.objects.published().select_related("author"), slug=slug)


@require_safe
def post_references_bib(request: HttpRequest, slug: str) -> HttpResponse:
    """The works one post cites (and the paper it summarizes), as a .bib file."""
    post = _published_post(slug)
    works = {r.pk: r for r in post.cited_references.all()}
    if post.reference_id:
        works[post.reference_id] = post.reference
    if not works:
        raise Http404("This post cites nothing.")
    return _download(
        bibliography_bibtex(works.values()), f"{post.slug}-references.bib", "text/x-bibtex"
    )


def _post_facts(request: HttpRequest, slug: str):
    post = _published_post(slug)
    url = request.build_absolute_uri(post.get_absolute_url())
    site = SiteSettings.for_request(request).site_title
    return post, url, site, timezone.localdate()


@require_safe
def post_bibtex(request: HttpRequest, slug: str) -> HttpResponse:
    post, url, site, today = _post_facts(request, slug)
    entry = citation.citation_for(post, url, site, today).bibtex + "\n"
    return _download(entry, f"{post.slug}.bib", "text/x-bibtex")


@require_safe
def post_csl_json(request: HttpRequest, slug: str) -> HttpResponse:
    post, url, site, today = _post_facts(request, slug)
    data = json.dumps(citation.csl_json(post, url, site, today), ensure_ascii=False, indent=2)
    return _download(data + "\n", f"{post.slug}.json", "application/vnd.citationstyles.csl+json")


@require_safe
def post_ris(request: HttpRequest, slug: str) -> HttpResponse:
    post, url, site, today = _post_facts(request, slug)
    return _download(
        citation.ris(post, url, site, today),
        f"{post.slug}.ris",
        "application/x-research-info-systems",
    )


def _file_stem(key: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in key)
