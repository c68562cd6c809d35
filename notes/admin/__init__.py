"""The writing interface, one module per part: posts and what hangs off them, the site."""

from notes.admin import posts, redirects, site  # noqa: F401  (importing registers each ModelAdmin)
