import re

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from notes.api.main import api
from notes.uploads import serve_upload, upload_image
from notes.views.health import healthz
from notes.views.preview import markdown_preview

admin.site.site_header = "kb"
admin.site.site_title = "kb admin"
admin.site.index_title = "Write and publish"

# markdownx's own URLconf serves its preview and upload views to anyone (CVE-2024-2319); kb
# routes them here instead, behind the admin's staff login, with a preview that checks its input
# and an upload that accepts only images Pillow can decode.
markdownx_patterns = [
    path("markdownify/", markdown_preview, name="markdownx_markdownify"),
    path("upload/", upload_image, name="markdownx_upload"),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/markdownx/", include(markdownx_patterns)),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("notes.urls")),
]

# Shown when a database outage or a bug ends a request; see notes/views/health.py.
handler400 = "notes.views.health.bad_request"
handler500 = "notes.views.health.server_error"

# Uploaded images: the web server in front should serve them (README, "Deployment"); without
# one, KB_SERVE_MEDIA=1 (the default with DEBUG) lets kb send them itself.
urlpatterns.append(
    re_path(rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.+)$", serve_upload)
)
