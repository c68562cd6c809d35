"""The post's admin page lists unlinked mentions of it, each with a "Link it" button: the
list (an inclusion tag the change form shows below itself) and the view the button posts to."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from notes import services
from notes.models import Post


def admin_urls(model_admin) -> list:
    def link_it(request: HttpRequest, object_id: str, source_id: int):
        target = get_object_or_404(Post.objects.not_trashed(), pk=object_id)
        source = get_object_or_404(Post.objects.published(), pk=source_id)
        if not model_admin.has_change_permission(request, source):
            raise PermissionDenied
        back = reverse("admin:notes_post_change", args=[target.pk])
        if services.link_mention(source, target, user=request.user):
            messages.success(request, f"“{source}” now links to “{target}”.")
        else:
            messages.warning(request, f"“{source}” no longer mentions “{target}” unlinked.")
        return HttpResponseRedirect(back + "#unlinked-mentions")

    return [
        path(
            "<int:object_id>/mentions/<int:source_id>/link/",
            model_admin.admin_site.admin_view(require_POST(link_it)),
            name="notes_post_link_mention",
        )
    ]
