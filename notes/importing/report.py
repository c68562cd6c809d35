"""What an import says back: the files refused, the notes on what could not be carried over,
and the totals."""

from __future__ import annotations

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

    def summary(self) -> str:
        verb = "would be " if self.dry_run else ""
        return (
            f"{len(self.created)} {verb}created, {len(self.updated)} {verb}updated, "
            f"{len(self.unchanged)} unchanged, {len(self.skipped)} skipped"
        )
