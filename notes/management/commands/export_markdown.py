from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from notes.exporters import export_to_directory


class Command(BaseCommand):
    help = (
        "Write every post (drafts too, marked `draft: true`) to DIR as <slug>.md with YAML "
        "front matter, and the media files to DIR/media/. `import_markdown DIR` reads it back."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)

    def handle(self, *args, **options):
        directory = options["directory"]
        if directory.exists() and not directory.is_dir():
            raise CommandError(f"{directory} exists and is not a folder.")
        report = export_to_directory(directory)
        self.stdout.write(self.style.SUCCESS(f"{report.summary()} to {directory}"))
