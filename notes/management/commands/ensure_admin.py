import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

USERNAME = "admin"


def password_file() -> Path:
    """Where a generated password is kept for `make run` to show again (data/, never in git)."""
    return Path(settings.DATA_DIR) / "admin-password"


def password_hint() -> str:
    """How `make run`'s box names the password: the generated one while it still works."""
    user = get_user_model().objects.filter(username=USERNAME).first()
    if user is None:
        return "(no admin account: run manage.py ensure_admin)"
    if os.environ.get("KB_ADMIN_PASSWORD") and user.check_password(os.environ["KB_ADMIN_PASSWORD"]):
        return "the value of KB_ADMIN_PASSWORD"
    try:
        kept = password_file().read_text().strip()
    except OSError:
        kept = ""
    if kept and user.check_password(kept):
        return kept
    return "the one you set (forgot it? manage.py changepassword admin)"


class Command(BaseCommand):
    help = (
        "Make sure a superuser named 'admin' exists. Its password is KB_ADMIN_PASSWORD, or a new "
        "random one, printed and kept in data/admin-password for `make run` to show."
    )

    def handle(self, *args, **options):
        user_model = get_user_model()
        if user_model.objects.filter(username=USERNAME).exists():
            self.stdout.write(f"Admin account '{USERNAME}' already exists.")
            return
        password = os.environ.get("KB_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        user_model.objects.create_superuser(USERNAME, email="", password=password)
        if os.environ.get("KB_ADMIN_PASSWORD"):
            self.stdout.write(
                self.style.SUCCESS(f"Created admin account '{USERNAME}' (KB_ADMIN_PASSWORD).")
            )
            return
        kept = password_file()
        kept.parent.mkdir(parents=True, exist_ok=True)
        kept.touch(mode=0o600)
        kept.write_text(password + "\n")
        self.stdout.write(
            self.style.SUCCESS(
                f"Created admin account '{USERNAME}' with password: {password}\n"
                "Change it with `manage.py changepassword admin` (then this copy is not shown)."
            )
        )
