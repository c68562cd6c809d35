from django.urls import path, register_converter

from notes.converters import UnicodeSlugConverter
from notes.views import reading

register_converter(UnicodeSlugConverter, "uslug")

app_name = "notes"

urlpatterns = [
    path("", reading.PostListView.as_view(), name="post-list"),
    path("posts/<uslug:slug>/", reading.PostDetailView.as_view(), name="post-detail"),
    path("tags/", reading.TagListView.as_view(), name="tag-list"),
    path("tags/<uslug:slug>/", reading.TagDetailView.as_view(), name="tag-detail"),
    path("series/<uslug:slug>/", reading.SeriesDetailView.as_view(), name="series-detail"),
]
