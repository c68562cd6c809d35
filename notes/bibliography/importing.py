"""Importing a .bib file: every entry checked first, then all written in one transaction or
none at all, like the Markdown import. Entries are matched by key, so importing the same file
twice changes nothing, and an edited entry updates its reference (and the posts citing it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.db.models.functions import Lower

from notes import services, site_state
from notes.bibliography.parsing import ParsedEntry, Problem, parse_bibtex
from notes.models import Reference


class BibliographyImportError(ValueError):
    """The file has problems; nothing was written."""

    def __init__(self, name: str, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"{name}: {p}" for p in problems)
        super().__init__(f"{len(problems)} problem(s), nothing imported:\n{lines}")


@dataclass
class BibliographyImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    dry_run: bool = False

    def summary(self) -> str:
        verb = "would be" if self.dry_run else "were"
        return (
            f"{len(self.created)} references {verb} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged"
        )


def _identity_clashes(entries: list[ParsedEntry]) -> list[Problem]:
    """A DOI or arXiv id that another key already holds, in the file or in the database."""
    problems = []
    for name, label in (("doi", "DOI"), ("arxiv_id", "arXiv id")):
        values = {e.fields[name].lower(): e for e in reversed(entries) if e.fields[name]}
        seen: dict[str, ParsedEntry] = {}
        for entry in entries:
            value = entry.fields[name].lower()
            if not value:
                continue
            if value in seen:
                problems.append(
                    Problem(entry.line, f"its {label} is also {seen[value].key}'s", entry.key)
                )
            seen.setdefault(value, entry)
        taken = Reference.objects.annotate(v=Lower(name)).filter(v__in=list(values))
        for key, value in taken.values_list("key", "v"):
            entry = values[value]
            if entry.key != key and key not in {e.key for e in entries}:
                problems.append(
                    Problem(entry.line, f"its {label} belongs to the reference {key}", entry.key)
                )
    return problems


def import_bibtex(text: str, *, name: str = "the file", dry_run: bool = False):
    """Import every entry of a .bib text, or raise `BibliographyImportError` naming each
    problem with its line (and write nothing)."""
    parsed = parse_bibtex(text)
    problems = parsed.problems + _identity_clashes(parsed.entries)
    if problems:
        raise BibliographyImportError(name, sorted(problems, key=lambda p: p.line))
    report = BibliographyImportReport(dry_run=dry_run)
    existing = {r.key: r for r in Reference.objects.filter(key__in=[e.key for e in parsed.entries])}
    with transaction.atomic():
        for entry in parsed.entries:
            reference = existing.get(entry.key) or Reference(key=entry.key)
            values = {**entry.fields, "bibtex": entry.raw}
            if reference.pk and all(getattr(reference, f) == v for f, v in values.items()):
                report.unchanged.append(entry.key)
                continue
            (report.updated if reference.pk else report.created).append(entry.key)
            for field_name, value in values.items():
                setattr(reference, field_name, value)
            if not dry_run:
                services.save_reference(reference, mark_changed=False)
        if not dry_run and (report.created or report.updated):
            site_state.mark_changed()
    return report


def read_bib_file(path: Path) -> str:
    """A .bib file's text; a file that is not UTF-8 is a clear error naming the line."""
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise BibliographyImportError(
            str(path), [Problem(line, "this is not UTF-8 text")]
        ) from error


def import_bibtex_file(path: Path, *, dry_run: bool = False) -> BibliographyImportReport:
    """Import a .bib file (the command, an export's references.bib, a `bibliography:` key)."""
    return import_bibtex(read_bib_file(path), name=str(path), dry_run=dry_run)


def bibliography_paths(markdown_file: Path, value: object, root: Path | None = None) -> list[Path]:
    """The .bib files a `bibliography:` front-matter value names, as Pandoc, Quarto and Hugo
    write it (one path or a list), relative to the Markdown file and inside `root` (default:
    its folder). Raises `BibliographyImportError` for a value that is not that."""
    names = [value] if isinstance(value, str) else value
    folder = Path(markdown_file).parent
    root = Path(root or folder).resolve()
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise BibliographyImportError(
            str(markdown_file), [Problem(1, "bibliography: must be a file name or a list of them")]
        )
    paths = []
    for name in names:
        path = (folder / name).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            raise BibliographyImportError(
                str(markdown_file), [Problem(1, f"bibliography: no such file {name!r}")]
            )
        paths.append(path)
    return list(dict.fromkeys(paths))
