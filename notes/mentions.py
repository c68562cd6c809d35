"""Unlinked mentions: published posts whose text names a post (by its title or an alias)
without linking to it, and the edit that turns the first such mention into a [[wikilink]].

A mention counts only in prose: text inside code, math, an existing link or a URL is left
alone, as is a match inside a longer word ("Adam" in "Adamant").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Q

from notes.models import Link, Post

SNIPPET_CHARS = 60
MAX_LISTED = 20

# What a mention may not sit in, matched in this order (fences before inline code, links
# before the bare URLs inside them).
_PROTECTED = re.compile(
    r"(?ms)^(?P<fence>`{3,}|~{3,}).*?^(?P=fence)"
    r"|`[^`\n]*`"
    r"|\$\$.*?\$\$|\\\[.*?\\\]|\\\(.*?\\\)|\$[^$\n]+\$"
    r"|!?\[\[[^\]\n]*\]\]"
    r"|!?\[[^\]\n]*\]\([^)\n]*\)"
    r"|<[^>\n]+>"
    r"|https?://\S+"
)


@dataclass(frozen=True)
class Mention:
    post: Post
    before: str
    text: str
    after: str


def first_mention(body: str, name: str) -> re.Match[str] | None:
    """Where `name` first appears in the prose of `body`, ignoring case."""
    if not name.strip():
        return None
    masked = _PROTECTED.sub(lambda m: " " * len(m.group(0)), body)
    pattern = re.compile(r"(?<!\w)" + re.escape(name) + r"(?!\w)", re.IGNORECASE)
    found = pattern.search(masked)
    return pattern.search(body, found.start()) if found else None


def first_mention_of(body: str, target: Post) -> re.Match[str] | None:
    """Where the prose of `body` first names `target`, by its title or an alias; at one place,
    the longest name ("Adam optimiser" rather than "Adam")."""
    found = [m for name in mention_names(target) if (m := first_mention(body, name))]
    return min(found, key=lambda m: (m.start(), -len(m.group(0))), default=None)


def mention_names(target: Post) -> list[str]:
    return [name for name in (target.title, *target.alias_list) if name.strip()]


def with_first_mention_linked(body: str, target: Post) -> str | None:
    """`body` with its first unlinked mention of `target` as a wikilink keeping the words as
    written; None when there is none."""
    found = first_mention_of(body, target)
    if found is None:
        return None
    words = found.group(0)
    # A title with wikilink syntax in it can't be written as [[title]]; the slug can. An alias
    # is linked by the slug too, so the link outlives the alias.
    plain = words.lower() == target.title.lower() and not set(words) & set("[]|#")
    link = f"[[{words}]]" if plain else f"[[{target.slug}|{words}]]"
    return body[: found.start()] + link + body[found.end() :]


def unlinked_mentions(target: Post, limit: int = MAX_LISTED) -> list[Mention]:
    """Published posts (not `target` itself) that mention it in prose and don't link to it."""
    names = mention_names(target)
    if not names:
        return []
    named = Q()
    for name in names:
        named |= Q(body__icontains=name)
    linking = Link.objects.filter(target=target).values("source")
    candidates = (
        Post.objects.published()
        .exclude(pk=target.pk)
        .exclude(pk__in=linking)
        .filter(named)
        .only("pk", "title", "slug", "body")
        .order_by("-published_at")
    )
    found = []
    for post in candidates:
        match = first_mention_of(post.body, target)
        if match is None:
            continue
        before = post.body[max(0, match.start() - SNIPPET_CHARS) : match.start()]
        after = post.body[match.end() : match.end() + SNIPPET_CHARS]
        found.append(
            Mention(post, " ".join(before.split()), match.group(0), " ".join(after.split()))
        )
        if len(found) == limit:
            break
    return found
