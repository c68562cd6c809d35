"""What an import says back: the files refused, the notes on what could not be carried over,
and the totals."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Problem:
    """Why one file or feed entry can't be imported, or a note about something left as is."""

    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.reason}"


class InvalidImport(Exception):
    """The input has problems and nothing was written."""

    def __init__(self, problems: Sequence[Problem]):
        super().__init__(f"{len(problems)} invalid file(s); nothing was imported")
        self.problems = list(problems)


@dataclass
class ImportReport:
    dry_run: bool = False
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    # The site the files came from, and what translating them carried over: "formulas",
    # "links", "images", "figure captions"... counted over every file.
    site: str = ""
    translated: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        verb = "would be " if self.dry_run else ""
        return (
            f"{len(self.created)} {verb}created, {len(self.updated)} {verb}updated, "
            f"{len(self.unchanged)} unchanged, {len(self.skipped)} skipped"
        )

    def totals(self) -> str:
        """One line of what the import carried over, for the command and the Import page."""
        posts = len(self.created) + len(self.updated) + len(self.unchanged)
        parts = [f"{posts} posts"]
        parts += [f"{count} {name}" for name, count in sorted(self.translated.items()) if count]
        parts.append(f"{len(self.warnings)} warnings")
        where = f"{self.site.capitalize()} site: " if self.site else ""
        return where + ", ".join(parts)
