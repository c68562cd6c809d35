from django.urls import path, re_path, register_converter

from notes.converters import UnicodeSlugConverter
from notes.feeds import PostsFeed, PostsRssFeed, TagFeed
from notes.sitemaps import sitemap_index, sitemap_section
from notes.views import capture, connections, discovery, reading, references, search
from notes.views.math import math_stylesheet

register_converter(UnicodeSlugConverter, "uslug")

app_name = "notes"

urlpatterns = [
    path("", reading.PostListView.as_view(), name="post-list"),
    path("posts/<uslug:slug>/", reading.PostDetailView.as_view(), name="post-detail"),
    path("posts/<uslug:slug>/cite.bib", references.post_bibtex, name="post-bibtex"),
    path("posts/<uslug:slug>/cite.json", references.post_csl_json, name="post-csl-json"),
    path("posts/<uslug:slug>/cite.ris", references.post_ris, name="post-ris"),
    path(
        "posts/<uslug:slug>/references.bib",
        references.post_references_bib,
        name="post-references-bib",
    ),
    path("references/", references.ReferenceListView.as_view(), name="reference-list"),
    path("references.bib", references.bibliography_bib, name="references-bib"),
    # Keys may hold "/" and ":" (Pandoc allows them), hence <path:>.
    path("references/<path:key>.bib", references.reference_bib, name="reference-bib"),
    path(
        "references/<path:key>/", references.ReferenceDetailView.as_view(), name="reference-detail"
    ),
    path(
        "posts/<uslug:slug>/preview/",
        connections.PostPreviewView.as_view(),
        name="post-preview",
    ),
    path("tags/<uslug:slug>/preview/", connections.TagPreviewView.as_view(), name="tag-preview"),
    path("graph/", connections.GraphView.as_view(), name="graph"),
    path("tags/", reading.TagListView.as_view(), name="tag-list"),
    path("tags/<uslug:slug>/", reading.TagDetailView.as_view(), name="tag-detail"),
    # /tags/a+b/: the posts that carry every one of the tags.
    re_path(
        r"^tags/(?P<slugs>[-\w]+(?:\+[-\w]+)+)/$",
        reading.TagDetailView.as_view(),
        name="tag-combination",
    ),
    path("search/", search.SearchView.as_view(), name="search"),
    path("capture/", capture.capture, name="capture"),
    path("series/<uslug:slug>/", reading.SeriesDetailView.as_view(), name="series-detail"),
    path("archive/", discovery.ArchiveView.as_view(), name="archive"),
    re_path(r"^math/(?P<digest>[0-9a-f]{20})\.css$", math_stylesheet, name="math-stylesheet"),
    path("feed/", PostsFeed(), name="feed"),
    path("index.xml", PostsRssFeed(), name="feed-rss"),
    path("tags/<uslug:slug>/feed/", TagFeed(), name="tag-feed"),
    path("index.json", discovery.index_json, name="index-json"),
    path("llms.txt", discovery.llms_txt, name="llms-txt"),
    path("robots.txt", discovery.robots_txt, name="robots-txt"),
    path("sitemap.xml", sitemap_index, name="sitemap"),
    path("sitemap-<section>.xml", sitemap_section, name="sitemap-section"),
]
