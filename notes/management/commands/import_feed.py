from pathlib import Path
from urllib.error import URLError

from django.core.management.base import BaseCommand, CommandError

from notes.importing import InvalidImport, fetch_feed, import_feed
from notes.management.commands._reporting import (
    default_author,
    progress_printer,
    refuse,
    write_report,
)


class Command(BaseCommand):
    help = (
        "Import an RSS or Atom feed (a file or an http(s) address): one summary post per "
        "entry, linking to its source. Entries imported before are left as they are."
    )

    def add_arguments(self, parser):
        parser.add_argument("feed", help="A feed file, or an http(s) address to fetch.")
        parser.add_argument(
            "--tag", action="append", default=[], help="Add this tag to every post (repeatable)."
        )
        parser.add_argument("--draft", action="store_true", help="Import the posts as drafts.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would happen; write nothing."
        )
        parser.add_argument(
            "--author", help="Username to write the posts as (default: the first superuser)."
        )

    def handle(self, *args, **options):
        author = default_author(options["author"])
        if author is None:
            raise CommandError("There is no superuser to write the posts as; pass --author.")
        source = options["feed"]
        try:
            if source.startswith(("http://", "https://")):
                data = fetch_feed(source)
            else:
                data = Path(source).read_bytes()
            report = import_feed(
                data,
                label=source,
                author=author,
                extra_tags=options["tag"],
                draft=options["draft"],
                dry_run=options["dry_run"],
                progress=progress_printer(self.stderr),
            )
        except InvalidImport as error:
            raise refuse(error) from None
        except (OSError, URLError) as error:
            raise CommandError(f"Cannot read {source}: {error}") from None
        write_report(self, report)
