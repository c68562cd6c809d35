"""Ways to find posts other than the listings: the archive, /index.json and /llms.txt for
programs, and /robots.txt for crawlers. Each reaches posts only through `published()`; the
page cache (notes/page_cache.py) keeps the larger ones from being rebuilt on every request."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from itertools import groupby

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe
from django.views.generic import TemplateView

from notes.models import Post, SiteSettings


@dataclass
class ArchiveMonth:
    first_day: datetime.date
    posts: list[Post]

    @property
    def count(self) -> int:
        return len(self.posts)


@dataclass
class ArchiveYear:
    year: int
    months: list[ArchiveMonth] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(month.count for month in self.months)


def archive_years(posts: list[Post]) -> list[ArchiveYear]:
    """Posts, newest first, grouped by year and month of publication in the site's time zone."""
    years: list[ArchiveYear] = []
    for first_day, in_month in groupby(posts, key=_month_of):
        if not years or years[-1].year != first_day.year:
            years.append(ArchiveYear(year=first_day.year))
        years[-1].months.append(ArchiveMonth(first_day=first_day, posts=list(in_month)))
    return years


def _month_of(post: Post) -> datetime.date:
    return timezone.localdate(post.published_at).replace(day=1)


class ArchiveView(TemplateView):
    template_name = "notes/archive.html"

    def get_context_data(self, **kwargs):
        posts = list(
            Post.objects.published()
            .only("title", "slug", "published_at")
            .order_by("-published_at", "-pk")
        )
        return super().get_context_data(years=archive_years(posts), post_count=len(posts), **kwargs)


def _index_posts():
    return (
        Post.objects.published()
        .only("title", "slug", "excerpt", "published_at")
        .prefetch_related("tags", "update_notes")
        .order_by("-published_at", "-pk")
    )


@require_safe
def index_json(request: HttpRequest) -> HttpResponse:
    """Every published post as JSON, newest first, for scripts and static-site search."""
    posts = [
        {
            "title": post.title,
            "url": request.build_absolute_uri(post.get_absolute_url()),
            "summary": post.excerpt,
            "date": post.published_at.isoformat(),
            "updated": post.last_updated.isoformat(),
            "tags": [tag.name for tag in post.tags.all()],
        }
        for post in _index_posts()
    ]
    home = request.build_absolute_uri(reverse("notes:post-list"))
    body = json.dumps(
        {"title": SiteSettings.for_request(request).site_title, "url": home, "posts": posts},
        ensure_ascii=False,
    )
    return HttpResponse(body, content_type="application/json")


def _markdown_label(text: str) -> str:
    """Link text that can't end the [label] early."""
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


@require_safe
def llms_txt(request: HttpRequest) -> HttpResponse:
    """The llms.txt convention: a Markdown-flavoured plain-text list of posts with summaries."""
    site = SiteSettings.for_request(request)
    lines = [f"# {site.site_title}", "", f"> {site.site_description}", ""]
    lines += ["## Posts", ""]
    for post in _index_posts():
        url = request.build_absolute_uri(post.get_absolute_url())
        entry = f"- [{_markdown_label(post.title)}]({url})"
        lines.append(f"{entry}: {post.excerpt}" if post.excerpt else entry)
    body = "\n".join(lines) + "\n"
    return HttpResponse(body, content_type="text/plain; charset=utf-8")


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    sitemap = request.build_absolute_uri(reverse("notes:sitemap"))
    body = f"User-agent: *\nDisallow: /admin/\n\nSitemap: {sitemap}\n"
    return HttpResponse(body, content_type="text/plain; charset=utf-8")
