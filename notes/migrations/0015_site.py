"""Search reads posts as prose now (notes/search_text.py): the index is rebuilt from the posts.
On PostgreSQL, pg_trgm gives the no-results page its close titles and tags."""

from django.db import migrations


def prepare_search(apps, schema_editor):
    from notes import search

    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    if vendor in {"postgresql", "sqlite"}:
        search.rebuild_index(apps.get_model("notes", "Post"))


class Migration(migrations.Migration):
    dependencies = [
        ("notes", "0007_site_settings"),
    ]

    operations = [
        # Going back keeps the extension (other things may use it) and the prose index, which
        # the older code reads as well.
        migrations.RunPython(prepare_search, migrations.RunPython.noop),
    ]
