from pathlib import Path

from django.core.management.base import BaseCommand

from notes.bibliography.writing import bibliography_bibtex
from notes.models import Reference


class Command(BaseCommand):
    help = "Write the whole bibliography as BibTeX, to a file or to standard output."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", type=Path, help="Where to write (default: stdout).")

    def handle(self, *args, **options):
        text = bibliography_bibtex(Reference.objects.all())
        if options["path"] is None:
            self.stdout.write(text, ending="")
            return
        options["path"].write_text(text, encoding="utf-8")
        count = Reference.objects.count()
        self.stderr.write(self.style.SUCCESS(f"{count} references written to {options['path']}"))
