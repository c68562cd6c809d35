from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from notes.bibliography.importing import BibliographyImportError, import_bibtex_file


class Command(BaseCommand):
    help = (
        "Import the entries of a BibTeX file into the bibliography. References are matched by "
        "key, so importing again changes nothing; if any entry is bad, nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="A .bib file.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would happen; write nothing."
        )

    def handle(self, *args, **options):
        path = options["path"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            report = import_bibtex_file(path, dry_run=options["dry_run"])
        except BibliographyImportError as error:
            raise CommandError(str(error)) from None
        prefix = "Dry run, nothing written: " if report.dry_run else ""
        self.stdout.write(self.style.SUCCESS(prefix + report.summary()))
