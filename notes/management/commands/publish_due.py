import datetime

from django.core.management.base import BaseCommand
from django.utils import timezone

from notes import site_state


class Command(BaseCommand):
    help = (
        "Fill in the embeds of scheduled posts whose time has come: re-render the posts that "
        "embed them. The first reader after a post's time does this too, for a few posts; run "
        "this from cron (every few minutes) so a post embedded in many is filled in everywhere."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=float,
            help="Look at posts that came out in the last DAYS days, not only since the last run.",
        )

    def handle(self, *args, days: float | None, **options):
        since = timezone.now() - datetime.timedelta(days=days) if days is not None else None
        count = site_state.fill_in_due(since)
        self.stdout.write(self.style.SUCCESS(f"Re-rendered {count} posts embedding new posts."))
