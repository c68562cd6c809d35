from django.urls import path, register_converter

from notes import views
from notes.converters import UnicodeSlugConverter

register_converter(UnicodeSlugConverter, "uslug")

app_name = "notes"

urlpatterns = [
    path("", views.PostListView.as_view(), name="post-list"),
    path("posts/<uslug:slug>/", views.PostDetailView.as_view(), name="post-detail"),
    path("tags/", views.TagListView.as_view(), name="tag-list"),
    path("tags/<uslug:slug>/", views.TagDetailView.as_view(), name="tag-detail"),
    path("series/<uslug:slug>/", views.SeriesDetailView.as_view(), name="series-detail"),
]
