from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from notes.importing import InvalidImport, import_markdown
from notes.management.commands._reporting import (
    default_author,
    progress_printer,
    refuse,
    write_report,
)


class Command(BaseCommand):
    help = (
        "Import Markdown files and folders, or a whole Jekyll or Hugo site or Obsidian vault "
        "from its root: its posts are found and translated into kb's Markdown, and a report "
        "names every file and line that could not be carried over. Posts are matched by slug, "
        "so importing again creates nothing new. If any file is invalid, nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "paths", nargs="+", type=Path, help="Markdown files, folders or sites' roots."
        )
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="Import the valid files and list the invalid ones instead of importing nothing.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would happen; write nothing."
        )
        parser.add_argument(
            "--author",
            help="Username for posts whose front matter names no author, or one with no account "
            "here (default: the first superuser).",
        )

    def handle(self, *args, **options):
        missing = [str(p) for p in options["paths"] if not p.exists()]
        if missing:
            raise CommandError(f"No such file or folder: {', '.join(missing)}")
        try:
            report = import_markdown(
                options["paths"],
                author=default_author(options["author"]),
                skip_invalid=options["skip_invalid"],
                dry_run=options["dry_run"],
                progress=progress_printer(self.stderr),
            )
        except InvalidImport as error:
            raise refuse(error) from None
        write_report(self, report)
