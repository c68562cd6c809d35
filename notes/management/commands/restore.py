from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from notes.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = (
        "Load a `backup` archive, after checking all of it. Refuses when the database already "
        "holds notes, unless --force, which deletes them first. Existing accounts are never "
        "changed; the backup's people come in as names only, unless --with-users."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--force",
            action="store_true",
            help="Delete the posts, tags, series and links already here before restoring.",
        )
        parser.add_argument(
            "--with-users",
            action="store_true",
            help="Create the backup's accounts with their passwords and rights (the backup must "
            "have been made with --with-users). Accounts that exist here are kept as they are.",
        )

    def handle(self, *args, **options):
        try:
            with options["file"].open("rb") as file:
                counts = restore_backup(
                    file, force=options["force"], with_users=options["with_users"]
                )
        except OSError as error:
            raise CommandError(f"Cannot read {options['file']}: {error.strerror}") from None
        except BackupError as error:
            raise CommandError(f"Not restored: {str(error).rstrip('.')}.") from None
        summary = ", ".join(f"{n} {label}" for label, n in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Restored {summary}."))
