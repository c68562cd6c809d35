from django.urls import path, re_path, register_converter

from notes.converters import UnicodeSlugConverter
from notes.feeds import PostsFeed, PostsRssFeed, TagFeed
from notes.sitemaps import sitemap_xml
from notes.views import discovery, reading, search

register_converter(UnicodeSlugConverter, "uslug")

app_name = "notes"

urlpatterns = [
    path("", reading.PostListView.as_view(), name="post-list"),
    path("posts/<uslug:slug>/", reading.PostDetailView.as_view(), name="post-detail"),
    path("tags/", reading.TagListView.as_view(), name="tag-list"),
    path("tags/<uslug:slug>/", reading.TagDetailView.as_view(), name="tag-detail"),
    # /tags/a+b/: the posts that carry every one of the tags.
    re_path(
        r"^tags/(?P<slugs>[-\w]+(?:\+[-\w]+)+)/$",
        reading.TagDetailView.as_view(),
        name="tag-combination",
    ),
    path("search/", search.SearchView.as_view(), name="search"),
    path("series/<uslug:slug>/", reading.SeriesDetailView.as_view(), name="series-detail"),
    path("archive/", discovery.ArchiveView.as_view(), name="archive"),
    path("feed/", PostsFeed(), name="feed"),
    path("index.xml", PostsRssFeed(), name="feed-rss"),
    path("tags/<uslug:slug>/feed/", TagFeed(), name="tag-feed"),
    path("index.json", discovery.index_json, name="index-json"),
    path("llms.txt", discovery.llms_txt, name="llms-txt"),
    path("robots.txt", discovery.robots_txt, name="robots-txt"),
    path("sitemap.xml", sitemap_xml, name="sitemap"),
]
