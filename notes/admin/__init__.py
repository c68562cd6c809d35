"""The writing interface, one module per part: posts and what hangs off them, references,
redirects, the site, the people who write, API tokens."""

from notes.admin import (  # noqa: F401  (importing registers each ModelAdmin)
    authors,
    posts,
    redirects,
    references,
    site,
    tokens,
)
