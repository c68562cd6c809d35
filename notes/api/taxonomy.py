"""/api/v1/tags/, /series/, and a post's links and update notes. A read-only token sees only
what the public site shows: tags and series of published posts, links between published posts."""

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from ninja import Router, Status
from ninja.errors import HttpError

from notes import services
from notes.api import auth, history
from notes.api.posts import READ_ERRORS, WRITE_ERRORS, get_post
from notes.api.schemas import (
    MAX_ID,
    LinkIn,
    LinkOut,
    SeriesIn,
    SeriesOut,
    SeriesPatch,
    TagIn,
    TagOut,
    TagPatch,
    UpdateNoteIn,
    UpdateNoteOut,
)
from notes.models import Link, Post, Series, Tag, UpdateNote
from notes.slugs import unique_slug

router = Router()


def _public_only(request: HttpRequest) -> bool:
    token = getattr(request, "api_token", None)
    return token is not None and not token.can_write


def _with_url(request: HttpRequest, obj):
    obj.url = request.build_absolute_uri(obj.get_absolute_url())
    return obj


def _tags(request: HttpRequest):
    tags = Tag.objects.all()
    if _public_only(request):
        published = Post.objects.published().filter(tags=OuterRef("pk"))
        tags = tags.filter(Exists(published))
    return tags


def _series_list(request: HttpRequest):
    series = Series.objects.all()
    if _public_only(request):
        series = series.filter(Exists(Post.objects.published().filter(series=OuterRef("pk"))))
    return series


def _patch(obj, data) -> None:
    """Set the fields sent; null empties a text field."""
    for name, value in data.dict(exclude_unset=True).items():
        setattr(obj, name, value or "")
    obj.full_clean()


def _one(queryset, what: str, slug: str):
    found = queryset.filter(slug=slug).first()
    if found is None:
        raise HttpError(404, f"No {what} with the slug {slug!r}.")
    return found


# Tags


@router.get("tags/", response={200: list[TagOut], **READ_ERRORS}, tags=["tags"])
def list_tags(request: HttpRequest):
    return [_with_url(request, tag) for tag in _tags(request)]


@router.get("tags/{slug}/", response={200: TagOut, **READ_ERRORS}, tags=["tags"])
def read_tag(request: HttpRequest, slug: str):
    return _with_url(request, _one(_tags(request), "tag", slug))


@router.post("tags/", auth=auth.WRITE, response={201: TagOut, **WRITE_ERRORS}, tags=["tags"])
@transaction.atomic
def create_tag(request: HttpRequest, data: TagIn):
    tag = Tag(name=data.name, description=data.description)
    tag.full_clean()
    services.save_tag(tag)
    history.record(request, tag, "added")
    return Status(201, _with_url(request, tag))


@router.patch(
    "tags/{slug}/", auth=auth.WRITE, response={200: TagOut, **WRITE_ERRORS}, tags=["tags"]
)
@transaction.atomic
def update_tag(request: HttpRequest, slug: str, data: TagPatch):
    tag = _one(Tag.objects.all(), "tag", slug)
    _patch(tag, data)
    services.save_tag(tag)
    history.record(request, tag, "changed")
    return _with_url(request, tag)


@router.delete("tags/{slug}/", auth=auth.WRITE, response={204: None, **WRITE_ERRORS}, tags=["tags"])
@transaction.atomic
def delete_tag(request: HttpRequest, slug: str):
    """The tag comes off every post that carried it; the posts stay."""
    tag = _one(Tag.objects.all(), "tag", slug)
    history.record(request, tag, "deleted")
    services.delete_tag(tag)
    return Status(204, None)


# Series


@router.get("series/", response={200: list[SeriesOut], **READ_ERRORS}, tags=["series"])
def list_series(request: HttpRequest):
    return [_with_url(request, s) for s in _series_list(request)]


@router.get("series/{slug}/", response={200: SeriesOut, **READ_ERRORS}, tags=["series"])
def read_series(request: HttpRequest, slug: str):
    return _with_url(request, _one(_series_list(request), "series", slug))


@router.post("series/", auth=auth.WRITE, response={201: SeriesOut, **WRITE_ERRORS}, tags=["series"])
@transaction.atomic
def create_series(request: HttpRequest, data: SeriesIn):
    series = Series(**data.dict())
    if not series.slug:
        series.slug = unique_slug(
            series.title, 120, lambda s: Series.objects.filter(slug=s).exists()
        )
    series.full_clean()
    series.save()
    history.record(request, series, "added")
    return Status(201, _with_url(request, series))


@router.patch(
    "series/{slug}/", auth=auth.WRITE, response={200: SeriesOut, **WRITE_ERRORS}, tags=["series"]
)
@transaction.atomic
def update_series(request: HttpRequest, slug: str, data: SeriesPatch):
    series = _one(Series.objects.all(), "series", slug)
    _patch(series, data)
    series.save()
    history.record(request, series, "changed")
    return _with_url(request, series)


@router.delete(
    "series/{slug}/", auth=auth.WRITE, response={204: None, **WRITE_ERRORS}, tags=["series"]
)
@transaction.atomic
def delete_series(request: HttpRequest, slug: str):
    """Its posts stay, in no series."""
    series = _one(Series.objects.all(), "series", slug)
    history.record(request, series, "deleted")
    series.delete()
    return Status(204, None)


# A post's links ("see also") and update notes


@router.get(
    "posts/{int:post_id}/links/", response={200: list[LinkOut], **READ_ERRORS}, tags=["links"]
)
def list_links(request: HttpRequest, post_id: int):
    """The post's outgoing cross-links, written by hand or found as [[wikilinks]]."""
    post = get_post(request, post_id)
    targets = auth.visible_posts(request).filter(pk=OuterRef("target"))
    return post.outgoing_links.select_related("target").filter(Exists(targets))


@router.post(
    "posts/{int:post_id}/links/", auth=auth.WRITE, response={201: LinkOut, **WRITE_ERRORS},
    tags=["links"],
)  # fmt: skip
@transaction.atomic
def create_link(request: HttpRequest, post_id: int, data: LinkIn):
    post = get_post(request, post_id)
    target = auth.visible_posts(request).filter(pk=data.target).first()
    if target is None:
        raise HttpError(400, f"No post with id {data.target} to link to.")
    link = Link(source=post, target=target, note=data.note)
    link.full_clean()
    link.save()
    history.record(request, post, "changed", f"Linked to “{target}”")
    return Status(201, link)


@router.delete(
    "posts/{int:post_id}/links/{int:link_id}/", auth=auth.WRITE,
    response={204: None, **WRITE_ERRORS}, tags=["links"],
)  # fmt: skip
@transaction.atomic
def delete_link(request: HttpRequest, post_id: int, link_id: int):
    post = get_post(request, post_id)
    link = post.outgoing_links.select_related("target").filter(pk=min(link_id, MAX_ID)).first()
    if link is None:
        raise HttpError(404, f"Post {post_id} has no link with id {link_id}.")
    if link.from_wikilink:
        raise HttpError(400, "This link comes from a [[wikilink]] in the body; edit the body.")
    link.delete()
    history.record(request, post, "changed", f"Removed the link to “{link.target}”")
    return Status(204, None)


@router.get(
    "posts/{int:post_id}/update-notes/", response={200: list[UpdateNoteOut], **READ_ERRORS},
    tags=["update notes"],
)  # fmt: skip
def list_update_notes(request: HttpRequest, post_id: int):
    return get_post(request, post_id).update_notes.all()


@router.post(
    "posts/{int:post_id}/update-notes/", auth=auth.WRITE,
    response={201: UpdateNoteOut, **WRITE_ERRORS}, tags=["update notes"],
)  # fmt: skip
@transaction.atomic
def create_update_note(request: HttpRequest, post_id: int, data: UpdateNoteIn):
    """“Updated on 2024-05-01: …” atop the post; it also sets the post's updated date."""
    post = get_post(request, post_id)
    note = UpdateNote(post=post, date=data.date, text=data.text)
    note.full_clean()
    note.save()
    history.record(request, post, "changed", f"Added the update note “{note.text}”")
    return Status(201, note)


@router.delete(
    "posts/{int:post_id}/update-notes/{int:note_id}/", auth=auth.WRITE,
    response={204: None, **WRITE_ERRORS}, tags=["update notes"],
)  # fmt: skip
@transaction.atomic
def delete_update_note(request: HttpRequest, post_id: int, note_id: int):
    post = get_post(request, post_id)
    note = post.update_notes.filter(pk=min(note_id, MAX_ID)).first()
    if note is None:
        raise HttpError(404, f"Post {post_id} has no update note with id {note_id}.")
    note.delete()
    history.record(request, post, "changed", f"Removed the update note “{note.text}”")
    return Status(204, None)
