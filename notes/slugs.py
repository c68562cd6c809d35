"""Slugs that are readable, unique and never empty, whatever alphabet the title uses."""

from collections.abc import Callable

from django.utils.text import slugify

FALLBACK_SLUG = "post"


def slug_base(title: str, max_length: int) -> str:
    """ASCII when the title has Latin letters, else Unicode, so 日本語のノート stays readable."""
    slug = slugify(title) or slugify(title, allow_unicode=True) or FALLBACK_SLUG
    return slug[:max_length].strip("-") or FALLBACK_SLUG


def unique_slug(title: str, max_length: int, is_taken: Callable[[str], bool]) -> str:
    """The first of `base`, `base-2`, `base-3`… that `is_taken` says is free, within max_length."""
    base = slug_base(title, max_length)
    candidate, n = base, 1
    while is_taken(candidate):
        n += 1
        suffix = f"-{n}"
        candidate = base[: max_length - len(suffix)].rstrip("-") + suffix
    return candidate
