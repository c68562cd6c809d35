"""The author links notes together with [[wikilinks]]; readers follow them both ways."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from notes import services
from notes.models import Link, Post
from tests.factories import link, make_draft, make_post

pytestmark = pytest.mark.django_db


def wikilink_targets(post: Post) -> list[tuple[str, bool]]:
    return sorted(
        (row.target.slug, row.from_wikilink) for row in post.outgoing_links.select_related("target")
    )


def refreshed(post: Post) -> Post:
    return Post.objects.get(pk=post.pk)


class TestWikilinks:
    def test_slug_title_and_label_forms_become_links_and_link_rows(self):
        adam = make_post("Adam, explained", slug="adam")
        gp = make_post("Gaussian processes")
        post = make_post(
            body="See [[adam]], [[Gaussian Processes]] and [[adam|the optimizer note]]."
        )

        assert f'href="{adam.get_absolute_url()}"' in post.body_html
        assert f'href="{gp.get_absolute_url()}"' in post.body_html
        assert "the optimizer note</a>" in post.body_html
        assert wikilink_targets(post) == [("adam", True), ("gaussian-processes", True)]

    def test_removing_a_wikilink_removes_its_row_but_keeps_hand_made_links(self):
        make_post("A")
        b, c = make_post("B"), make_post("C")
        post = make_post(body="[[a]] and [[b]]")
        link(post, c, note="see also")

        post.body = "Only [[a]] now."
        services.save_post(post)

        assert wikilink_targets(post) == [("a", True), ("c", False)]
        assert not post.outgoing_links.filter(target=b).exists()

    def test_a_hand_made_link_to_the_same_target_is_not_duplicated(self):
        target = make_post("Target")
        post = make_post("Source")
        link(post, target, note="by hand")
        post.body = "Now also [[target]]."
        services.save_post(post)
        assert Link.objects.filter(source=post, target=target).count() == 1
        post.body = "Gone again."
        services.save_post(post)
        assert Link.objects.get(source=post, target=target).note == "by hand"

    def test_wikilinks_inside_code_are_not_links(self):
        make_post("Target")
        post = make_post(body="`[[target]]`\n\n```\n[[target]]\n```")
        assert not post.outgoing_links.exists()
        assert "wikilink" not in post.body_html

    def test_a_post_linking_to_itself_makes_no_link_row(self):
        post = make_post("Self reference", body="This is [[self-reference]].")
        assert not post.outgoing_links.exists()


class TestBrokenWikilinks:
    def test_missing_target_renders_visibly_broken_and_is_listed(self, staff_client):
        post = make_post("Source", body="Read [[a note not written yet]] later.")

        assert "wikilink-broken" in post.body_html
        assert post.broken_wikilink_list == ["a note not written yet"]
        changelist = staff_client.get(
            reverse("admin:notes_post_changelist") + "?wikilinks=broken"
        ).text
        assert "Source" in changelist
        change = staff_client.get(reverse("admin:notes_post_change", args=[post.pk])).text
        assert "[[a note not written yet]]" in change

    def test_creating_the_missing_target_brings_the_link_to_life(self, client):
        source = make_post("Source", body="Read [[later-note]] when it exists.")

        target = make_post("Later note", slug="later-note")

        source = refreshed(source)
        assert "wikilink-broken" not in source.body_html
        assert f'href="{target.get_absolute_url()}"' in source.body_html
        assert source.broken_wikilinks == ""
        backlinks = client.get(target.get_absolute_url()).text.split('id="backlinks"')[1]
        assert "Source" in backlinks

    def test_a_wikilink_to_a_draft_stays_broken_and_hides_its_title(self, client):
        draft = make_draft("Secret plans", slug="secret")
        source = make_post("Source", body="See [[secret]].")

        assert "Secret plans" not in client.get(source.get_absolute_url()).text
        assert "wikilink-broken" in source.body_html

        services.publish([draft])

        source = refreshed(source)
        assert f'href="{draft.get_absolute_url()}"' in source.body_html
        assert "Secret plans" in client.get(source.get_absolute_url()).text


class TestLinksFollowTheTarget:
    def test_renaming_the_target_carries_wikilinks_along(self, client):
        target = make_post("Old title", slug="old")
        by_slug = make_post("By slug", body="See [[old|the note]] and [[old#h-part]].")
        by_title = make_post("By title", body="See [[old title]].")
        unrelated = make_post("Unrelated", body="An old idea, [[not a link]].")

        target = refreshed(target)
        target.title = "New title"
        target.slug = "new"
        services.save_post(target)

        assert refreshed(by_slug).body == "See [[new|the note]] and [[new#h-part]]."
        assert refreshed(by_title).body == "See [[New title]]."
        assert refreshed(unrelated).body == "An old idea, [[not a link]]."
        for source in (by_slug, by_title):
            assert 'href="/posts/new/' in refreshed(source).body_html
            assert "wikilink-broken" not in refreshed(source).body_html
        backlinks = client.get("/posts/new/").text.split('id="backlinks"')[1]
        assert "By slug" in backlinks and "By title" in backlinks

    def test_renaming_the_title_relabels_title_links(self):
        target = make_post("Old title", slug="stable")
        source = make_post("Source", body="See [[stable]].")
        target.title = "Better title"
        services.save_post(target)
        assert "Better title" in refreshed(source).body_html

    def test_deleting_the_target_breaks_links_to_it(self, client):
        target = make_post("Doomed", slug="doomed")
        source = make_post("Source", body="See [[doomed]].")

        services.delete_post(target)

        source = refreshed(source)
        assert "wikilink-broken" in source.body_html
        assert not Link.objects.exists()
        assert 'href="/posts/doomed/"' not in client.get(source.get_absolute_url()).text

    def test_unpublishing_the_target_breaks_links_to_it(self):
        target = make_post("Withdrawn", slug="withdrawn")
        source = make_post("Source", body="See [[withdrawn]].")
        services.unpublish([target])
        assert "wikilink-broken" in refreshed(source).body_html


class TestRerenderCommand:
    def test_rerender_rebuilds_every_posts_stored_html(self, capsys):
        posts = [make_post(body=f"**bold {i}**") for i in range(5)]
        Post.objects.update(body_html="stale", toc_html="stale", reading_time=99)

        call_command("rerender", batch_size=2)

        out = capsys.readouterr().out
        assert "Rendered 2/5 posts" in out and "Re-rendered 5 posts." in out
        for post in posts:
            fresh = refreshed(post)
            assert "<strong>" in fresh.body_html and fresh.reading_time == 1
            assert fresh.toc_html == ""
