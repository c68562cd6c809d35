"""How notes connect: a post's preview card, shown beside links to it, and the graph of notes.
Both reach posts only through `Post.objects.published()`; the page cache keeps them."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.views.generic import DetailView, TemplateView

from notes import graph, previews
from notes.models import Post, Tag


class PostPreviewView(DetailView):
    """A small fragment for the preview card: title, date, reading time, summary and the first
    blocks of the post, or with `?section=h-…` that section. Published posts only, even for
    staff: the card shows what a reader following the link would find."""

    template_name = "notes/post_preview.html"
    context_object_name = "post"

    def get_queryset(self):
        return Post.objects.published().defer("body")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        wanted = self.request.GET.get("section", "")
        shown = previews.section(self.object.body_html, wanted) if wanted else None
        context["opening"] = shown if shown is not None else previews.opening(self.object.body_html)
        context["in_section"] = shown is not None
        return context


class TagPreviewView(DetailView):
    """The preview card of a tag: its description, how many posts carry it, the newest few."""

    template_name = "notes/tag_preview.html"
    context_object_name = "tag"
    latest = 5

    def get_queryset(self):
        return Tag.objects.filter(posts__in=Post.objects.published()).distinct()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        posts = Post.objects.published().filter(tags=self.object)
        context["post_count"] = posts.count()
        context["latest"] = posts.only("title", "slug", "published_at")[: self.latest]
        return context


class GraphView(TemplateView):
    template_name = "notes/graph.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tag = None
        if slug := self.request.GET.get("tag"):
            public = Tag.objects.filter(posts__in=Post.objects.published()).distinct()
            tag = get_object_or_404(public, slug=slug)
        drawing = graph.site_graph(tag)
        label = "Posts and the links between them"
        context.update(drawing=drawing, tag=tag, graph_svg=graph.svg(drawing, label=label))
        return context
