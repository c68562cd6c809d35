"""What the author does in the admin: write, tag, link, publish — and who may not."""

import pytest
from django.urls import reverse
from django.utils import timezone

from notes import trash
from notes.models import Link, Post, SiteSettings, Tag
from tests.factories import admin_post_form, link, make_draft, make_post, make_tag, make_user

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/notes/post/add/"


def post_form(**overrides) -> dict:
    defaults = {
        "title": "Notes on score matching",
        "status": "published",
        "body": "Score matching fits $\\nabla_x \\log p(x)$ directly.",
    }
    return admin_post_form(**(defaults | overrides))


class TestWritingInTheAdmin:
    def test_staff_creates_a_post_with_tags_and_links_and_it_appears_on_the_site(
        self, staff_client, staff_user, client
    ):
        existing_tag = make_tag("generative models")
        target = make_post("Denoising diffusion")

        response = staff_client.post(
            ADD_URL,
            post_form(
                author=str(staff_user.pk),
                # The one tag field: an existing tag by id, new ones by name.
                tags=[str(existing_tag.pk), "score matching", "Generative Models"],
                **{
                    "outgoing_links-TOTAL_FORMS": "1",
                    "outgoing_links-0-target": str(target.pk),
                    "outgoing_links-0-note": "the sampler",
                },
            ),
        )

        assert response.status_code == 302, response.context["errors"] if response.context else ""
        post = Post.objects.get(title="Notes on score matching")
        assert post.slug == "notes-on-score-matching"
        assert post.status == "published" and post.published_at is not None
        assert sorted(t.name for t in post.tags.all()) == ["generative models", "score matching"]
        assert Tag.objects.filter(name__iexact="generative models").count() == 1
        assert list(post.outgoing_links.values_list("target__title", "note")) == [
            ("Denoising diffusion", "the sampler")
        ]

        page = client.get(post.get_absolute_url())
        assert page.status_code == 200
        assert "Notes on score matching" in client.get("/").text
        assert "score matching" in page.text
        backlinks = client.get(target.get_absolute_url()).text.split('id="backlinks"')[1]
        assert "Notes on score matching" in backlinks

    def test_author_defaults_to_the_logged_in_user(self, staff_client, staff_user):
        response = staff_client.get(ADD_URL)
        assert f'<option value="{staff_user.pk}" selected>' in response.text

    def test_a_draft_stays_off_the_site(self, staff_client, staff_user, client):
        staff_client.post(ADD_URL, post_form(author=str(staff_user.pk), status="draft"))
        post = Post.objects.get()
        assert post.published_at is None
        assert client.get(post.get_absolute_url()).status_code == 404

    def test_form_errors_are_shown_not_500(self, staff_client, staff_user):
        make_post("Taken", slug="taken")
        response = staff_client.post(
            ADD_URL,
            post_form(author=str(staff_user.pk), title="", slug="taken", body="x\x00y"),
        )
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors
        assert "title" in errors and "slug" in errors and "body" in errors
        assert Post.objects.count() == 1

    def test_body_over_the_size_limit_is_refused(self, staff_client, staff_user):
        from notes.models import MAX_BODY_CHARS

        response = staff_client.post(
            ADD_URL, post_form(author=str(staff_user.pk), body="a" * (MAX_BODY_CHARS + 1))
        )
        assert response.status_code == 200
        assert "body" in response.context["adminform"].form.errors
        assert not Post.objects.exists()

    def test_a_body_the_renderer_refuses_is_a_form_error(self, staff_client, staff_user):
        response = staff_client.post(
            ADD_URL, post_form(author=str(staff_user.pk), body="[" * 20_000)
        )
        assert response.status_code == 200
        assert "the limit is 10,000" in str(response.context["adminform"].form.errors["body"])
        assert not Post.objects.exists()

    def test_bulk_publish_and_unpublish(self, staff_client, client):
        drafts = [make_draft(f"Draft {i}") for i in range(2)]
        changelist = reverse("admin:notes_post_changelist")

        staff_client.post(
            changelist,
            {"action": "publish_selected", "_selected_action": [d.pk for d in drafts]},
        )
        assert all(client.get(d.get_absolute_url()).status_code == 200 for d in drafts)
        assert all(p.published_at for p in Post.objects.all())

        staff_client.post(
            changelist,
            {"action": "unpublish_selected", "_selected_action": [drafts[0].pk]},
        )
        assert client.get(drafts[0].get_absolute_url()).status_code == 404

    def test_changelist_search_and_filters_work(self, staff_client):
        tag = make_tag("kernels")
        make_post("Gaussian processes", tags=[tag])
        make_draft("Unrelated")
        changelist = reverse("admin:notes_post_changelist")
        assert "Gaussian processes" in staff_client.get(changelist + "?q=gaussian").text
        filtered = staff_client.get(changelist + "?status__exact=draft").text
        assert "Unrelated" in filtered and "Gaussian processes" not in filtered
        assert (
            "Gaussian processes" in staff_client.get(changelist + f"?tags__id__exact={tag.pk}").text
        )

    def test_view_on_site_link(self, staff_client):
        post = make_post("Linked")
        change = staff_client.get(reverse("admin:notes_post_change", args=[post.pk]))
        assert (
            reverse(
                "admin:view_on_site",
                args=[
                    __import__("django.contrib.contenttypes.models", fromlist=["ContentType"])
                    .ContentType.objects.get_for_model(Post)
                    .pk,
                    post.pk,
                ],
            )
            in change.text
        )

    def test_tag_autocomplete_finds_tags(self, staff_client):
        make_tag("reinforcement learning")
        response = staff_client.get(
            "/admin/autocomplete/",
            {"term": "reinf", "app_label": "notes", "model_name": "post", "field_name": "tags"},
        )
        assert [r["text"] for r in response.json()["results"]] == ["reinforcement learning"]

    def test_deleting_a_post_in_the_admin_moves_it_to_the_trash(self, staff_client, client):
        a, b = make_post("A"), make_post("B", slug="b")
        link(a, b)
        staff_client.post(reverse("admin:notes_post_delete", args=[b.pk]), {"post": "yes"})
        assert client.get("/posts/b/").status_code == 404
        assert Post.objects.trashed().filter(pk=b.pk).exists()
        trash.empty_trash()
        assert not Post.objects.filter(pk=b.pk).exists()
        assert not Link.objects.exists()


class TestTextPastedFromPdfs:
    """Form feeds and vertical tabs come with text copied out of PDFs; XML cannot carry them."""

    def test_the_admin_stores_page_breaks_as_line_breaks_and_drops_other_controls(
        self, staff_client, staff_user, client
    ):
        response = staff_client.post(
            ADD_URL,
            post_form(
                author=str(staff_user.pk),
                title="Scaling\x0claws",
                body="Page one.\x0cPage two.\x0bThree\x07.",
                summary="From a \x1bPDF.",
                tags=["pdf\x0cnotes"],
            ),
        )

        assert response.status_code == 302
        post = Post.objects.get()
        assert (post.title, post.body, post.summary) == (
            "Scaling laws",
            "Page one.\nPage two.\nThree.",
            "From a PDF.",
        )
        assert [t.name for t in post.tags.all()] == ["pdf notes"]
        assert client.get("/feed/").status_code == 200

    def test_the_preview_shows_what_saving_will_store(self, staff_client):
        response = staff_client.post(
            "/admin/markdownx/markdownify/", {"content": "one\x0ctwo\x0b\x01"}
        )
        assert response.status_code == 200
        assert "one\ntwo" in response.text and "\x0c" not in response.text
        assert "\x01" not in response.text


class TestWhoMayEdit:
    @pytest.mark.parametrize(
        "path", ["/admin/", ADD_URL, "/admin/notes/tag/", "/admin/notes/post/1/change/"]
    )
    def test_anonymous_visitors_are_sent_to_login(self, client, path):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")

    def test_non_staff_users_cannot_enter_the_admin(self, client):
        client.force_login(make_user("reader"))
        assert client.get("/admin/").status_code == 302

    @pytest.mark.parametrize("path", ["/admin/markdownx/markdownify/", "/admin/markdownx/upload/"])
    def test_markdownx_endpoints_refuse_anonymous_users(self, client, path):
        response = client.post(path, {"content": "<b>hello</b> **world**"})
        assert response.status_code in (302, 403)
        assert "<strong>world</strong>" not in response.text
        assert "/admin/login/" in response.get("Location", "/admin/login/")

    def test_markdownx_default_routes_are_not_mounted(self, client):
        assert client.post("/markdownx/markdownify/", {"content": "**x**"}).status_code == 404


class TestPreview:
    def test_preview_renders_through_the_pipeline(self, staff_client):
        response = staff_client.post("/admin/markdownx/markdownify/", {"content": "**bold**"})
        assert response.status_code == 200
        assert "<strong>bold</strong>" in response.text

    def test_preview_matches_the_stored_html(self, staff_client):
        body = "## Heading\n\nText with `code` and a [link](https://example.org)."
        post = make_post(body=body)
        response = staff_client.post("/admin/markdownx/markdownify/", {"content": body})
        assert post.body_html in response.text

    def test_preview_without_content_is_400(self, staff_client):
        assert staff_client.post("/admin/markdownx/markdownify/", {}).status_code == 400

    def test_oversized_preview_is_refused(self, staff_client):
        from notes.models import MAX_BODY_CHARS

        response = staff_client.post(
            "/admin/markdownx/markdownify/", {"content": "a" * (MAX_BODY_CHARS + 1)}
        )
        assert response.status_code == 413
        assert "limit" in response.text

    def test_preview_is_post_only(self, staff_client):
        assert staff_client.get("/admin/markdownx/markdownify/").status_code == 405


class TestPublishing:
    def test_first_publish_sets_the_date_and_a_given_date_is_kept(self):
        post = make_draft("Later")
        assert post.published_at is None
        post.status = Post.Status.PUBLISHED
        post.save()
        assert post.published_at is not None

        chosen = timezone.now() - timezone.timedelta(days=400)
        other = make_post("Backdated", published_at=chosen)
        assert other.published_at == chosen

    def test_unpublishing_keeps_the_original_date(self):
        post = make_post("Once public")
        first = post.published_at
        post.status = Post.Status.DRAFT
        post.save()
        post.status = Post.Status.PUBLISHED
        post.save()
        assert post.published_at == first


class TestSiteSettings:
    """The site's name and description are the author's to change, without a shell."""

    def test_a_fresh_site_reads_its_name_from_the_environment(self, client, settings):
        settings.KB_SITE_TITLE = "Field notes"
        make_post("Hello")
        assert "<title>Field notes</title>" in client.get("/").text

    def test_the_settings_page_is_the_one_row_and_changes_every_page_at_once(
        self, staff_client, client
    ):
        post = make_post("Attention is all you need, annotated")
        assert client.get("/").status_code == 200  # cached under the old name
        response = staff_client.get("/admin/notes/sitesettings/")
        assert response.status_code == 302
        change_url = response["Location"]
        assert staff_client.get(change_url).status_code == 200
        response = staff_client.post(
            change_url,
            {
                "title": "Ada's notebook",
                "description": "What I read, worked through.",
                "author_name": "Ada Lovelace",
                "intro": "I write about *learning machines*.",
                "math_preamble": "",
            },
        )
        assert response.status_code == 302
        home = client.get("/").text
        assert "<title>Ada&#x27;s notebook</title>" in home
        assert "What I read, worked through." in home
        feed = client.get("/feed/").text
        assert (
            "<title>Ada&#x27;s notebook</title>" in feed or "<title>Ada's notebook</title>" in feed
        )
        page = client.get(post.get_absolute_url()).text
        assert "Ada&#x27;s notebook" in page
        assert (
            SiteSettings.objects.get().intro_html
            == "<p>I write about <em>learning machines</em>.</p>\n"
        )

    def test_there_is_no_second_row_and_no_delete(self, staff_client):
        assert staff_client.get("/admin/notes/sitesettings/add/").status_code == 403
        SiteSettings.objects.create()
        url = reverse("admin:notes_sitesettings_delete", args=[SiteSettings.ROW])
        assert staff_client.post(url, {"post": "yes"}).status_code == 403
        assert SiteSettings.objects.count() == 1
