"""Search reads posts as prose now (notes/search_text.py): the index is rebuilt from the posts.
On PostgreSQL, pg_trgm gives the no-results page its close titles and tags."""

from django.db import migrations


def forget_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table, column in (("notes_post", "title"), ("notes_tag", "name")):
            schema_editor.execute(f"DROP INDEX IF EXISTS {table}_{column}_trgm")


def prepare_search(apps, schema_editor):
    from notes import search

    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        # For the no-results page's close titles and tags (notes/search_suggestions.py).
        for table, column in (("notes_post", "title"), ("notes_tag", "name")):
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {table}_{column}_trgm ON {table} "
                f"USING GIN ({column} gin_trgm_ops)"
            )
    if vendor in {"postgresql", "sqlite"}:
        search.rebuild_index(apps.get_model("notes", "Post"))


class Migration(migrations.Migration):
    dependencies = [
        ("notes", "0010_references"),
    ]

    operations = [
        # Going back keeps the extension (other things may use it) and the prose index, which
        # the older code reads as well.
        migrations.RunPython(prepare_search, forget_trigram_indexes),
    ]
