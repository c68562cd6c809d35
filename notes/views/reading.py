"""Public pages. Every view reaches posts through `Post.objects.published()` (staff may also
preview drafts), paginates first, then prefetches what the page shows."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.views.generic import DetailView, ListView, TemplateView

from notes import graph, related
from notes.catalogue import catalogue
from notes.citation import blog_posting, citation_for, highwire_tags, json_ld_script
from notes.models import Link, Post, Series, SiteSettings, Tag


class PublishedPaginationMixin:
    """Pagination where any page number that isn't a real page is a 404, never a 500."""

    paginate_by = settings.KB_POSTS_PER_PAGE

    def paginate_queryset(self, queryset, page_size):
        paginator = self.get_paginator(queryset, page_size)
        try:
            page = paginator.page(self.request.GET.get("page") or 1)
        except (PageNotAnInteger, EmptyPage) as exc:
            raise Http404("No such page.") from exc
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = context["page_obj"]
        context["page_range"] = page.paginator.get_elided_page_range(page.number, on_each_side=2)
        return context


class PostListView(PublishedPaginationMixin, ListView):
    """The home page: the site's intro on the first page, then the posts, in full (title,
    summary, meta, tags) or, at `?view=compact`, one line each."""

    template_name = "notes/post_list.html"
    context_object_name = "posts"

    def get_queryset(self):
        return Post.objects.published().for_listing()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        compact = self.request.GET.get("view") == "compact"
        context["compact"] = compact
        context["show_intro"] = context["page_obj"].number == 1
        context["views"] = [
            ("Full", "full", not compact),
            ("Compact", "compact", compact),
        ]
        return context


class PostDetailView(DetailView):
    template_name = "notes/post_detail.html"
    context_object_name = "post"

    def get_queryset(self):
        return (
            Post.objects.visible_to(self.request.user)
            .select_related("author__author_profile", "series", "reference")
            .prefetch_related("tags", "update_notes")
            .defer("body")  # the Markdown source; the page prints body_html
            # Whether it cites anything, for the .bib link, in the same query as the post.
            .annotate(
                cites=Exists(Post.cited_references.through.objects.filter(post=OuterRef("pk")))
            )
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        post = self.object
        # Both ways in one query. Exists rather than `target__in=published`: the post's few
        # links are checked one by one instead of the database listing every published post
        # to compare with. Only what a teaser of the other end shows: loading whole posts (bodies
        # and their HTML) for a list of links was most of the cost. One order serves both
        # lists: "see also" by title (the targets differ), "linked from" newest first (the
        # target is this post throughout).
        published = Post.objects.published()
        links = (
            Link.objects.filter(
                Q(source=post) & Exists(published.filter(pk=OuterRef("target")))
                | Q(target=post) & Exists(published.filter(pk=OuterRef("source")))
            )
            .select_related("source", "target")
            .only(
                "note",
                *(f"{end}__{field}" for end in ("source", "target") for field in related.TEASER),
            )
            .order_by("target__title", "-source__published_at")
        )
        outgoing, incoming = [], []
        for link in links:
            (outgoing if link.source_id == post.pk else incoming).append(link)
        # The published posts it links with, both ways, are also what related posts count
        # links from and the local graph's first hop: read once for all three.
        linked = {link.target_id: link.target for link in outgoing}
        linked |= {link.source_id: link.source for link in incoming}
        known = catalogue(getattr(self.request, "site_state", None))
        nav = related.navigation(post, outgoing, incoming, linked, known)
        context["outgoing_links"] = nav.see_also
        context["backlinks"] = nav.linked_from
        context["related_posts"] = nav.related
        context["neighbours"] = nav.neighbours
        label = "This post, the posts it links with, and theirs"
        context["local_graph_svg"] = graph.local_svg(
            post,
            label=label,
            first_hop={pk: (p.title, p.slug) for pk, p in linked.items()},
            known=known,
        )
        url = self.request.build_absolute_uri(post.get_absolute_url())
        context["canonical_url"] = url
        site = SiteSettings.for_request(self.request).site_title
        context["json_ld"] = json_ld_script(blog_posting(post, url, site))
        if post.is_published:
            context["citation"] = citation_for(post, url, site, timezone.localdate())
            context["highwire_tags"] = highwire_tags(post, url, site)
            context["has_references"] = bool(post.reference_id) or post.cites
        context["series_place"] = related.series_place(post)
        return context


class TagListView(TemplateView):
    template_name = "notes/tag_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        published = Post.objects.published()
        context["tags"] = (
            Tag.objects.annotate(post_count=Count("posts", filter=Q(posts__in=published)))
            .filter(post_count__gt=0)
            .order_by("name")
        )
        return context


def public_tags():
    """Tags at least one published post carries."""
    return Tag.objects.filter(posts__in=Post.objects.published()).distinct()


class TagDetailView(PublishedPaginationMixin, ListView):
    """One tag's page, or /tags/a+b/: the posts that carry every one of the tags."""

    template_name = "notes/tag_detail.html"
    context_object_name = "posts"

    def get_queryset(self):
        slugs = list(
            dict.fromkeys(self.kwargs.get("slugs", self.kwargs.get("slug", "")).split("+"))
        )
        # A tag only drafts carry is not public yet: its page is a 404 like the drafts'.
        found = {tag.slug: tag for tag in public_tags().filter(slug__in=slugs)}
        if len(found) != len(slugs):
            raise Http404("No such tag.")
        self.tags = [found[slug] for slug in slugs]
        posts = Post.objects.published()
        for tag in self.tags:
            posts = posts.filter(tags=tag)
        return posts.for_listing()

    def get_context_data(self, **kwargs):
        single = self.tags[0] if len(self.tags) == 1 else None
        return super().get_context_data(
            tag=single,
            tags=self.tags,
            heading=" + ".join(tag.name for tag in self.tags),
            search_url=reverse("notes:search")
            + "?"
            + urlencode([("tag", t.slug) for t in self.tags]),
            **kwargs,
        )


class SeriesDetailView(DetailView):
    template_name = "notes/series_detail.html"
    context_object_name = "series"
    model = Series

    def get_queryset(self):
        parts = Post.objects.published().for_listing().order_by("series_order", "published_at")
        return Series.objects.prefetch_related(Prefetch("posts", parts, to_attr="parts"))

    def get_object(self, queryset=None):
        series = super().get_object(queryset)
        if not series.parts:
            raise Http404("This series has no published posts.")
        return series
