from django.core.management.base import BaseCommand
from django.db import transaction

from notes import services, site_state
from notes.models import MathStylesheet, Post, SiteSettings


class Command(BaseCommand):
    help = (
        "Render every post's Markdown again into its stored HTML, table of contents, excerpt and "
        "reading time, and re-sync wikilinks. Run it after the rendering pipeline changes."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=200)

    def handle(self, *args, batch_size: int, **options):
        pks = list(Post.objects.order_by("pk").values_list("pk", flat=True))
        preamble = SiteSettings.current().math_preamble
        total = len(pks)
        for start in range(0, total, batch_size):
            # One transaction per batch: a failure keeps every earlier batch, and a long run
            # doesn't hold the database's write lock for its whole length.
            with transaction.atomic():
                for post in Post.objects.filter(pk__in=pks[start : start + batch_size]):
                    services.rerender_post(post, math_preamble=preamble)
                site_state.mark_changed()
            self.stdout.write(f"Rendered {min(start + batch_size, total)}/{total} posts")
        self.stdout.write(self.style.SUCCESS(f"Re-rendered {total} posts."))
        # Stylesheets that earlier renderings (and previews) linked and no post links now.
        dropped = MathStylesheet.objects.unused().delete()[0]
        self.stdout.write(f"Dropped {dropped} formula stylesheets no post uses.")
