import time

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from notes import search
from notes.models import title_words


class Command(BaseCommand):
    help = (
        "Rebuild the full-text search index from every post (PostgreSQL tsvector or SQLite FTS5). "
        "Run it after bulk-loading posts outside the services, or after changing "
        "KB_SEARCH_LANGUAGE. The title words `[[` completion looks up are made again too."
    )

    def handle(self, *args, **options):
        started = time.perf_counter()
        # One transaction: searches keep seeing the old index until the new one is complete.
        with transaction.atomic():
            count = search.rebuild_index()
            title_words.rebuild()
        seconds = time.perf_counter() - started
        if options["verbosity"]:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Indexed {count} posts on {connection.vendor} in {seconds:.1f}s."
                )
            )
