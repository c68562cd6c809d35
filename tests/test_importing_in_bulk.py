"""An import writes its new posts in bulk (notes/importing/bulk.py): what comes out must be what
saving each post through the admin's path would have made, in a number of queries that barely
grows with the number of files."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notes import search, services
from notes.importing import bulk, import_markdown
from notes.models import Link, Post, Revision
from notes.search_query import parse
from notes.search_ranking import find
from tests.factories import make_post, make_user

pytestmark = pytest.mark.django_db

# Links backward and forward, by title, slug and alias, one to nowhere, a citation-free formula.
NOTES = [
    ("alpha", "Alpha", ["maths"], "Alpha leads to [[Gamma]] and [[beta|the second]].\n\n$x^2$"),
    ("beta", "Beta", ["maths", "Notes"], "## Heading\n\nBeta points back at [[Alpha]]."),
    ("gamma", "Gamma", ["notes"], "Gamma names [[delta]] and [[Nowhere at all]]."),
    ("delta", "Delta", [], "Delta quotes [[gamma#heading]], [[third letter]] and: zymurgy."),
]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def author(db):
    return make_user("importer", is_superuser=True)


def write_notes(folder: Path, notes=NOTES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n, (slug, title, tags, body) in enumerate(notes):
        aliases = "\naliases: [Third letter]" if slug == "gamma" else ""
        (folder / f"{slug}.md").write_text(
            f"---\ntitle: {title}\nslug: {slug}\ndate: 2024-01-{n % 28 + 1:02d}\n"
            f"tags: [{', '.join(tags)}]{aliases}\n---\n{body}\n",
            encoding="utf-8",
        )
    return folder


def one_by_one(author) -> None:
    """The same notes saved as the admin saves them, one at a time, in the files' order."""
    for n, (slug, title, tags, body) in enumerate(NOTES):
        post = Post(
            slug=slug,
            title=title,
            body=body + "\n",  # as the file holds it
            aliases="Third letter" if slug == "gamma" else "",
            status=Post.Status.PUBLISHED,
            published_at=datetime.datetime(2024, 1, n + 1, tzinfo=datetime.UTC),
            author=author,
        )
        services.save_post(post, tags=services.get_or_create_tags(tags))


def outcome() -> dict:
    """Everything a reader or the author can see of the notes, by slug rather than by id."""
    posts = {}
    for post in Post.objects.order_by("slug"):
        posts[post.slug] = {
            field: getattr(post, field)
            for field in [*services.RENDERED_FIELDS, "title", "status", "published_at"]
        } | {"tags": sorted(t.name for t in post.tags.all())}
    links = sorted(
        Link.objects.values_list("source__slug", "target__slug", "from_wikilink", "from_embed")
    )
    revisions = sorted(
        Revision.objects.values_list("post__slug", "number", "title", "tags", "status", "body")
    )
    slug_of = dict(Post.objects.values_list("pk", "slug"))
    hits = {
        word: sorted(slug_of[pk] for pk in find(parse(word)).ids)
        for word in ["alpha", "gamma", "maths", "notes", "zymurgy", "heading", "second"]
    }
    return {"posts": posts, "links": links, "revisions": revisions, "hits": hits}


@pytest.mark.parametrize("batch_size", [500, 1])
def test_an_import_comes_out_as_saving_each_post_would(tmp_path, author, monkeypatch, batch_size):
    one_by_one(author)
    expected = outcome()
    for post in Post.objects.all():
        services.delete_post(post)
    assert not Post.objects.exists()

    # One batch, or one post a batch (its links to later posts resolved as they come).
    monkeypatch.setattr(bulk, "BATCH_SIZE", batch_size)
    report = import_markdown([write_notes(tmp_path / "notes")], author=author)

    assert sorted(report.created) == ["alpha", "beta", "delta", "gamma"]
    assert outcome() == expected
    assert expected["links"] == [
        ("alpha", "beta", True, False),
        ("alpha", "gamma", True, False),
        ("beta", "alpha", True, False),
        ("delta", "gamma", True, False),
        ("gamma", "delta", True, False),
    ]
    assert expected["hits"]["zymurgy"] == ["delta"]
    assert expected["hits"]["maths"] == ["alpha", "beta"]
    assert Post.objects.get(slug="gamma").broken_wikilinks == "Nowhere at all"


def test_importing_the_same_files_again_changes_nothing(tmp_path, author):
    folder = write_notes(tmp_path / "notes")
    import_markdown([folder], author=author)
    before = outcome()

    again = import_markdown([folder], author=author)

    assert sorted(again.unchanged) == ["alpha", "beta", "delta", "gamma"]
    assert again.created == [] and again.updated == []
    assert outcome() == before
    assert Revision.objects.count() == 4


def test_posts_elsewhere_with_broken_links_to_the_new_notes_are_mended(tmp_path, author):
    waiting = make_post("Waiting", body="Someday [[Gamma]] and [[third letter]] will exist.")
    showing = make_post("Showing", body="It shows:\n\n![[Beta]]\n")
    framing = make_post("Framing", body="![[Showing]]\n")
    assert waiting.broken_wikilinks and "embed-missing" in showing.body_html

    import_markdown([write_notes(tmp_path / "notes")], author=author)

    waiting.refresh_from_db()
    assert waiting.broken_wikilinks == ""
    assert 'href="/posts/gamma/">Third letter</a>' in waiting.body_html
    assert set(waiting.outgoing_links.values_list("target__slug", flat=True)) == {"gamma"}
    showing.refresh_from_db()
    assert "embed-missing" not in showing.body_html
    assert "Beta points back at" in showing.body_html
    assert showing.outgoing_links.get().from_embed
    # The post showing the mended post shows what it now shows.
    framing.refresh_from_db()
    assert "Beta points back at" in framing.body_html


def test_a_new_note_embedding_a_later_one_shows_it(tmp_path, author, monkeypatch):
    monkeypatch.setattr(bulk, "BATCH_SIZE", 1)
    notes = [
        ("first", "First", [], "![[Second]]\n"),
        ("second", "Second", [], "The second note's own words."),
    ]
    import_markdown([write_notes(tmp_path / "notes", notes)], author=author)

    first = Post.objects.get(slug="first")
    assert "The second note's own words." in first.body_html
    assert first.broken_wikilinks == ""
    assert first.outgoing_links.get().from_embed


def many_notes(count: int, prefix: str) -> list:
    return [
        (
            f"{prefix}-{n}",
            f"{prefix} {n}",
            ["shared", f"{prefix} tag {n % 3}"],
            f"See [[{prefix} {(n + 1) % count}]] and [[{prefix} {(n + count - 1) % count}]].\n\n"
            f"## Part\n\n$a_{n} = b$ and words.",
        )
        for n in range(count)
    ]


def test_the_queries_of_an_import_barely_grow_with_its_files(
    tmp_path, author, django_assert_max_num_queries
):
    make_post("Outside", body="A link to [[small 3]] that an import will mend.")
    with CaptureQueriesContext(connection) as thirty:
        import_markdown([write_notes(tmp_path / "small", many_notes(30, "small"))], author=author)

    # Saved one by one, each post cost some sixteen queries: thirty more would be ~480.
    with django_assert_max_num_queries(len(thirty) + 15):
        import_markdown([write_notes(tmp_path / "large", many_notes(60, "large"))], author=author)

    assert Post.objects.count() == 91
    assert Link.objects.filter(source__slug__startswith="large").count() == 120
    assert Revision.objects.filter(post__slug__startswith="large").count() == 60
    assert Post.objects.get(title="Outside").broken_wikilinks == ""
    hits = find(parse("large 17")).ids
    assert Post.objects.get(pk=hits[0]).slug == "large-17"
    # The index written in bulk answers as one built from scratch does.
    searches = ["large", "shared", "large tag 2", "words"]
    written = [find(parse(q)).ids for q in searches]
    search.rebuild_index()
    assert [find(parse(q)).ids for q in searches] == written


def test_a_link_to_an_imported_post_dated_later_shows_nothing_of_it_yet(author, tmp_path):
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "later.md").write_text(
        "---\ntitle: The secret sequel\nslug: sequel\ndate: 2999-01-01\n---\nNot yet.\n"
    )
    (folder / "now.md").write_text(
        "---\ntitle: Out today\nslug: today\ndate: 2024-01-01\n---\nNext: [[sequel]].\n"
    )
    import_markdown([folder], author=author)
    today = Post.objects.get(slug="today")
    assert (
        "The secret sequel" not in today.body_html
        and 'href="/posts/sequel/"' not in today.body_html
    )
    assert today.broken_wikilink_list == ["sequel"]
    assert not Link.objects.filter(source=today).exists()
