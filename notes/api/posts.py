"""/api/v1/posts/: list, read, create, update (optimistic locking), publish, unpublish, trash,
and search. Every write goes through notes/services.py, as the admin's do."""

import datetime
import math

from django.db import transaction
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from notes import services, trash
from notes.api import auth, history
from notes.api.schemas import (
    MAX_ID,
    Conflict,
    Error,
    PostIn,
    PostOut,
    PostPage,
    PostPatch,
    PostStatus,
    SearchPage,
    Text,
)
from notes.models import Post, Series, Tag
from notes.search import highlighted_snippets
from notes.search_query import MAX_QUERY_CHARS, parse
from notes.search_ranking import find

router = Router(tags=["posts"])
MAX_PAGE_SIZE = 100
MAX_PAGE = 100_000
TEXT_FIELDS = {"title", "body", "slug", "summary", "status", "source_url"}
READ_ERRORS = {400: Error, 401: Error, 403: Error, 404: Error, 429: Error}
WRITE_ERRORS = {**READ_ERRORS, 409: Conflict}


class PostFilters(Schema):
    status: PostStatus | None = None
    tag: Text | None = Field(None, description="A tag's slug or name.")
    series: Text | None = Field(None, description="A series' slug.")
    updated_since: datetime.datetime | None = None
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(20, ge=1, le=MAX_PAGE_SIZE)


def get_post(request: HttpRequest, post_id: int, *, lock_version: int | None = None) -> Post:
    if not 0 < post_id <= MAX_ID:
        raise HttpError(404, f"No post with id {post_id}.")
    posts = auth.visible_posts(request).filter(pk=post_id)
    if lock_version is not None and posts.exists():
        found = services.lock_for_edit(post_id, lock_version)
    else:
        found = (
            posts.select_related("author__author_profile", "series")
            .prefetch_related("tags")
            .first()
        )
    if found is None:
        raise HttpError(404, f"No post with id {post_id}.")
    return found


def _page_link(request: HttpRequest, page: int) -> str:
    params = request.GET.copy()
    params["page"] = str(page)
    return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")


@router.get("", response={200: PostPage, **READ_ERRORS}, summary="List posts")
def list_posts(request: HttpRequest, filters: Query[PostFilters]):
    """Newest change first. A read-only token lists published posts only."""
    posts = auth.visible_posts(request)
    if filters.status:
        posts = posts.filter(status=filters.status)
    if filters.tag:
        tag = (
            Tag.objects.filter(slug=filters.tag).first()
            or Tag.objects.filter(name__iexact=filters.tag).first()
        )
        posts = posts.filter(tags=tag) if tag else posts.none()
    if filters.series:
        posts = posts.filter(series__slug=filters.series)
    if filters.updated_since:
        posts = posts.filter(updated_at__gte=filters.updated_since)
    count = posts.count()
    pages = max(1, math.ceil(count / filters.page_size))
    start = (filters.page - 1) * filters.page_size
    items = list(
        posts.order_by("-updated_at", "-pk")
        .select_related("author__author_profile", "series")
        .prefetch_related("tags")
        .defer("body", "body_html", "toc_html")[start : start + filters.page_size]
    )
    return {
        "count": count,
        "page": filters.page,
        "pages": pages,
        "next": _page_link(request, filters.page + 1) if filters.page < pages else None,
        "previous": _page_link(request, filters.page - 1) if 1 < filters.page <= pages else None,
        "items": items,
    }


@router.get("search/", response={200: SearchPage, **READ_ERRORS}, summary="Search posts")
def search_posts(
    request: HttpRequest,
    q: Text = "",
    page: int = Query(1, ge=1, le=MAX_PAGE),
    page_size: int = Query(10, ge=1, le=MAX_PAGE_SIZE),
):
    """The site's query language (README, "Search"): published posts only, best first."""
    text = " ".join(q.split())[:MAX_QUERY_CHARS]
    query = parse(text)
    ids = find(query).ids
    start = (page - 1) * page_size
    page_ids = ids[start : start + page_size]
    found = (
        Post.objects.published()
        .select_related("author__author_profile", "series")
        .prefetch_related("tags")
        .in_bulk(page_ids)
    )
    posts = [found[pk] for pk in page_ids if pk in found]
    snippets = highlighted_snippets(query, posts)
    return {
        "query": text,
        "count": len(ids),
        "page": page,
        "pages": max(1, math.ceil(len(ids) / page_size)),
        "items": [{"post": p, "snippet": snippets.get(p.pk, p.excerpt)} for p in posts],
    }


@router.get("{int:post_id}/", response={200: PostOut, **READ_ERRORS}, summary="Read a post")
def read_post(request: HttpRequest, post_id: int):
    return get_post(request, post_id)


def _series(slug: str | None) -> Series | None:
    if not slug:
        return None
    series = Series.objects.filter(slug=slug).first()
    if series is None:
        raise HttpError(400, f"No series with the slug {slug!r}.")
    return series


def _save(request: HttpRequest, post: Post, tag_names: list[str] | None, note: str = "") -> Post:
    """Validate as the admin's form does, then save through the service."""
    post.full_clean(exclude=["tags", "author"])
    tags = None if tag_names is None else services.get_or_create_tags(tag_names)
    return services.save_post(post, tags=tags, user=request.api_user, note=note)


@router.post("", auth=auth.WRITE, response={201: PostOut, **WRITE_ERRORS}, summary="Create a post")
@transaction.atomic
def create_post(request: HttpRequest, data: PostIn):
    fields = data.dict(exclude={"tags", "series", "aliases"})
    post = Post(author=request.api_user, series=_series(data.series), **fields)
    post.aliases = "\n".join(data.aliases)
    _save(request, post, data.tags)
    history.record(request, post, "added")
    return Status(201, get_post(request, post.pk))


@router.patch(
    "{int:post_id}/", auth=auth.WRITE, response={200: PostOut, **WRITE_ERRORS},
    summary="Update a post",
)  # fmt: skip
@transaction.atomic
def update_post(request: HttpRequest, post_id: int, data: PostPatch):
    """Send the `version` you read. If the post was saved since, nothing changes and the
    answer is 409 with the current version."""
    post = get_post(request, post_id, lock_version=data.version)
    sent = data.model_fields_set
    unset = {"version", "tags", "series", "aliases"}
    for name, value in data.dict(exclude_unset=True, exclude=unset).items():
        # null empties a text field; on a date or a number it means "none".
        setattr(post, name, "" if value is None and name in TEXT_FIELDS else value)
    if "aliases" in sent:
        post.aliases = "\n".join(data.aliases or [])
    if "series" in sent:
        post.series = _series(data.series)
    _save(request, post, (data.tags or []) if "tags" in sent else None)
    changed = sorted(data.model_fields_set - {"version"})
    history.record(request, post, "changed", f"Changed {', '.join(changed) or 'nothing'}")
    return get_post(request, post.pk)


def _change_status(request: HttpRequest, post_id: int, change, note: str) -> Post:
    post = get_post(request, post_id)
    if change([post], user=request.api_user):
        history.record(request, post, "changed", note)
    return get_post(request, post.pk)


@router.post(
    "{int:post_id}/publish/", auth=auth.WRITE, response={200: PostOut, **WRITE_ERRORS},
    summary="Publish a post",
)  # fmt: skip
@transaction.atomic
def publish_post(request: HttpRequest, post_id: int):
    """Publishing sets its date unless one was chosen; a future date schedules it."""
    return _change_status(request, post_id, services.publish, "Published")


@router.post(
    "{int:post_id}/unpublish/", auth=auth.WRITE, response={200: PostOut, **WRITE_ERRORS},
    summary="Move a post back to draft",
)  # fmt: skip
@transaction.atomic
def unpublish_post(request: HttpRequest, post_id: int):
    return _change_status(request, post_id, services.unpublish, "Moved back to draft")


@router.delete(
    "{int:post_id}/", auth=auth.WRITE, response={204: None, **WRITE_ERRORS},
    summary="Move a post to the trash",
)  # fmt: skip
@transaction.atomic
def trash_post(request: HttpRequest, post_id: int):
    """It can be restored from the admin's trash for 30 days."""
    post = get_post(request, post_id)
    trash.move_to_trash(post, user=request.api_user)
    history.record(request, post, "changed", "Moved to the trash")
    return Status(204, None)
