"""Atom and RSS feeds of the newest published posts, for the whole site and for each tag.

Entries carry the full rendered body as well as the summary, so a feed reader can show the
article without a visit; like every public page they reach posts only through `published()`.
"""

from __future__ import annotations

import datetime

from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.html import escape
from django.views.decorators.http import require_safe

from notes.models import Post, PostQuerySet, SiteSettings, Tag
from notes.rendering.typesetting import mathml_only
from notes.text import xml_safe

FEED_ITEMS = 20


def _xml_safe(value):
    if isinstance(value, str):
        return xml_safe(value)
    if isinstance(value, list | tuple):
        return type(value)(_xml_safe(v) for v in value)
    return value


class XmlSafeFeed:
    """Drops what XML 1.0 cannot carry from every value, so one stray control character that
    reached the database never turns the feed into an error for everyone."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **{k: _xml_safe(v) for k, v in kwargs.items()})

    def add_item(self, *args, **kwargs) -> None:
        super().add_item(*args, **{k: _xml_safe(v) for k, v in kwargs.items()})


class AtomWithContent(XmlSafeFeed, Atom1Feed):
    """Atom with each entry's full HTML body in <content type="html">."""

    def add_item_elements(self, handler, item) -> None:
        super().add_item_elements(handler, item)
        handler.addQuickElement("content", item["content_html"], {"type": "html"})


class RssWithContent(XmlSafeFeed, Rss201rev2Feed):
    """RSS 2.0 with each item's full HTML body in <content:encoded>, the usual extension."""

    def rss_attributes(self) -> dict[str, str]:
        return {
            **super().rss_attributes(),
            "xmlns:content": "http://purl.org/rss/1.0/modules/content/",
        }

    def add_item_elements(self, handler, item) -> None:
        super().add_item_elements(handler, item)
        handler.addQuickElement("content:encoded", item["content_html"])


def feed_posts(posts: PostQuerySet) -> PostQuerySet:
    """The newest published posts with everything an entry shows, in a fixed number of queries."""
    return (
        posts.published()
        .select_related("author__author_profile")
        .prefetch_related("tags", "update_notes")
        .order_by("-published_at", "-pk")[:FEED_ITEMS]
    )


@method_decorator(require_safe, name="__call__")
class PostsFeed(Feed):
    """The whole site, in Atom (at /feed/). Read-only: other methods than GET and HEAD get 405."""

    feed_type = AtomWithContent

    def get_feed(self, obj, request):
        # Read once for the title and subtitle. The instance is shared between requests, but
        # what it holds is the site's one settings row, the same for every reader.
        self.site = SiteSettings.for_request(request)
        return super().get_feed(obj, request)

    def title(self) -> str:
        return self.site.site_title

    def subtitle(self) -> str:
        return self.site.site_description

    # RSS calls the same line a description.
    description = subtitle

    def link(self) -> str:
        return reverse("notes:post-list")

    def items(self) -> PostQuerySet:
        return feed_posts(Post.objects.all())

    def item_title(self, item: Post) -> str:
        # Plain text: the XML writer escapes it once, so "Q&A" arrives as "Q&A".
        return item.title

    def item_description(self, item: Post) -> str:
        # Summaries are HTML in both formats; the excerpt is plain text, so escape it for that.
        return escape(item.excerpt)

    def item_pubdate(self, item: Post) -> datetime.datetime:
        return item.published_at

    def item_updateddate(self, item: Post) -> datetime.datetime:
        return item.last_updated

    def item_author_name(self, item: Post) -> str:
        return item.author_name

    def item_categories(self, item: Post) -> list[str]:
        return [tag.name for tag in item.tags.all()]

    def item_extra_kwargs(self, item: Post) -> dict[str, str]:
        return {"content_html": mathml_only(item.body_html)}


class PostsRssFeed(PostsFeed):
    """The whole site, in RSS 2.0 (at /index.xml, where many research blogs keep theirs)."""

    feed_type = RssWithContent


class TagFeed(PostsFeed):
    """The posts carrying one tag, in Atom. A tag only drafts carry has no feed (404)."""

    def get_object(self, request, slug: str) -> Tag:
        return Tag.objects.filter(posts__in=Post.objects.published()).distinct().get(slug=slug)

    def title(self, obj: Tag) -> str:
        return f"{obj.name} · {self.site.site_title}"

    def subtitle(self, obj: Tag) -> str:
        return f"Posts tagged “{obj.name}”."

    description = subtitle

    def link(self, obj: Tag) -> str:
        return obj.get_absolute_url()

    def items(self, obj: Tag) -> PostQuerySet:
        return feed_posts(obj.posts.all())
