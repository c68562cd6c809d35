"""What the import commands print: progress on long runs, then problems and a summary line."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, OutputWrapper

from notes.importing import ImportReport, InvalidImport, Progress

PROGRESS_EVERY = 500


def progress_printer(stderr: OutputWrapper) -> Progress:
    """Report every few hundred posts, on stderr so the summary on stdout stays clean."""

    def report(done: int, total: int) -> None:
        if total >= PROGRESS_EVERY and (done % PROGRESS_EVERY == 0 or done == total):
            stderr.write(f"  {done:,}/{total:,} posts")

    return report


def write_report(command: BaseCommand, report: ImportReport) -> None:
    for problem in report.skipped:
        command.stderr.write(f"skipped {problem}")
    for warning in report.warnings:
        command.stderr.write(f"warning {warning}")
    prefix = "Dry run, nothing written: " if report.dry_run else ""
    command.stdout.write(report.totals())
    command.stdout.write(command.style.SUCCESS(prefix + report.summary()))


def refuse(error: InvalidImport) -> CommandError:
    lines = [str(problem) for problem in error.problems]
    return CommandError("\n".join([*lines, f"{error}."]))


def default_author(username: str | None):
    """The named user, else the first superuser; None when there is neither, in which case
    every imported file has to name its author."""
    users = get_user_model().objects
    if username:
        try:
            return users.get(username=username)
        except users.model.DoesNotExist:
            raise CommandError(f"There is no user called {username!r}.") from None
    return users.filter(is_superuser=True).order_by("pk").first()
