"""Importing Markdown: files, folders and whole sites. Everything is read and checked first;
only then, if nothing was refused, is anything written."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from django.db import transaction

from notes.bibliography.importing import BibliographyImportError, import_bibtex_file
from notes.importing.batch import check_together, link_by_slug, series_conflicts, targets_first
from notes.importing.files import MarkdownFile
from notes.importing.media import BIBLIOGRAPHY_FILE, index_media
from notes.importing.posts import Invalid, PostData
from notes.importing.reading import read_markdown_file
from notes.importing.report import ImportReport, Problem, Progress
from notes.importing.sites import FOLDER, Site, recognise
from notes.importing.writing import run, unknown_authors
from notes.models import Reference


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
    bibliographies = _bibliographies(paths, posts)
    known_keys, bib_problems, readable = _check_bibliographies(bibliographies)
    problems += bib_problems
    notes += _unknown_references(posts, known_keys)
    bad = {p.path for p in problems}
    posts = targets_first([d for d in posts if d.path not in bad])
    # References first, so the posts' citations resolve; one transaction, so a refused post
    # leaves no bibliography behind either.
    with transaction.atomic():
        if not dry_run and (not bib_problems or skip_invalid):
            for path in readable:
                import_bibtex_file(path)
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


def _bibliographies(paths: list[Path], posts: list[PostData]) -> list[Path]:
    """The .bib files an import brings: `references.bib` at the root of a folder (as kb's
    export writes it) and those the posts' `bibliography:` front matter names."""
    found = [p / BIBLIOGRAPHY_FILE for p in paths if (p / BIBLIOGRAPHY_FILE).is_file()]
    for data in posts:
        found += data.bibliography
    return list(dict.fromkeys(path.resolve() for path in found))


def _check_bibliographies(files: list[Path]) -> tuple[set[str], list[Problem], list[Path]]:
    """Every key the files hold, their problems (each with its line) and the files that have
    none; nothing is written."""
    keys: set[str] = set()
    problems: list[Problem] = []
    readable: list[Path] = []
    for path in files:
        try:
            report = import_bibtex_file(path, dry_run=True)
        except BibliographyImportError as error:
            problems += [Problem(str(path), p.message, p.line) for p in error.problems]
            continue
        keys.update(report.created + report.updated + report.unchanged)
        readable.append(path)
    return keys, problems, readable


def _unknown_references(posts: list[PostData], brought: set[str]) -> list[Problem]:
    wanted = {d.reference for d in posts if d.reference} - brought
    known = set(Reference.objects.filter(key__in=wanted).values_list("key", flat=True))
    return [
        Problem(d.path, f"reference: no reference with the key {d.reference!r}; left out")
        for d in posts
        if d.reference in wanted - known
    ]
