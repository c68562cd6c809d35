"""Ctrl+S in the editor, as the server sees it: the change form sent with fetch is saved the
way "Update" saves it (rendering, links, revisions, the page cache's token), and the answer is
JSON the editor's bar reads, with the version the next save starts from, an edit conflict in
the form's own words, or the form's errors."""

from __future__ import annotations

import re

import pytest

from notes import services, site_state
from notes.models import Link, Post, Tag
from tests.factories import admin_post_form, make_post

IN_PLACE = {"HTTP_X_KB_SAVE": "in-place", "HTTP_ACCEPT": "application/json"}


def change_url(post: Post) -> str:
    return f"/admin/notes/post/{post.pk}/change/"


def ctrl_s(client, post: Post, version: int, **fields):
    """What save.js sends: the whole form, `_continue` as the Update button does."""
    form = admin_post_form(
        author=str(post.author_id), title=post.title, slug=post.slug, body=post.body,
        status=post.status, base_version=str(version), _continue="1",
    ) | fields  # fmt: skip
    return client.post(change_url(post), form, **IN_PLACE)


@pytest.mark.django_db
class TestCtrlS:
    def test_saves_like_update_and_answers_with_the_time_and_the_next_version(
        self, staff_client, staff_user
    ):
        target = make_post("Counting attention", slug="counting-attention")
        post = make_post("Mine", body="First words.", author=staff_user)
        revisions = post.revisions.count()
        token = site_state.current().token

        response = ctrl_s(
            staff_client,
            post,
            post.version,
            body="Now with [[counting-attention]] and [[nowhere]].",
        )
        assert response.status_code == 200
        data = response.json()
        post.refresh_from_db()
        assert data["saved"] is True and data["version"] == post.version
        assert re.fullmatch(r"\d\d:\d\d", data["at"])
        assert post.body == "Now with [[counting-attention]] and [[nowhere]]."
        assert 'href="/posts/counting-attention/"' in post.body_html  # rendered on save
        assert Link.objects.filter(source=post, target=target, from_wikilink=True).exists()
        assert post.revisions.count() == revisions + 1
        assert post.revisions.first().body == post.body
        assert site_state.current().token != token  # cached pages are stale now
        # The save's warning comes with the answer, not on the next page the author opens.
        assert data["warnings"] == [
            "“Mine” has wikilinks to posts that do not exist (yet): [[nowhere]]"
        ]
        assert list(staff_client.get(change_url(post)).context["messages"]) == []

    def test_a_second_save_from_the_version_it_was_given_saves_too(self, staff_client, staff_user):
        post = make_post("Mine", body="One.", author=staff_user)
        version = ctrl_s(staff_client, post, post.version, body="One. Two.").json()["version"]
        second = ctrl_s(staff_client, post, version, body="One. Two. Three.")
        assert second.status_code == 200 and second.json()["saved"] is True
        post.refresh_from_db()
        assert post.body == "One. Two. Three." and post.revisions.count() == 3

    def test_a_new_tag_saved_twice_is_one_tag(self, staff_client, staff_user):
        post = make_post("Tagged", author=staff_user)
        # select2's tagging mode sends a new tag by its name, and goes on sending the name.
        first = ctrl_s(staff_client, post, post.version, tags=["score matching"])
        ctrl_s(staff_client, post, first.json()["version"], tags=["score matching"])
        assert list(post.tags.values_list("name", flat=True)) == ["score matching"]
        assert Tag.objects.count() == 1

    def test_a_save_in_between_is_a_conflict_in_the_forms_words_and_nothing_is_saved(
        self, staff_client, staff_user
    ):
        post = make_post("Shared", body="The first words.", author=staff_user)
        opened = post.version
        post.body = "Their words."
        services.save_post(post)

        response = ctrl_s(staff_client, post, opened, body="The first words. My words.")
        assert response.status_code == 409
        data = response.json()
        assert data["saved"] is False and data["conflict"] is True
        assert "saved elsewhere" in data["errors"][0]
        assert 'id="edit-conflict"' in data["conflict_html"]
        assert "saved elsewhere" in data["conflict_html"]
        assert "<del>\u2212 Their words.</del>" in data["conflict_html"]
        assert "<ins>+ The first words. My words.</ins>" in data["conflict_html"]
        post.refresh_from_db()
        assert post.body == "Their words."
        # Saving again from the version now shown, having seen the difference, is deliberate.
        assert data["version"] == post.version
        again = ctrl_s(staff_client, post, data["version"], body="The first words. My words.")
        assert again.json()["saved"] is True
        post.refresh_from_db()
        assert post.body == "The first words. My words."

    def test_errors_come_back_in_words_and_nothing_is_saved(self, staff_client, staff_user):
        post = make_post("Named", author=staff_user)
        response = ctrl_s(staff_client, post, post.version, title="", body="")
        assert response.status_code == 400
        data = response.json()
        assert data["saved"] is False and data["conflict"] is False
        assert "Title: Give the post a title." in data["errors"]
        assert "Body: Write something in the body." in data["errors"]
        post.refresh_from_db()
        assert post.title == "Named"

    def test_a_row_the_page_shows_gone_by_the_save_asks_for_a_fresh_page(
        self, staff_client, staff_user
    ):
        make_post("Counting attention", slug="counting-attention")
        post = make_post("Mine", body="See [[counting-attention]].", author=staff_user)
        link = Link.objects.get(source=post)
        # The page shows the row made from the wikilink, and sends it back as it is.
        shown = {
            "outgoing_links-TOTAL_FORMS": "1", "outgoing_links-INITIAL_FORMS": "1",
            "outgoing_links-0-id": str(link.pk), "outgoing_links-0-source": str(post.pk),
            "outgoing_links-0-target": str(link.target_id), "outgoing_links-0-note": "",
        }  # fmt: skip
        kept = ctrl_s(staff_client, post, post.version, body="See [[counting-attention]]!", **shown)
        assert kept.json()["reload"] is False

        post.refresh_from_db()
        gone = ctrl_s(staff_client, post, post.version, body="No link now.", **shown)
        data = gone.json()
        assert data["saved"] is True and data["reload"] is True
        assert not Link.objects.filter(pk=link.pk).exists()
        # The fresh page says it was saved, and holds no row to send again.
        page = staff_client.get(change_url(post))
        assert "Saved “Mine”" in str(next(iter(page.context["messages"])))
        links_shown = page.context["inline_admin_formsets"][0].formset
        assert links_shown.prefix == "outgoing_links" and links_shown.initial_form_count() == 0

    def test_only_staff_may_save(self, client, staff_user):
        post = make_post("Mine", body="Kept.", author=staff_user)
        response = ctrl_s(client, post, post.version, body="Changed.")
        assert response.status_code == 302 and "/login/" in response["Location"]
        post.refresh_from_db()
        assert post.body == "Kept."

    def test_without_the_header_update_still_goes_back_to_the_page(self, staff_client, staff_user):
        post = make_post("Mine", author=staff_user)
        form = admin_post_form(
            author=str(staff_user.pk), title="Mine", slug=post.slug, status=post.status,
            base_version=str(post.version), _continue="1",
        )  # fmt: skip
        response = staff_client.post(change_url(post), form)
        assert response.status_code == 302 and response["Location"] == change_url(post)
