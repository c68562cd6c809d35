"""Public addresses from a slug alone, reversed once per slug. A post page asks for forty or so
(links, related posts, the local graph) and a search page sixty (results, their tags, facets),
and `reverse()` cost more than the rest of building those links."""

from __future__ import annotations

import functools

from django.core.signals import setting_changed
from django.urls import get_script_prefix, get_urlconf, reverse


def slug_url(view: str, slug: str) -> str:
    return _reversed(view, slug, get_script_prefix(), get_urlconf())


@functools.lru_cache(maxsize=8192)
def _reversed(view: str, slug: str, prefix: str, urlconf: str | None) -> str:
    # The script prefix is in the key because reverse() puts it in the address.
    return reverse(view, kwargs={"slug": slug}, urlconf=urlconf)


def _urls_changed(setting: str, **kwargs) -> None:
    if setting == "ROOT_URLCONF":  # tests that swap the URLs
        _reversed.cache_clear()


setting_changed.connect(_urls_changed, dispatch_uid="kb-slug-url-cache")
