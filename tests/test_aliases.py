"""Calling a note by another name: aliases, as Obsidian's `aliases:` gives them, resolve
[[wikilinks]] and embeds, are found as unlinked mentions, and travel through the admin, the API,
imports and exports."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notes import services
from notes.exporters import export_to_directory
from notes.importing import import_markdown
from notes.models import Link, Post
from tests.factories import admin_post_form, make_draft, make_post, make_user
from tests.test_api import Caller, token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def adam():
    return make_post("Adam optimiser", slug="adam", body="Moments.", aliases="Adam\nAdamW")


class TestLinkingByAlias:
    def test_a_wikilink_naming_an_alias_links_to_the_post_and_shows_the_alias(self, client, adam):
        post = make_post("Notes", body="Use [[adamw]], or [[Adam|the classic]], not [[Nadam]].")
        html = client.get(post.get_absolute_url()).text
        assert '<a class="wikilink" href="/posts/adam/">AdamW</a>' in html
        assert '<a class="wikilink" href="/posts/adam/">the classic</a>' in html
        assert post.broken_wikilink_list == ["Nadam"]
        assert Link.objects.filter(source=post, target=adam, from_wikilink=True).exists()

    def test_a_slug_or_title_wins_over_another_posts_alias(self, adam):
        other = make_post("Adam", slug="adam-smith", body="Economics.")
        post = make_post("Notes", body="[[Adam]]")
        assert f'href="{other.get_absolute_url()}"' in post.body_html

    def test_an_embed_naming_an_alias_shows_the_post(self, adam):
        post = make_post("Notes", body="![[AdamW]]")
        assert "Moments." in post.body_html and post.broken_wikilink_list == []

    def test_resolving_takes_two_queries_however_many_links(self, adam):
        for n in range(30):
            make_post(f"Other {n}", aliases=f"Alias {n}")
        targets = ["adam", "Adam optimiser", "AdamW", *[f"alias {n}" for n in range(30)], "nope"]
        with CaptureQueriesContext(connection) as queries:
            found = Post.objects.resolve_wikilinks(targets)
        assert len(queries) <= 3  # by slug or title; every alias; the posts the aliases named
        assert found["AdamW"].url == "/posts/adam/" and found["alias 7"].title == "Alias 7"
        assert "nope" not in found
        with CaptureQueriesContext(connection) as queries:
            Post.objects.resolve_wikilinks(["adam", "Adam optimiser"])
        assert len(queries) == 1  # no alias looked up when the names all resolve

    def test_adding_an_alias_mends_links_and_removing_it_breaks_them(self, adam):
        post = make_post("Notes", body="See [[Kingma and Ba]].")
        assert post.broken_wikilink_list == ["Kingma and Ba"]

        adam.aliases = "Adam\nKingma and Ba"
        services.save_post(adam)
        post.refresh_from_db()
        assert post.broken_wikilink_list == [] and 'href="/posts/adam/"' in post.body_html

        adam.aliases = "Adam"
        services.save_post(adam)
        post.refresh_from_db()
        assert post.broken_wikilink_list == ["Kingma and Ba"]

    def test_a_drafts_alias_resolves_nothing(self):
        make_draft("Secret plan", aliases="The plan")
        post = make_post("Notes", body="[[The plan]]")
        assert post.broken_wikilink_list == ["The plan"] and "Secret plan" not in post.body_html


class TestEditingAliases:
    def test_the_admin_form_keeps_one_alias_a_line(self, staff_client, staff_user):
        response = staff_client.post(
            "/admin/notes/post/add/",
            admin_post_form(
                title="Adam optimiser",
                aliases="  Adam \n\nadam\nAdam, the optimiser\n",
                author=str(staff_user.pk),
            ),
        )
        assert response.status_code == 302
        post = Post.objects.get(title="Adam optimiser")
        assert post.alias_list == ["Adam", "Adam, the optimiser"]
        page = staff_client.get(f"/admin/notes/post/{post.pk}/change/").text
        assert re.search(
            r'<textarea name="aliases"[^>]*>\s*Adam\nAdam, the optimiser</textarea>', page
        )

    @pytest.mark.parametrize(
        "aliases, message",
        [
            ("a|b", "holds one of [ ] | #"),
            ("x" * 201, "longer than 200 characters"),
            ("\n".join(f"name {n}" for n in range(21)), "at most 20 aliases"),
        ],
    )
    def test_the_admin_form_says_what_is_wrong(self, staff_client, staff_user, aliases, message):
        form = admin_post_form(title="Adam", aliases=aliases, author=str(staff_user.pk))
        response = staff_client.post("/admin/notes/post/add/", form)
        assert response.status_code == 200
        assert message in response.text
        assert not Post.objects.exists()

    def test_the_api_reads_and_writes_them(self, staff_user):
        writer = Caller(token_for(staff_user, "write"))
        made = writer.post("/posts/", {"title": "Adam", "body": "x", "aliases": ["AdamW", " "]})
        assert made.status_code == 201, made.json()
        assert made.json()["aliases"] == ["AdamW"]
        post_id, version = made.json()["id"], made.json()["version"]

        changed = writer.patch(f"/posts/{post_id}/", {"version": version, "aliases": ["Nadam"]})
        assert changed.json()["aliases"] == ["Nadam"]
        listed = writer.get("/posts/").json()["items"]
        assert listed[0]["aliases"] == ["Nadam"]
        refused = writer.patch(
            f"/posts/{post_id}/", {"version": changed.json()["version"], "aliases": ["a#b"]}
        )
        assert refused.status_code in {400, 422}
        assert Post.objects.get(pk=post_id).alias_list == ["Nadam"]


class TestMentionsByAlias:
    def test_a_mention_of_an_alias_is_listed_and_linked_by_slug(self, staff_client, adam):
        source = make_post("Training log", body="Switched to adamw today; Adam later.")
        page = staff_client.get(f"/admin/notes/post/{adam.pk}/change/").text
        listed = page[page.index('id="unlinked-mentions"') :]
        assert "Training log" in listed and "<mark>adamw</mark>" in listed

        staff_client.post(f"/admin/notes/post/{adam.pk}/mentions/{source.pk}/link/")

        source.refresh_from_db()
        assert source.body == "Switched to [[adam|adamw]] today; Adam later."
        assert 'href="/posts/adam/">adamw</a>' in source.body_html

    def test_the_longest_name_at_a_place_is_linked(self, adam):
        source = make_post("Log", body="The Adam optimiser, then Adam.")
        services.link_mention(source, adam)
        source.refresh_from_db()
        assert source.body == "The [[Adam optimiser]], then Adam."


class TestAliasesTravel:
    def test_an_obsidian_vault_brings_them_and_an_export_takes_them_back(
        self, tmp_path: Path, staff_user
    ):
        vault = tmp_path / "vault"
        (vault / ".obsidian").mkdir(parents=True)
        (vault / "Adam optimiser.md").write_text(
            "---\naliases: [Adam, 'Adam, the optimiser', 'a|b']\n---\nMoments.\n"
        )
        (vault / "Notes.md").write_text("---\nalias: Jottings\n---\nSee [[Adam]].\n")
        report = import_markdown([vault], author=staff_user)

        adam = Post.objects.get(title="Adam optimiser")
        assert adam.alias_list == ["Adam", "Adam, the optimiser"]
        assert any("alias 'a|b' left out" in str(note) for note in report.warnings)
        notes = Post.objects.get(title="Notes")
        assert notes.alias_list == ["Jottings"]
        assert notes.body.strip() == "See [[Adam]]."  # as written: kb resolves the alias
        assert adam.get_absolute_url() in notes.body_html

        export_to_directory(tmp_path / "out")
        exported = (tmp_path / "out" / f"{adam.slug}.md").read_text()
        assert "aliases: [Adam, 'Adam, the optimiser']" in exported
        Post.objects.all().delete()
        import_markdown([tmp_path / "out"], author=make_user("someone"))
        assert Post.objects.get(title="Adam optimiser").alias_list == [
            "Adam",
            "Adam, the optimiser",
        ]
