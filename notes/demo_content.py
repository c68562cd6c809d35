"""The demo posts a newcomer sees after `make run`, read from notes/demo/*.md."""

from __future__ import annotations

import datetime
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from notes import frontmatter, services
from notes.models import Post, Series
from notes.slugs import slug_base

DEMO_DIR = Path(__file__).resolve().parent / "demo"
DEMO_AUTHOR = {"username": "demo", "first_name": "Ada", "last_name": "Lindqvist"}


def demo_author():
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=DEMO_AUTHOR["username"],
        defaults={"first_name": DEMO_AUTHOR["first_name"], "last_name": DEMO_AUTHOR["last_name"]},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _published_at(value) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        moment = value
    else:
        moment = datetime.datetime.combine(value, datetime.time(9, 0))
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, datetime.UTC)


@transaction.atomic
def load_demo() -> tuple[int, int]:
    """Create the demo posts that don't exist yet (matched by slug). Returns (created, skipped)."""
    author = demo_author()
    created = skipped = 0
    for path in sorted(DEMO_DIR.glob("*.md")):
        doc = frontmatter.parse(path.read_text(encoding="utf-8"))
        meta = doc.meta
        slug = meta.get("slug") or path.stem
        if Post.objects.filter(slug=slug).exists():
            skipped += 1
            continue
        post = Post(
            title=meta["title"],
            slug=slug,
            summary=meta.get("summary", ""),
            body=doc.body,
            author=author,
            source_url=meta.get("source", ""),
            status=Post.Status.DRAFT if meta.get("draft") else Post.Status.PUBLISHED,
            published_at=None if meta.get("draft") else _published_at(meta["date"]),
        )
        if meta.get("series"):
            post.series, _ = Series.objects.get_or_create(
                slug=slug_base(meta["series"], 120), defaults={"title": meta["series"]}
            )
            post.series_order = meta.get("series_order")
        services.save_post(post, tags=services.get_or_create_tags(meta.get("tags", [])))
        created += 1
    return created, skipped
