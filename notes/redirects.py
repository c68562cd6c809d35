"""Old addresses keep working: a request that would be a 404 is looked up among the posts' old
paths (`Redirect` rows) and answered with a 301 to the post, if it is published."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.urls import reverse

from notes.models import Post, Redirect
from notes.models.redirects import MAX_PATH_CHARS


def record(post: Post, paths: Iterable[str]) -> int:
    """Make each of `paths` (site paths from `/`) lead to `post`; a path that is the post's own
    address, or another post's current one, is left out. Returns how many were new."""
    own = post.get_absolute_url()
    wanted = {
        path
        for path in paths
        if path.startswith("/") and path != own and len(path) <= MAX_PATH_CHARS
    }
    if not wanted:
        return 0
    existing = dict(Redirect.objects.filter(old_path__in=wanted).values_list("old_path", "post_id"))
    changed = [path for path, post_id in existing.items() if post_id != post.pk]
    Redirect.objects.filter(old_path__in=changed).update(post=post)
    Redirect.objects.bulk_create(
        [Redirect(old_path=path, post=post) for path in wanted if path not in existing]
    )
    return len(wanted) - len(existing)


def record_rename(post: Post, old_slug: str) -> None:
    """After a change of slug the old address leads to the post."""
    record(post, [reverse("notes:post-detail", kwargs={"slug": old_slug})])
    # The old address may itself have been redirected elsewhere; the post holds it now.
    Redirect.objects.filter(old_path=post.get_absolute_url()).delete()


class OldAddressMiddleware:
    """Turns a 404 for an old address into a 301 to the post that lives there now."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 404 or request.method not in {"GET", "HEAD"}:
            return response
        path = request.path
        # No old address is that long or holds a NUL (which PostgreSQL can't even compare).
        if len(path) > MAX_PATH_CHARS or "\x00" in path:
            return response
        candidates = {path, path.rstrip("/") or "/", path if path.endswith("/") else path + "/"}
        found = (
            Redirect.objects.filter(old_path__in=candidates, post__in=Post.objects.published())
            .select_related("post")
            .first()
        )
        if found is None:
            return response
        return HttpResponsePermanentRedirect(found.post.get_absolute_url())
