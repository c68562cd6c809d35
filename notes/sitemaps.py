"""/sitemap.xml: an index of sections (/sitemap-posts.xml, -tags, -series, -pages), each of at
most SECTION_LIMIT addresses (`?p=2` for the next page of a longer one), every public page a
search engine should know and nothing staff-only. Each section page is an ordinary public
page, so the page cache keeps it until the site changes: a crawler reading the whole sitemap
of a large site makes kb render each section once, not once per crawl."""

from __future__ import annotations

import datetime

from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps import views as sitemap_views
from django.db.models import Max, Q
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from notes.models import Post, PostQuerySet, Series, Tag, UpdateNote
from notes.text import xml_safe

# The protocol allows 50,000; smaller sections each render in a fraction of a second.
SECTION_LIMIT = 10_000


class PostSitemap(Sitemap):
    changefreq = "monthly"
    limit = SECTION_LIMIT

    def items(self) -> PostQuerySet:
        return (
            Post.objects.published()
            .only("slug", "published_at")
            .prefetch_related("update_notes")
            .order_by("-published_at", "-pk")
        )

    def lastmod(self, post: Post) -> datetime.datetime:
        return post.last_updated

    def get_latest_lastmod(self) -> datetime.datetime | None:
        """For the index, from two aggregates: Django's default would load every post."""
        published = Post.objects.published()
        newest = published.aggregate(newest=Max("published_at"))["newest"]
        noted = UpdateNote.objects.filter(post__in=published).aggregate(d=Max("date"))["d"]
        if noted is None or newest is None:
            return newest
        return max(newest, timezone.make_aware(datetime.datetime.combine(noted, datetime.time())))


def _with_published_posts(queryset, relation: str):
    """Only tags and series that show a published post, each with the date of its newest one."""
    published = Q(**{f"{relation}__in": Post.objects.published()})
    return queryset.annotate(newest=Max(f"{relation}__published_at", filter=published)).filter(
        newest__isnull=False
    )


class TagSitemap(Sitemap):
    changefreq = "weekly"
    limit = SECTION_LIMIT

    def items(self):
        return _with_published_posts(Tag.objects.only("slug"), "posts").order_by("slug")

    def lastmod(self, tag: Tag) -> datetime.datetime:
        return tag.newest

    def get_latest_lastmod(self) -> None:
        return None  # the index gives dates for posts only: a tag changes when its posts do


class SeriesSitemap(Sitemap):
    changefreq = "weekly"
    limit = SECTION_LIMIT

    def items(self):
        return _with_published_posts(Series.objects.only("slug"), "posts").order_by("slug")

    def lastmod(self, series: Series) -> datetime.datetime:
        return series.newest

    def get_latest_lastmod(self) -> None:
        return None


class PageSitemap(Sitemap):
    """The listings that are always there: home, tags and the archive."""

    changefreq = "daily"

    def items(self) -> list[str]:
        return ["notes:post-list", "notes:tag-list", "notes:archive"]

    def location(self, name: str) -> str:
        return reverse(name)


SITEMAPS = {"pages": PageSitemap, "posts": PostSitemap, "tags": TagSitemap, "series": SeriesSitemap}


def _xml_safe(response: HttpResponse) -> HttpResponse:
    response.render()
    response.content = xml_safe(response.content.decode()).encode()
    return response


@require_safe
def sitemap_index(request: HttpRequest) -> HttpResponse:
    """Django's sitemap index, for GET and HEAD only."""
    return _xml_safe(
        sitemap_views.index(request, SITEMAPS, sitemap_url_name="notes:sitemap-section")
    )


@require_safe
def sitemap_section(request: HttpRequest, section: str) -> HttpResponse:
    """One section, for GET and HEAD only, and never with a character XML forbids (text
    stored before control characters were cleaned on the way in)."""
    return _xml_safe(sitemap_views.sitemap(request, SITEMAPS, section=section))
