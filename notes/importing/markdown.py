"""Importing Markdown: files, folders and whole sites. Everything is read and checked first;
only then, if nothing was refused, is anything written."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from notes.importing.batch import check_together, link_by_slug, series_conflicts, targets_first
from notes.importing.files import MarkdownFile
from notes.importing.media import index_media
from notes.importing.posts import Invalid, PostData
from notes.importing.reading import read_markdown_file
from notes.importing.report import ImportReport, Problem, Progress
from notes.importing.sites import FOLDER, Site, recognise
from notes.importing.writing import run, unknown_authors


def import_markdown(
    paths: Iterable[Path],
    *,
    author,
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import Markdown files, folders and sites (Jekyll, Hugo, Obsidian, recognised from their
    root); posts are matched to existing ones by slug.

    `author` writes the posts whose front matter names nobody (None: every file must name one).
    Raises `InvalidImport`, having written nothing, when any file is invalid, unless
    `skip_invalid` is set.
    """
    paths = [Path(p) for p in paths]
    sites = [_site(p) for p in paths]
    posts: list[PostData] = []
    problems: list[Problem] = []
    notes: list[Problem] = [note for site in sites for note in site.skipped]
    for path, site in zip(paths, sites, strict=True):
        # Only folders given are searched for media by name; a lone file's folder may be $HOME.
        media_index = index_media(site.root) if path.is_dir() else {}
        for source in site.files:
            try:
                posts.append(read_markdown_file(source, media_index, site))
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
    refused, unknown = unknown_authors(posts, author)
    problems += refused
    notes += unknown + link_by_slug(posts)
    problems += series_conflicts(posts)
    bad = {p.path for p in problems}
    posts = targets_first([d for d in posts if d.path not in bad])
    report = run(
        posts,
        problems,
        author=author,
        skip_invalid=skip_invalid,
        dry_run=dry_run,
        progress=progress,
    )
    report.site = ", ".join(sorted({s.kind for s in sites if s.kind != FOLDER}))
    for data in posts:
        if data.translation is not None:
            notes += data.translation.notes
            report.translated.update(data.translation.counts)
    notes.sort(key=lambda note: (note.path, note.line or 0))
    report.warnings[:0] = notes
    return report


def _site(path: Path) -> Site:
    if path.is_dir():
        return recognise(path)
    site = Site(kind=FOLDER, root=path.parent)
    site.files = [MarkdownFile(path, path.parent, str(path))]
    return site
