from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from notes.capture.identifiers import LookupFailed, parse_identifier
from notes.capture.papers import capture_paper
from notes.models import Post


class Command(BaseCommand):
    help = (
        "Look up a paper by DOI or arXiv id (or a doi.org / arxiv.org address) in Crossref or the "
        "arXiv API, add it to the bibliography (a Reference posts can cite) and save a summary "
        "draft attached to it: title, authors, date, abstract, source link."
    )

    def add_arguments(self, parser):
        parser.add_argument("identifier", help="e.g. 2006.11239, arXiv:2006.11239, 10.1145/…")
        parser.add_argument("--user", default="admin", help="The draft's author (default: admin).")
        parser.add_argument(
            "--no-draft",
            action="store_true",
            help="Only add the paper to the bibliography; write no summary draft.",
        )

    def handle(self, *args, identifier, user, no_draft, **options):
        parsed = parse_identifier(identifier)
        if parsed is None:
            raise CommandError(f"{identifier!r} is not a DOI or an arXiv id.")
        author = get_user_model().objects.filter(username=user).first()
        if author is None and not no_draft:
            raise CommandError(f"There is no account named {user!r}.")
        try:
            captured = capture_paper(parsed, user=author, draft=not no_draft)
        except LookupFailed as exc:
            raise CommandError(str(exc)) from exc
        except ValidationError as exc:  # what the registry sent and kb cannot keep
            raise CommandError(f"{parsed} could not be saved: {' '.join(exc.messages)}") from exc
        reference = captured.reference
        if captured.reference_created:
            added = f"Added [@{reference.key}] to the bibliography: {reference.title}."
            self.stdout.write(self.style.SUCCESS(added))
        else:
            self.stdout.write(f"Already in the bibliography as [@{reference.key}].")
        post = captured.post
        if post is None:
            return
        if captured.post_existed:
            self.stdout.write(f"Already saved as “{post}” ({self._where(post)}).")
        else:
            self.stdout.write(
                self.style.SUCCESS(f"Saved “{post}” as a draft ({self._where(post)}).")
            )

    def _where(self, post: Post) -> str:
        return reverse("admin:notes_post_change", args=[post.pk])
