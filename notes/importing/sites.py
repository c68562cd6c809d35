"""Importing a folder of Markdown: the entry point that finds the files, reads and checks them
all, and only then writes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from notes.importing.batch import check_together, link_by_slug, series_conflicts, targets_first
from notes.importing.files import find_markdown_files
from notes.importing.media import index_media
from notes.importing.posts import Invalid, PostData
from notes.importing.reading import read_markdown_file
from notes.importing.report import ImportReport, Problem, Progress
from notes.importing.writing import run


def import_markdown(
    paths: Iterable[Path],
    *,
    author,
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import Markdown files and folders; posts are matched to existing ones by slug.

    `author` writes the posts whose front matter names nobody (None: every file must name one).
    Raises `InvalidImport`, having written nothing, when any file is invalid, unless
    `skip_invalid` is set.
    """
    paths = [Path(p) for p in paths]
    files = find_markdown_files(paths)
    # Only folders given are searched for media by name; a lone file's folder may be $HOME.
    media_indexes = defaultdict(dict, {p: index_media(p) for p in paths if p.is_dir()})
    posts: list[PostData] = []
    problems: list[Problem] = []
    for source in files:
        try:
            posts.append(read_markdown_file(source, media_indexes[source.root]))
        except Invalid as exc:
            problems.append(Problem(source.label, exc.reason, exc.line))
    together = check_together(posts)
    bad = {p.path for p in together}
    problems += together
    posts = [d for d in posts if d.path not in bad]
    if author is None:
        problems += [
            Problem(d.path, "no author: name one in the front matter or pass an author")
            for d in posts
            if d.author is None
        ]
    link_by_slug(posts)
    problems += series_conflicts(posts)
    bad = {p.path for p in problems}
    posts = targets_first([d for d in posts if d.path not in bad])
    return run(
        posts,
        problems,
        author=author,
        skip_invalid=skip_invalid,
        dry_run=dry_run,
        progress=progress,
    )
