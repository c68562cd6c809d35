import datetime

from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from notes.models.tokens import ApiToken


class Command(BaseCommand):
    help = (
        "Create a personal API token for a staff account and print it (only this once). "
        "The same as API tokens → Add in the admin."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="What will use it, e.g. 'laptop scripts'.")
        parser.add_argument("--user", default="admin", help="A staff account (default: admin).")
        parser.add_argument("--scope", choices=["read", "write"], default="read")
        parser.add_argument("--days", type=int, help="Expire after this many days.")

    def handle(self, *args, name, user, scope, days, **options):
        owner = get_user_model().objects.filter(username=user, is_staff=True).first()
        if owner is None:
            raise CommandError(f"There is no staff account named {user!r}.")
        if not name.strip() or len(name) > 100:
            raise CommandError("The name must be 1 to 100 characters.")
        expires = timezone.now() + datetime.timedelta(days=days) if days else None
        token, secret = ApiToken.issue(user=owner, name=name, scope=scope, expires_at=expires)
        LogEntry.objects.log_actions(
            owner.pk, [token], ADDITION, "Created with manage.py create_api_token",
            single_object=True,
        )  # fmt: skip
        # Only the secret goes to stdout, so `TOKEN=$(manage.py create_api_token …)` works.
        self.stdout.write(secret)
        self.stderr.write(f"Created {token.get_scope_display().lower()} token “{name}” for {user}.")
