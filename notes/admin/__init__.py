"""The writing interface, one module per part: posts and what hangs off them, references,
the site."""

from notes.admin import posts, redirects, references, site, tokens  # noqa: F401  (importing registers each ModelAdmin)
