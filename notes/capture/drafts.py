"""A summary draft from what capture gathered: the bookmarklet's title, address and selection,
filled in from the page's metadata or the paper's registry, with tags suggested from those the
site already has. Saved, like every post, through notes/services.py."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from notes import services
from notes.capture.metadata import PageMetadata
from notes.models import Post, Reference, Tag
from notes.search_query import fold

MAX_SUMMARY = Post._meta.get_field("summary").max_length
MAX_TITLE = Post._meta.get_field("title").max_length
MAX_QUOTE = 5_000


@dataclass
class Draft:
    title: str = ""
    source_url: str = ""
    summary: str = ""
    body: str = ""
    tags: list[Tag] = field(default_factory=list)
    reference: Reference | None = None  # the paper's bibliography entry, for a paper


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,.;:") + "…"


def _escaped(text: str) -> str:
    # Someone else's prose, not Markdown: what Markdown would read as markup stays literal.
    return re.sub(r"([\\`*_\[\]<>#$|])", r"\\\1", text)


def quote(selection: str) -> str:
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", selection[:MAX_QUOTE])]
    return "\n>\n".join(f"> {_escaped(p)}" for p in paragraphs if p)


def byline(meta: PageMetadata) -> str:
    """'Ho, Jain and Abbeel (2020), NeurIPS' — who wrote it, when and where."""
    authors = meta.authors
    if len(authors) > 3:
        who = f"{authors[0]} et al."
    elif len(authors) > 1:
        who = ", ".join(authors[:-1]) + f" and {authors[-1]}"
    else:
        who = "".join(authors)
    parts = [who + (f" ({meta.year})" if meta.year and who else meta.year), meta.site_name]
    return ", ".join(_escaped(p) for p in parts if p)


def suggest_tags(meta: PageMetadata, selection: str = "") -> list[Tag]:
    """Existing tags the page is about: named in its keywords, or whose name appears as words in
    its title, description or the selection."""
    keywords = {fold(k) for k in meta.keywords}
    text = f" {fold(' '.join([meta.title, meta.description, selection]))} "
    chosen = []
    for tag in Tag.objects.only("name", "slug"):
        name = fold(tag.name)
        if name in keywords or re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text):
            chosen.append(tag)
    return chosen


def compose(meta: PageMetadata, *, title: str = "", url: str = "", selection: str = "") -> Draft:
    """What the bookmarklet sent wins over what the page says; the page fills the rest."""
    source = url if url.startswith(("http://", "https://")) else meta.url
    lines = []
    if credit := byline(meta):
        lines.append(f"{credit}.")
    if meta.doi:
        lines.append(f"DOI: [{meta.doi}](https://doi.org/{meta.doi})")
    if meta.arxiv_id:
        lines.append(f"arXiv: [{meta.arxiv_id}](https://arxiv.org/abs/{meta.arxiv_id})")
    body = "  \n".join(lines)
    if selection.strip():
        body = f"{body}\n\n{quote(selection)}" if body else quote(selection)
    return Draft(
        title=_shorten(title or meta.title or source, MAX_TITLE),
        source_url=source if source.startswith(("http://", "https://")) else "",
        summary=_shorten(meta.description, MAX_SUMMARY),
        body=(body + "\n\n" if body else "") + "## Notes\n\n",
        tags=suggest_tags(meta, selection),
    )


def save_draft(draft: Draft, *, user, extra_tags: list[str] = ()) -> Post:
    post = Post(
        title=draft.title,
        source_url=draft.source_url,
        summary=draft.summary,
        body=draft.body,
        status=Post.Status.DRAFT,
        author=user,
        reference=draft.reference,
    )
    post.full_clean(exclude=["tags", "author"])
    tags = [*draft.tags, *services.get_or_create_tags(extra_tags)]
    return services.save_post(post, tags=tags, user=user, note="Captured")
