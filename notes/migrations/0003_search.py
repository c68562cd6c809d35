"""The full-text search index: an FTS5 table on SQLite, a tsvector table under a GIN index on
PostgreSQL. Each half does nothing on the other engine; `notes/search.py` holds the SQL."""

from django.db import migrations


def create_search_index(apps, schema_editor):
    from notes import search

    if schema_editor.connection.vendor not in {"postgresql", "sqlite"}:
        return
    # Fills the index from the posts already there, through the historical model.
    search.rebuild_index(apps.get_model("notes", "Post"))


def drop_search_index(apps, schema_editor):
    from notes import search

    if schema_editor.connection.vendor not in {"postgresql", "sqlite"}:
        return
    with schema_editor.connection.cursor() as cursor:
        search.engine().drop(cursor)


class Migration(migrations.Migration):
    dependencies = [
        ("notes", "0002_post_feed_entry_id"),
    ]

    operations = [
        migrations.RunPython(create_search_index, drop_search_index),
    ]
