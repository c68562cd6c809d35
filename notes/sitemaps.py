"""/sitemap.xml: every public page a search engine should know, and nothing staff-only."""

from __future__ import annotations

import datetime

from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import sitemap
from django.db.models import Max, Q
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from notes.models import Post, PostQuerySet, Series, Tag
from notes.text import xml_safe


class PostSitemap(Sitemap):
    changefreq = "monthly"

    def items(self) -> PostQuerySet:
        return (
            Post.objects.published()
            .only("slug", "published_at")
            .prefetch_related("update_notes")
            .order_by("-published_at", "-pk")
        )

    def lastmod(self, post: Post) -> datetime.datetime:
        return post.last_updated


def _with_published_posts(queryset, relation: str):
    """Only tags and series that show a published post, each with the date of its newest one."""
    published = Q(**{f"{relation}__in": Post.objects.published()})
    return queryset.annotate(newest=Max(f"{relation}__published_at", filter=published)).filter(
        newest__isnull=False
    )


class TagSitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return _with_published_posts(Tag.objects.only("slug"), "posts").order_by("slug")

    def lastmod(self, tag: Tag) -> datetime.datetime:
        return tag.newest


class SeriesSitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return _with_published_posts(Series.objects.only("slug"), "posts").order_by("slug")

    def lastmod(self, series: Series) -> datetime.datetime:
        return series.newest


class PageSitemap(Sitemap):
    """The listings that are always there: home, tags and the archive."""

    changefreq = "daily"

    def items(self) -> list[str]:
        return ["notes:post-list", "notes:tag-list", "notes:archive"]

    def location(self, name: str) -> str:
        return reverse(name)


SITEMAPS = {"pages": PageSitemap, "posts": PostSitemap, "tags": TagSitemap, "series": SeriesSitemap}


@require_safe
def sitemap_xml(request: HttpRequest) -> HttpResponse:
    """Django's sitemap view, for GET and HEAD only, and never with a character XML forbids."""
    response = sitemap(request, sitemaps=SITEMAPS)
    response.render()
    response.content = xml_safe(response.content.decode()).encode()
    return response
