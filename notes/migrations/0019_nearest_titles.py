"""On PostgreSQL, the no-results page's close titles come from a GiST trigram index instead of
a GIN one.

A GIN index answers `word <% title` (which titles pass the similarity threshold) but leaves
every one that passes to be scored and sorted. When titles look alike, that is nearly all of
them: 200-450 ms at 10,000 posts. A GiST index also answers `word <<-> title` (the distance)
in order, nearest first, so a query for the closest three reads a few index pages and stops
(notes/search_suggestions.py). Tag names keep their GIN index: a site has a few hundred.
"""

from django.db import migrations

GIN = "CREATE INDEX IF NOT EXISTS notes_post_title_trgm ON notes_post USING GIN (title gin_trgm_ops)"
GIST = (
    "CREATE INDEX IF NOT EXISTS notes_post_title_trgm_gist ON notes_post "
    "USING GIST (title gist_trgm_ops)"
)


def to_gist(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GIST)
        schema_editor.execute("DROP INDEX IF EXISTS notes_post_title_trgm")


def to_gin(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GIN)
        schema_editor.execute("DROP INDEX IF EXISTS notes_post_title_trgm_gist")


class Migration(migrations.Migration):
    dependencies = [
        ("notes", "0018_faster_reads"),
    ]

    operations = [
        migrations.RunPython(to_gist, to_gin),
    ]
