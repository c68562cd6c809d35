"""Small factories that write through the same service as the admin."""

from __future__ import annotations

import datetime
import io
import itertools

from django.contrib.auth import get_user_model
from django.utils import timezone
from PIL import Image

from notes import services
from notes.models import Link, Post, Tag

_counter = itertools.count(1)


def make_user(username: str | None = None, *, staff: bool = False, **extra):
    username = username or f"user{next(_counter)}"
    user_model = get_user_model()
    user = user_model.objects.create_user(
        username=username, password="correct horse battery staple", is_staff=staff, **extra
    )
    return user


def make_tag(name: str | None = None, **extra) -> Tag:
    return Tag.objects.create(name=name or f"tag {next(_counter)}", **extra)


def make_post(
    title: str | None = None,
    *,
    body: str = "Some words about a topic worth writing down.",
    status: str = Post.Status.PUBLISHED,
    published_at: datetime.datetime | None = None,
    days_ago: float | None = None,
    tags: list[Tag] | None = None,
    author=None,
    **extra,
) -> Post:
    n = next(_counter)
    if days_ago is not None:
        published_at = timezone.now() - datetime.timedelta(days=days_ago)
    if status == Post.Status.PUBLISHED and published_at is None:
        published_at = timezone.now() - datetime.timedelta(hours=n)
    post = Post(
        title=title or f"Post number {n}",
        body=body,
        status=status,
        published_at=published_at,
        author=author
        or get_user_model().objects.filter(username="author").first()
        or make_user("author", first_name="Grace", last_name="Hopper"),
        **extra,
    )
    return services.save_post(post, tags=tags)


def make_draft(title: str | None = None, **extra) -> Post:
    return make_post(title, status=Post.Status.DRAFT, **extra)


def make_scheduled(title: str | None = None, **extra) -> Post:
    return make_post(title, published_at=timezone.now() + datetime.timedelta(days=3), **extra)


def link(source: Post, target: Post, note: str = "") -> Link:
    return Link.objects.create(source=source, target=target, note=note)


def admin_post_form(**overrides) -> dict:
    """What the admin's post form posts: every field and both inlines' management forms."""
    data = {
        "title": "A title",
        "slug": "",
        "aliases": "",
        "status": "draft",
        "published_at_0": "",
        "published_at_1": "",
        "body": "Some text.",
        "summary": "",
        "source_url": "",
        "series": "",
        "series_order": "",
    }
    for inline in ("outgoing_links", "update_notes"):
        data |= {
            f"{inline}-TOTAL_FORMS": "0",
            f"{inline}-INITIAL_FORMS": "0",
            f"{inline}-MIN_NUM_FORMS": "0",
            f"{inline}-MAX_NUM_FORMS": "1000",
        }
    return data | overrides


def image_bytes(size: tuple[int, int] = (4, 3), fmt: str = "PNG", **save_options) -> bytes:
    """A real image file, as an author's camera or screenshot tool would write it."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, fmt, **save_options)
    return buffer.getvalue()
