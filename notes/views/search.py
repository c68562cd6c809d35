"""The search page: /search/?q=…, ranked results with highlighted snippets, narrowed by the tag
and year facets (`&tag=…`, repeatable, and `&year=…`). It reaches posts only through
`Post.objects.published()`, so drafts are in no result, count or facet."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.exceptions import BadRequest
from django.db.models import Q
from django.http import QueryDict
from django.utils.safestring import SafeString
from django.views.generic import ListView

from notes.catalogue import TagLink
from notes.models import Post, Tag
from notes.search import highlighted_snippets
from notes.search_query import MAX_QUERY_CHARS, SearchQuery, clean_tag, parse
from notes.search_ranking import FacetCount, Matches, find
from notes.search_suggestions import suggest
from notes.views.reading import PublishedPaginationMixin

# More tag facets than anyone clicks; beyond it, an address asks for more than a search is.
MAX_FACET_TAGS = 10


@dataclass(frozen=True)
class Result:
    post: Post
    snippet: SafeString | str
    tags: list[TagLink]


@dataclass(frozen=True)
class Choice:
    """A facet value or an active filter, with the address that adds or removes it."""

    label: str
    href: str
    count: int | None = None


def _year(value: str | None) -> int | None:
    if value and value.isascii() and value.isdigit() and len(value) <= 4 and int(value) > 0:
        return int(value)
    return None


def _distinct_tags(values: list[str]) -> list[str]:
    """The `tag` parameters once each, ignoring case; too many is a 400 that says so."""
    tags: dict[str, str] = {}
    for tag in (clean_tag(value) for value in values):
        if tag:
            tags.setdefault(tag.lower(), tag)
    if len(tags) > MAX_FACET_TAGS:
        raise BadRequest(
            f"A search can be narrowed by at most {MAX_FACET_TAGS} tags at once; "
            f"this address asks for {len(tags)}."
        )
    return list(tags.values())


def _href(params: QueryDict, **changes: list[str]) -> str:
    """This page's address with `changes` made and the page number dropped (built from pairs:
    a page with thirty facets made thirty deep copies of the QueryDict)."""
    pairs = []
    for key, values in params.lists():
        if key != "page":
            pairs += [(key, value) for value in changes.pop(key, values)]
    pairs += [(key, value) for key, values in changes.items() for value in values]
    return "?" + urlencode(pairs)


class SearchView(PublishedPaginationMixin, ListView):
    """Pages through the ids of the matches (notes/search.py, `Matches`), then fetches the one
    page of posts to show."""

    template_name = "notes/search.html"
    context_object_name = "post_ids"

    def get_queryset(self):
        params = self.request.GET
        self.text = " ".join(params.get("q", "").split())[:MAX_QUERY_CHARS]
        self.tag_params = _distinct_tags(params.getlist("tag"))
        self.query: SearchQuery = parse(self.text).narrowed(
            tags=self.tag_params, year=_year(params.get("year"))
        )
        # The page cache has read the site's state for an anonymous request already.
        self.matches: Matches = find(self.query, getattr(self.request, "site_state", None))
        return self.matches.ids

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        ids = list(context["post_ids"])
        # The tags come from the catalogue the search was made against (one query fewer).
        found = Post.objects.published().for_listing(tags=False).in_bulk(ids)
        page = [found[pk] for pk in ids if pk in found]
        snippets = highlighted_snippets(self.query, page)
        known = self.matches.catalogue
        context.update(
            query_text=self.text,
            searched=not self.query.is_empty,
            results=[
                Result(post, snippets.get(post.pk, post.excerpt), known.tag_links(post.pk))
                for post in page
            ],
            active_filters=self._active_filters(),
            unknown_tags=self._unknown_tags(),
            suggestions=self._suggestions() if not ids else None,
            **self._facets(),
        )
        self.matches.release()  # before the page renders: see Matches.release
        return context

    def _suggestions(self):
        if not self.query.has_text:
            return None
        return suggest(self.query, getattr(self.request, "site_state", None))

    def _facets(self) -> dict[str, list[Choice]]:
        if self.query.is_empty:
            return {"tag_facets": [], "year_facets": []}
        params = self.request.GET
        chosen = {t.lower() for t in self.query.tags}
        tags = [
            Choice(f.label, _href(params, tag=[*self.tag_params, f.value]), f.count)
            for f in self.matches.tag_facets()
            if f.value.lower() not in chosen and f.label.lower() not in chosen
        ]
        years: list[FacetCount] = [] if self.query.year else self.matches.year_facets()
        return {
            "tag_facets": tags,
            "year_facets": [Choice(f.label, _href(params, year=[f.value]), f.count) for f in years],
        }

    def _active_filters(self) -> list[Choice]:
        params = self.request.GET
        filters = [
            Choice(f"tag: {tag}", _href(params, tag=[t for t in self.tag_params if t != tag]))
            for tag in self.tag_params
        ]
        if self.query.year:
            filters.append(Choice(f"year: {self.query.year}", _href(params, year=[])))
        return filters

    def _unknown_tags(self) -> list[str]:
        """Tags asked for that no post carries under that name or slug, to say so plainly."""
        if not self.query.tags:
            return []
        wanted = Q()
        for name in self.query.tags:
            wanted |= Q(name__iexact=name) | Q(slug__iexact=name)
        known = {
            value.lower()
            for tag in Tag.objects.filter(wanted).only("name", "slug")
            for value in (tag.name, tag.slug)
        }
        return [name for name in self.query.tags if name.lower() not in known]
