from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.urls import include, path
from markdownx.views import ImageUploadView

from notes.views.preview import markdown_preview

admin.site.site_header = "kb"
admin.site.site_title = "kb admin"
admin.site.index_title = "Write and publish"

# markdownx's own URLconf serves its preview and upload views to anyone (CVE-2024-2319); kb
# routes them here instead, behind the admin's staff login, with a preview that checks its input.
markdownx_patterns = [
    path("markdownify/", markdown_preview, name="markdownx_markdownify"),
    path("upload/", staff_member_required(ImageUploadView.as_view()), name="markdownx_upload"),
]

urlpatterns = [
    path("admin/markdownx/", include(markdownx_patterns)),
    path("admin/", admin.site.urls),
    path("", include("notes.urls")),
]
