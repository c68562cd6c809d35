from django.core.management.base import BaseCommand

from notes.demo_content import load_demo
from notes.models import Post


class Command(BaseCommand):
    help = "Load kb's demo posts (with tags, series and cross-links). Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already has posts (what `make run` uses).",
        )

    def handle(self, *args, **options):
        if options["if_empty"] and Post.objects.exists():
            self.stdout.write("The database already has posts; demo content not loaded.")
            return
        created, skipped = load_demo()
        self.stdout.write(
            self.style.SUCCESS(f"Demo content: {created} created, {skipped} already there.")
        )
