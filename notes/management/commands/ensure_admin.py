import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Make sure a superuser named 'admin' exists. Its password is KB_ADMIN_PASSWORD, or a new "
        "random one printed once when the account is created."
    )

    def handle(self, *args, **options):
        user_model = get_user_model()
        if user_model.objects.filter(username="admin").exists():
            self.stdout.write("Admin account 'admin' already exists.")
            return
        password = os.environ.get("KB_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        user_model.objects.create_superuser("admin", email="", password=password)
        if os.environ.get("KB_ADMIN_PASSWORD"):
            self.stdout.write(
                self.style.SUCCESS("Created admin account 'admin' (KB_ADMIN_PASSWORD).")
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Created admin account 'admin' with password: {password}\n"
                    "Write it down: it is shown only this once."
                )
            )
