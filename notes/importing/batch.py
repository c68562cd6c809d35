"""Checking an import as a whole: what no single file shows, and the order to save in."""

from __future__ import annotations

import re
from collections import Counter, defaultdict

from notes.importing.files import outside_code
from notes.importing.posts import PostData
from notes.importing.report import Problem
from notes.models import Post

WIKILINK = re.compile(r"(?<!!)\[\[([^\[\]\n|#]*)((?:#[^\[\]\n|]*)?)((?:\|[^\[\]\n]*)?)\]\]")


def check_together(posts: list[PostData]) -> list[Problem]:
    """Problems no single file shows: two files with one slug, or one series part."""
    problems = []
    by_slug: dict[str, list[PostData]] = defaultdict(list)
    for data in posts:
        by_slug[data.slug].append(data)
    for slug, same in by_slug.items():
        for data in same if len(same) > 1 else []:
            others = ", ".join(o.path for o in same if o is not data)
            problems.append(Problem(data.path, f"the slug {slug!r} is also used by {others}"))
    parts = Counter(
        (d.series.lower(), d.series_order) for d in posts if d.series and d.series_order
    )
    for data in posts:
        if data.series and parts[(data.series.lower(), data.series_order)] > 1:
            problems.append(
                Problem(data.path, f"another file is part {data.series_order} of {data.series!r}")
            )
    return problems


def link_by_slug(posts: list[PostData]) -> list[Problem]:
    """Rewrite wikilinks that name a note by file name, as Obsidian allows, to name its slug;
    the label keeps what the author wrote (an alias needs no rewriting: kb keeps it). Links
    that already resolve are left alone. Returns a note for each link that leads to no post,
    here or already in kb."""
    # An alias the post keeps resolves as it is, so the text stays as the author wrote it.
    resolves = {d.slug for d in posts} | {d.title.lower() for d in posts}
    resolves |= {alias.lower() for d in posts for alias in d.aliases}
    other_names: dict[str, str] = {}
    for data in posts:
        other_names.setdefault(data.name.lower(), data.slug)
    unresolved: list[tuple[PostData, str]] = []

    def relink(data: PostData, match: re.Match[str]) -> str:
        target, anchor, label = match.group(1).strip(), match.group(2), match.group(3)
        if not target or target in resolves or target.lower() in resolves:
            return match.group(0)
        slug = other_names.get(target.lower())
        if slug is None:
            unresolved.append((data, target))
            return match.group(0)
        return f"[[{slug}{anchor}{label or '|' + target}]]"

    for data in posts:
        if "[[" in data.body:
            data.body = outside_code(
                data.body, lambda prose, data=data: WIKILINK.sub(lambda m: relink(data, m), prose)
            )
    return _unresolved_notes(unresolved)


def _unresolved_notes(unresolved: list[tuple[PostData, str]]) -> list[Problem]:
    targets = sorted({target for _, target in unresolved})
    known: set[str] = set()
    for start in range(0, len(targets), 400):
        chunk = targets[start : start + 400]
        rows = Post.objects.filter(slug__in=chunk) | Post.objects.filter(title__in=chunk)
        for slug, title in rows.values_list("slug", "title"):
            known |= {slug, title}
    lowered = {name.lower() for name in known}
    if targets:  # a post already in kb may answer to the name as an alias
        for aliases in Post.objects.exclude(aliases="").values_list("aliases", flat=True):
            lowered.update(alias.lower() for alias in aliases.splitlines())
    return [
        Problem(data.path, f"the link to {target!r} leads to no post")
        for data, target in unresolved
        if target not in known and target.lower() not in lowered
    ]


def targets_first(posts: list[PostData]) -> list[PostData]:
    """The posts ordered so that a wikilink's target is saved before the post linking to it
    (cycles are cut anywhere). Saved the other way round, each post would be rendered with a
    broken link and then re-rendered when its target arrives, doubling the work."""
    by_name: dict[str, PostData] = {}
    for data in posts:
        by_name.setdefault(data.slug, data)
        by_name.setdefault(data.title.lower(), data)
    ordered: list[PostData] = []
    seen: set[int] = set()
    for start in posts:
        # An explicit stack: a long chain of links must not hit Python's recursion limit.
        stack = [(start, iter(_wikilink_targets(start.body)))]
        if id(start) in seen:
            continue
        seen.add(id(start))
        while stack:
            data, targets = stack[-1]
            for target in targets:
                found = by_name.get(target) or by_name.get(target.lower())
                if found is not None and id(found) not in seen:
                    seen.add(id(found))
                    stack.append((found, iter(_wikilink_targets(found.body))))
                    break
            else:
                ordered.append(data)
                stack.pop()
    return ordered


def _wikilink_targets(body: str) -> list[str]:
    if "[[" not in body:
        return []
    return [m.group(1).strip() for m in WIKILINK.finditer(body) if m.group(1).strip()]


def series_conflicts(posts: list[PostData]) -> list[Problem]:
    """Series parts already held by a post that this import does not bring."""
    slugs = {d.slug for d in posts}
    held = {
        (title.lower(), order): slug
        for title, order, slug in Post.objects.filter(
            series__isnull=False, series_order__isnull=False
        )
        .values_list("series__title", "series_order", "slug")
        .iterator()
    }
    problems = []
    for data in posts:
        holder = held.get(((data.series or "").lower(), data.series_order))
        if data.series and holder and holder not in slugs and holder != data.slug:
            problems.append(
                Problem(data.path, f"part {data.series_order} of {data.series!r} is {holder!r}")
            )
    return problems
