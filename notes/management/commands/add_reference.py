from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from notes.capture.drafts import compose, save_draft
from notes.capture.identifiers import LookupFailed, look_up, parse_identifier
from notes.models import Post


class Command(BaseCommand):
    help = (
        "Look up a paper by DOI or arXiv id (or a doi.org / arxiv.org address) in Crossref or the "
        "arXiv API and save a summary draft of it: title, authors, date, abstract, source link."
    )

    def add_arguments(self, parser):
        parser.add_argument("identifier", help="e.g. 2006.11239, arXiv:2006.11239, 10.1145/…")
        parser.add_argument("--user", default="admin", help="The draft's author (default: admin).")

    def handle(self, *args, identifier, user, **options):
        parsed = parse_identifier(identifier)
        if parsed is None:
            raise CommandError(f"{identifier!r} is not a DOI or an arXiv id.")
        author = get_user_model().objects.filter(username=user).first()
        if author is None:
            raise CommandError(f"There is no account named {user!r}.")
        existing = Post.objects.not_trashed().filter(source_url=parsed.url).first()
        if existing:
            self.stdout.write(f"Already saved as “{existing}” ({self._where(existing)}).")
            return
        try:
            meta = look_up(parsed)
        except LookupFailed as exc:
            raise CommandError(str(exc)) from exc
        post = save_draft(compose(meta, url=parsed.url), user=author)
        self.stdout.write(self.style.SUCCESS(f"Saved “{post}” as a draft ({self._where(post)})."))

    def _where(self, post: Post) -> str:
        return reverse("admin:notes_post_change", args=[post.pk])
