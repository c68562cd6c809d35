"""Writing in the admin, as the server sees it: plain-language errors, the action bar's
buttons and messages, the truthful delete page, `[[` completion, the preview's frame, the
admin's order, and the author's name wherever readers see it."""

from __future__ import annotations

import datetime
import json
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from notes import citation, services
from notes.models import AuthorProfile, Post, Series, TitleWord
from tests.factories import admin_post_form, link, make_draft, make_post, make_tag, make_user

ADD_URL = "/admin/notes/post/add/"
TARGETS_URL = "/admin/notes/post/link-targets/"


def change_url(post: Post) -> str:
    return f"/admin/notes/post/{post.pk}/change/"


def form_errors(response) -> dict[str, list[str]]:
    return {k: list(v) for k, v in response.context["adminform"].form.errors.items()}


@pytest.mark.django_db
class TestErrorsInPlainWords:
    def test_an_empty_form_says_what_is_missing_on_each_field_and_names_no_constraint(
        self, staff_client, staff_user
    ):
        response = staff_client.post(ADD_URL, admin_post_form(title="", body=""))
        assert response.status_code == 200
        errors = form_errors(response)
        assert errors["title"] == ["Give the post a title."]
        assert errors["body"] == ["Write something in the body."]
        assert "slug" not in errors
        assert "onstraint" not in response.text and "violated" not in response.text
        assert not Post.objects.exists()

    def test_a_slug_another_post_has_is_an_error_on_the_slug(self, staff_client, staff_user):
        make_post("Taken", slug="taken")
        form = admin_post_form(author=str(staff_user.pk), title="Another", slug="taken")
        response = staff_client.post(ADD_URL, form)
        assert form_errors(response)["slug"] == [
            "Another post already has this address; choose a different slug."
        ]

    def test_a_series_part_already_taken_is_an_error_on_the_part_number(
        self, staff_client, staff_user
    ):
        series = Series.objects.create(title="Diffusion", slug="diffusion")
        make_post("The forward process", series=series, series_order=1)
        form = admin_post_form(
            author=str(staff_user.pk), title="Reverse", series=str(series.pk), series_order="1"
        )
        response = staff_client.post(ADD_URL, form)
        assert form_errors(response)["series_order"] == [
            "Part 1 of “Diffusion” is already “The forward process”; choose another part number."
        ]
        assert "onstraint" not in response.text

    def test_every_database_constraint_has_a_sentence_of_its_own(self):
        from notes.models import Link, Tag

        # The models the admin's forms write; revisions and site state are written by kb.
        for model in (Post, Tag, Link, AuthorProfile):
            for constraint in model._meta.constraints:
                message = constraint.get_violation_error_message()
                assert constraint.name not in message, (model.__name__, constraint.name)


@pytest.mark.django_db
class TestTheActionBar:
    def test_publish_sets_the_date_and_the_message_links_to_the_live_post(
        self, staff_client, staff_user
    ):
        form = admin_post_form(author=str(staff_user.pk), title="Out now", _publish="1")
        response = staff_client.post(ADD_URL, form, follow=True)
        post = Post.objects.get(title="Out now")
        assert post.status == Post.Status.PUBLISHED and post.published_at is not None
        assert response.redirect_chain[-1][0] == change_url(post)
        message = str(next(iter(response.context["messages"])))
        assert re.search(
            r"Saved “Out now” at .*; it is live: <a href=\"/posts/out-now/\">", message
        )

    def test_save_draft_keeps_a_draft_and_links_to_its_preview(self, staff_client, staff_user):
        form = admin_post_form(author=str(staff_user.pk), title="Not yet", _continue="1")
        response = staff_client.post(ADD_URL, form, follow=True)
        post = Post.objects.get(title="Not yet")
        assert post.status == Post.Status.DRAFT and post.published_at is None
        message = str(next(iter(response.context["messages"])))
        assert "preview it</a> (only staff can see it)" in message
        assert f'href="{post.get_absolute_url()}"' in message

    def test_back_to_draft_takes_a_post_off_the_site(self, staff_client, staff_user):
        post = make_post("Live", author=staff_user)
        form = admin_post_form(
            author=str(staff_user.pk), title="Live", slug=post.slug, status="published",
            base_version=str(post.version), _unpublish="1",
        )  # fmt: skip
        staff_client.post(change_url(post), form)
        post.refresh_from_db()
        assert post.status == Post.Status.DRAFT

    def test_the_bar_offers_what_fits_the_post(self, staff_client, staff_user):
        draft = make_draft("Draft one", author=staff_user)
        page = staff_client.get(change_url(draft)).text
        assert "Save draft" in page and 'name="_publish"' in page and "Schedule…" in page
        assert "Preview on site" in page and ">History<" in page
        live = make_post("Live one", author=staff_user)
        page = staff_client.get(change_url(live)).text
        assert ">Update<" in page and 'name="_publish"' not in page and "View on site" in page


@pytest.mark.django_db
def test_the_delete_page_says_the_post_goes_to_the_trash_and_what_comes_back(staff_client):
    post = make_post("Doomed", tags=[make_tag("optics")])
    link(post, make_post("Elsewhere"))
    page = staff_client.get(f"/admin/notes/post/{post.pk}/delete/").text
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "takes it off the site at once. It stays in the trash for 30 days" in text
    assert "nothing is deleted until the trash is emptied" in text
    assert "1 tag(s): optics" in text and "1 cross-link(s) from it" in text
    assert "will be deleted" not in text and "Are you sure" not in text
    staff_client.post(f"/admin/notes/post/{post.pk}/delete/", {"post": "yes"})
    post.refresh_from_db()
    assert post.trashed_at is not None and post.tags.count() == 1


@pytest.mark.django_db
class TestLinkCompletion:
    def test_posts_whose_address_starts_as_typed_drafts_marked(self, staff_client):
        make_post("Counting attention", slug="counting-attention")
        make_draft("Counting sheep", slug="counting-sheep")
        make_post("Attention is all you need", slug="attention")
        trashed = make_post("Counting trashed", slug="counting-trashed")
        Post.objects.filter(pk=trashed.pk).update(trashed_at="2026-01-01T00:00:00Z")
        data = staff_client.get(TARGETS_URL, {"q": "Counting"}).json()
        assert data["results"] == [
            {"title": "Counting attention", "slug": "counting-attention", "draft": False},
            {"title": "Counting sheep", "slug": "counting-sheep", "draft": True},
        ]
        mine = Post.objects.get(slug="counting-sheep")
        data = staff_client.get(TARGETS_URL, {"q": "counting s", "exclude": mine.pk}).json()
        assert data["results"] == []

    def test_only_staff_may_ask(self, client, db):
        assert client.get(TARGETS_URL, {"q": "a"}).status_code == 302  # to the login page
        other = Client()
        other.force_login(make_user("reader"))
        assert other.get(TARGETS_URL, {"q": "a"}).status_code == 302

    @pytest.mark.parametrize("rows", [5, 60])
    def test_one_query_whatever_the_number_of_posts(
        self, staff_client, django_assert_max_num_queries, rows
    ):
        for n in range(rows):
            make_post(f"Note {n:03}", slug=f"note-{n:03}")
        # The session, the user, and the one query for the posts.
        with django_assert_max_num_queries(3):
            results = staff_client.get(TARGETS_URL, {"q": "note"}).json()["results"]
        assert len(results) == min(rows, 8)

    def test_the_query_reads_the_slug_index_not_the_table(self, staff_client):
        make_post("Counting attention", slug="counting-attention")
        with CaptureQueriesContext(connection) as queries:
            staff_client.get(TARGETS_URL, {"q": "count"})
        sql = next(q["sql"] for q in queries.captured_queries if "notes_post" in q["sql"])
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # A table this small is cheaper to scan; the question is whether it must be.
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute(f"EXPLAIN {sql}")
                plan = " ".join(row[0] for row in cursor.fetchall())
                # The prefix becomes a range on the slug's pattern index (`_like`).
                assert "~>=~ 'count'" in plan and "_like" in plan, plan
            else:
                cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
                plan = " ".join(str(row[-1]) for row in cursor.fetchall())
                assert "USING INDEX" in plan and "(slug>? AND slug<?)" in plan, plan

    def titles(self, client, text: str, **params) -> list[str]:
        found = client.get(TARGETS_URL, {"q": text, **params}).json()["results"]
        return [r["title"] for r in found]

    def test_any_word_of_the_title_as_typed_in_any_order(self, staff_client):
        make_post("Denoising Diffusion Models", slug="ddpm")
        make_post("Schrödinger bridges", slug="sb")
        make_post("Models of memory", slug="memory")
        assert self.titles(staff_client, "diff mod") == ["Denoising Diffusion Models"]
        assert self.titles(staff_client, "Mod Diffusion") == ["Denoising Diffusion Models"]
        assert self.titles(staff_client, "schrod") == ["Schrödinger bridges"]
        assert self.titles(staff_client, "diff modx") == []
        assert self.titles(staff_client, "models") == [
            "Models of memory",  # the title starts so
            "Denoising Diffusion Models",
        ]

    def test_the_title_first_then_titles_starting_so_then_slugs_then_words(self, staff_client):
        make_post("Denoising diffusion", slug="denoising")
        make_post("Notes on noise", slug="diffusion-notes")
        make_post("Diffusion models", slug="dm")
        make_post("Diffusion", slug="d")
        assert self.titles(staff_client, "diffusion") == [
            "Diffusion",
            "Diffusion models",
            "Notes on noise",
            "Denoising diffusion",
        ]

    def test_drafts_are_marked_trashed_posts_absent_and_renames_followed(self, staff_client):
        make_draft("Score matching, a draft", slug="score-draft")
        trashed = make_post("Score matching, trashed", slug="old")
        Post.objects.filter(pk=trashed.pk).update(trashed_at="2026-01-01T00:00:00Z")
        renamed = make_post("Langevin sampling", slug="langevin")
        renamed.title = "Annealed dynamics"
        services.save_post(renamed)
        data = staff_client.get(TARGETS_URL, {"q": "match sco"}).json()
        assert data["results"] == [
            {"title": "Score matching, a draft", "slug": "score-draft", "draft": True}
        ]
        assert self.titles(staff_client, "sampl") == []
        assert self.titles(staff_client, "anneal") == ["Annealed dynamics"]
        assert self.titles(staff_client, "langevin") == ["Annealed dynamics"]  # its slug

    def test_reindex_makes_the_title_words_again(self, staff_client):
        make_post("Denoising diffusion", slug="ddpm")
        TitleWord.objects.all().delete()  # as after rows loaded in bulk, past Post.save()
        assert self.titles(staff_client, "diff") == []
        call_command("reindex", verbosity=0)
        assert self.titles(staff_client, "diff") == ["Denoising diffusion"]

    @pytest.mark.parametrize("rows", [5, 60])
    def test_words_cost_one_query_whatever_the_number_of_posts(
        self, staff_client, django_assert_max_num_queries, rows
    ):
        for n in range(rows):
            make_post(f"Denoising diffusion, part {n:03}", slug=f"part-{n:03}")
        with django_assert_max_num_queries(3):  # the session, the user, the posts
            results = staff_client.get(TARGETS_URL, {"q": "diff part"}).json()["results"]
        assert len(results) == min(rows, 8)

    def test_the_words_are_read_from_their_index(self, staff_client):
        make_post("Denoising diffusion models", slug="ddpm")
        with CaptureQueriesContext(connection) as queries:
            staff_client.get(TARGETS_URL, {"q": "diff"})
        sql = next(q["sql"] for q in queries.captured_queries if "notes_titleword" in q["sql"])
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute(f"EXPLAIN {sql}")
                plan = " ".join(row[0] for row in cursor.fetchall())
                assert "~>=~ 'diff'" in plan and "notes_titleword_word" in plan, plan
            else:
                cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
                plan = " ".join(str(row[-1]) for row in cursor.fetchall())
                assert "INDEX notes_titleword_word" in plan and "(word>? AND word<?)" in plan
                assert "SCAN" not in plan, plan


@pytest.mark.django_db
def test_the_preview_frame_is_staff_only_framed_by_kb_alone_and_styled_as_the_site(
    client, staff_client
):
    assert client.get("/admin/notes/post/preview-frame/").status_code == 302
    response = staff_client.get("/admin/notes/post/preview-frame/")
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in response["Content-Security-Policy"]
    sheets = re.findall(r'<link rel="stylesheet" href="/static/css/([\w.-]+)"', response.text)
    assert sheets == ["site.css", "math.css", "pygments.css", "post.css", "connections.css"]
    post_page = staff_client.get(make_post("Styled").get_absolute_url()).text
    for sheet in sheets:  # every stylesheet the preview loads, the post page loads too
        assert f"/static/css/{sheet}" in post_page


@pytest.mark.django_db
def test_the_admin_lists_the_notes_first_and_the_login_records_last(staff_client):
    page = staff_client.get("/admin/").text
    captions = re.findall(r"<caption>\s*<a [^>]*>([^<]+)</a>", page)
    assert captions[0] == "Notes" and captions[-1] == "Login throttling (records)"
    notes = page[page.index("app-notes") : page.index("app-auth")]
    rows = re.findall(r'<th scope="row"[^>]*>\s*<a [^>]*>([^<]+)</a>', notes)
    assert rows[:6] == ["Posts", "Drafts", "Tags", "Series", "Links", "Trash"]


@pytest.mark.django_db
def test_the_post_list_shows_minutes_no_date_for_drafts_and_a_link_to_each_post(
    staff_client,
):
    make_post("Published one", body="word " * 600)
    make_draft("Draft one")
    page = staff_client.get("/admin/notes/post/").text
    rows = {
        m[0]: m[1] for m in re.findall(r"<tr>.*?>(Published one|Draft one)<(.*?)</tr>", page, re.S)
    }
    assert "3 min" in rows["Published one"] and ">View</a>" in rows["Published one"]
    assert '<td class="field-publication">Draft</td>' in rows["Draft one"]
    assert ">Preview</a>" in rows["Draft one"]


@pytest.mark.django_db
class TestTheAuthorsName:
    def test_the_profile_name_then_the_full_name_then_the_username(self):
        user = make_user("ada", first_name="Augusta", last_name="King")
        post = make_post("Notes", author=user)
        assert Post.objects.get(pk=post.pk).author_name == "Augusta King"
        AuthorProfile.objects.create(user=user, display_name="Ada Lovelace")
        assert Post.objects.for_listing().get(pk=post.pk).author_name == "Ada Lovelace"
        bare = make_post("Bare", author=make_user("plain"))
        assert bare.author_name == "plain"

    def test_byline_cite_as_bibtex_json_ld_and_feed_print_the_profile_name(self, client):
        user = make_user("ada", first_name="Augusta", last_name="King")
        AuthorProfile.objects.create(user=user, display_name="Ada Lovelace", bio="Analyst.")
        post = make_post("On engines", author=user)
        page = client.get(post.get_absolute_url()).text
        assert '<span class="author">Ada Lovelace</span>' in page
        url = "https://x.example/posts/on-engines/"
        cite = citation.citation_for(post, url, "kb", datetime.date(2026, 12, 1))
        assert cite.text.startswith("Ada Lovelace. (")
        assert re.search(r"author\s+= \{Ada Lovelace\}", cite.bibtex)
        assert cite.bibtex.startswith("@misc{lovelace")
        ld = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
        assert json.loads(ld.group(1))["author"]["name"] == "Ada Lovelace"
        assert "Ada Lovelace" in client.get("/feed/").text
        assert "Augusta" not in page

    def test_the_editor_asks_for_a_name_until_there_is_one(self, db):
        user = make_user("nameless", staff=True, is_superuser=True)
        staff = Client()
        staff.force_login(user)
        assert "Readers will see this post as written by “nameless”" in staff.get(ADD_URL).text
        AuthorProfile.objects.create(user=user, display_name="Named at last")
        assert "Readers will see this post" not in staff.get(ADD_URL).text

    @pytest.mark.usefixtures("no_page_cache")
    @pytest.mark.parametrize("rows", [3, 30])
    def test_names_from_profiles_cost_no_query_per_post(
        self, client, django_assert_max_num_queries, rows
    ):
        for n in range(rows):
            author = make_user(f"writer{n}")
            AuthorProfile.objects.create(user=author, display_name=f"Writer {n}")
            make_post(author=author)
        with django_assert_max_num_queries(4):
            assert client.get("/").status_code == 200
        with django_assert_max_num_queries(4):
            assert client.get("/feed/").status_code == 200


@pytest.mark.django_db
def test_a_post_saved_by_the_services_keeps_its_author_name(staff_user):
    post = make_post("Kept", author=staff_user)
    services.save_post(post)
    assert post.author_name == "Edith Editor"
