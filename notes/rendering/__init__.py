"""Markdown to sanitized HTML, once, when a post is saved: see ``pipeline`` for what authors
can write. Nothing here touches the database; what needs it (resolving wikilinks) is passed in.
"""

from notes.rendering.pipeline import check_renderable, markdownify, render_markdown
from notes.rendering.results import (
    MAX_MARKDOWN_CHARS,
    MAX_SQUARE_BRACKETS,
    MarkdownTooLarge,
    Rendered,
    Resolver,
    WikiTarget,
)

__all__ = [
    "MAX_MARKDOWN_CHARS",
    "MAX_SQUARE_BRACKETS",
    "MarkdownTooLarge",
    "Rendered",
    "Resolver",
    "WikiTarget",
    "check_renderable",
    "markdownify",
    "render_markdown",
]
