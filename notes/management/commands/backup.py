from pathlib import Path

from django.core.management.base import BaseCommand

from notes.backup import create_backup


class Command(BaseCommand):
    help = (
        "Write the whole site (posts, tags, series, links, update notes, users and media) to "
        "one zip that `restore` loads into an empty database on SQLite or PostgreSQL. "
        "Password hashes are left out unless --with-users."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="The archive to write, e.g. kb-backup.zip.")
        parser.add_argument(
            "--with-users",
            action="store_true",
            help="Include password hashes, groups and permissions, so accounts can log in.",
        )

    def handle(self, *args, **options):
        with options["file"].open("wb") as file:
            manifest = create_backup(file, with_users=options["with_users"])
        counts = ", ".join(f"{n} {label}" for label, n in manifest["counts"].items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Backed up {counts} and {len(manifest['media'])} media files to {options['file']}."
            )
        )
