"""The demo posts a newcomer sees after `make run`, read from notes/demo/*.md."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model

from notes.bibliography.importing import import_bibtex_file
from notes.importing import import_markdown

DEMO_DIR = Path(__file__).resolve().parent / "demo"
DEMO_AUTHOR = {"username": "demo", "first_name": "Ada", "last_name": "Lindqvist"}


def demo_author():
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=DEMO_AUTHOR["username"],
        defaults={"first_name": DEMO_AUTHOR["first_name"], "last_name": DEMO_AUTHOR["last_name"]},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def load_demo() -> tuple[int, int]:
    """Import the demo posts through the Markdown importer (matched by slug, so running it again
    creates nothing). Returns (created, already there). The papers they cite come first."""
    import_bibtex_file(DEMO_DIR / "references.bib")
    report = import_markdown([DEMO_DIR], author=demo_author())
    return len(report.created), len(report.updated) + len(report.unchanged)
