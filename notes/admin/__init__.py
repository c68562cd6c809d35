"""The writing interface, one module per part: posts and what hangs off them, the site, the
people who write."""

from notes.admin import authors, posts, site  # noqa: F401  (importing registers each ModelAdmin)
