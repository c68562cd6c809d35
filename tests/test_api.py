"""Scripting kb through the API: tokens, reading and writing posts with the admin's guarantees,
tags, series, links, update notes, search, limits and the schema."""

import datetime
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone
from openapi_spec_validator import validate

from notes.models import Link, Post, Series, Tag, UpdateNote
from notes.models.tokens import ApiToken, hash_secret
from tests.api_callers import API, Caller, token_for
from tests.factories import link, make_draft, make_post, make_tag, make_user

pytestmark = pytest.mark.django_db


class TestTokens:
    def test_a_token_is_stored_only_as_its_hash(self, staff_user):
        token, secret = ApiToken.issue(user=staff_user, name="laptop", scope="read")
        stored = ApiToken.objects.get(pk=token.pk)
        assert secret.startswith("kb_") and len(secret) > 40
        assert stored.key_hash == hash_secret(secret) and secret not in str(stored.__dict__)
        assert secret.startswith(stored.prefix)

    def test_the_admin_shows_a_new_token_once_and_logs_it(self, staff_client, staff_user):
        response = staff_client.post(
            "/admin/notes/apitoken/add/",
            {"name": "editor plugin", "scope": "write", "expires_at_0": "", "expires_at_1": ""},
        )
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        secret = re.search(r'value="(kb_[^"]+)"', response.text).group(1)
        token = ApiToken.objects.get(name="editor plugin")
        assert token.user == staff_user and token.key_hash == hash_secret(secret)
        assert Caller(secret).get("/posts/").status_code == 200
        # Never again: the token's page shows its prefix, not the secret.
        page = staff_client.get(f"/admin/notes/apitoken/{token.pk}/change/").text
        assert token.prefix in page and secret not in page
        assert LogEntry.objects.filter(object_id=str(token.pk), action_flag=1).exists()

    def test_revoking_in_the_admin_stops_the_token_and_is_in_the_history(
        self, staff_client, staff_user
    ):
        token, secret = ApiToken.issue(user=staff_user, name="old script", scope="write")
        response = staff_client.post(
            "/admin/notes/apitoken/",
            {"action": "revoke_selected", "_selected_action": [str(token.pk)]},
            follow=True,
        )
        assert "Revoked 1 token(s)." in response.text
        refused = Caller(secret).get("/posts/")
        assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
        entry = LogEntry.objects.get(object_id=str(token.pk), action_flag=2)
        assert "Revoked" in entry.get_change_message()

    def test_staff_see_only_their_own_tokens_in_the_admin(self, staff_user):
        colleague = make_user("colleague", staff=True)
        colleague.user_permissions.add(*Permission.objects.filter(codename__endswith="_apitoken"))
        ApiToken.issue(user=staff_user, name="the editor's", scope="write")
        ApiToken.issue(user=colleague, name="the colleague's", scope="read")
        browser = Client()
        browser.force_login(colleague)
        page = browser.get("/admin/notes/apitoken/").text
        assert "the colleague&#x27;s" in page and "the editor&#x27;s" not in page

    def test_last_use_is_recorded(self, staff_user):
        token, secret = ApiToken.issue(user=staff_user, name="t", scope="read")
        Caller(secret).get("/posts/")
        token.refresh_from_db()
        assert token.last_used_at is not None
        assert timezone.now() - token.last_used_at < datetime.timedelta(minutes=1)

    def test_a_token_of_someone_no_longer_staff_is_refused(self):
        user = make_user("former", staff=True)
        secret = token_for(user, "write")
        user.is_staff = False
        user.save()
        assert Caller(secret).get("/posts/").status_code == 401

    def test_nonsense_in_the_header_is_a_401_not_a_500(self, anonymous):
        for value in [
            "Bearer",
            "Bearer kb_",
            "Bearer " + "x" * 5000,
            "Basic abc",
            "Bearer kb_\u00e9",
        ]:
            response = anonymous.client.get(f"{API}/posts/", HTTP_AUTHORIZATION=value)
            assert response.status_code == 401, value


# Every endpoint, with each kind of credential: (method, path, body, the read token's answer).
def _endpoints(post: Post, draft: Post, tag: Tag, series: Series, link_id: int, note_id: int):
    return [
        ("get", "/posts/", None, 200),
        ("get", f"/posts/{post.pk}/", None, 200),
        ("get", "/posts/search/?q=topic", None, 200),
        ("post", "/posts/", {"title": "New", "body": "Text."}, 403),
        ("patch", f"/posts/{post.pk}/", {"version": post.version, "title": "Renamed"}, 403),
        ("post", f"/posts/{draft.pk}/publish/", None, 403),
        ("post", f"/posts/{post.pk}/unpublish/", None, 403),
        ("get", "/tags/", None, 200),
        ("get", f"/tags/{tag.slug}/", None, 200),
        ("post", "/tags/", {"name": "fresh"}, 403),
        ("patch", f"/tags/{tag.slug}/", {"description": "About it."}, 403),
        ("get", "/series/", None, 200),
        ("get", f"/series/{series.slug}/", None, 200),
        ("post", "/series/", {"title": "Another"}, 403),
        ("patch", f"/series/{series.slug}/", {"description": "Parts."}, 403),
        ("get", f"/posts/{post.pk}/links/", None, 200),
        ("post", f"/posts/{draft.pk}/links/", {"target": post.pk}, 403),
        ("get", f"/posts/{post.pk}/update-notes/", None, 200),
        ("post", f"/posts/{post.pk}/update-notes/", {"date": "2024-05-01", "text": "More."}, 403),
        ("delete", f"/posts/{post.pk}/update-notes/{note_id}/", None, 403),
        ("delete", f"/posts/{post.pk}/links/{link_id}/", None, 403),
        ("delete", f"/tags/{tag.slug}/", None, 403),
        ("delete", f"/series/{series.slug}/", None, 403),
        ("delete", f"/posts/{post.pk}/", None, 403),
    ]


WRITE_STATUS = {"get": 200, "post": 201, "patch": 200, "delete": 204}


class TestWhoMayDoWhat:
    @pytest.fixture
    def site(self):
        series = Series.objects.create(title="A series", slug="a-series")
        tag = make_tag("topic")
        post = make_post("Published post", tags=[tag], series=series, series_order=1)
        draft = make_draft("Draft post")
        other = make_post("Other post")
        made = link(post, other)
        note = UpdateNote.objects.create(post=post, date=datetime.date(2024, 1, 2), text="Fixed.")
        return _endpoints(post, draft, tag, series, made.pk, note.pk)

    def _call(self, caller: Caller, method: str, path: str, body):
        if method == "get":
            return caller.client.get(API + path, **caller.headers)
        return caller.send(method, path, body)

    def test_every_endpoint_with_every_kind_of_credential(
        self, site, reader, expired, revoked, anonymous
    ):
        for method, path, body, read_status in site:
            for caller, expected in [(anonymous, 401), (expired, 401), (revoked, 401)]:
                assert self._call(caller, method, path, body).status_code == expected, path
            assert self._call(reader, method, path, body).status_code == read_status, path

    def test_every_endpoint_works_with_a_write_token(self, site, writer):
        for method, path, body, _ in site:
            response = self._call(writer, method, path, body)
            expected = 200 if "publish" in path else WRITE_STATUS[method]
            assert response.status_code == expected, (method, path, response.content)

    def test_expired_and_revoked_tokens_say_why(self, expired, revoked):
        assert "expired" in expired.get("/posts/").json()["detail"]
        assert "revoked" in revoked.get("/posts/").json()["detail"]

    def test_a_read_token_sees_only_what_the_public_site_shows(self, reader, writer):
        published = make_post("Out there", tags=[make_tag("public tag")])
        draft = make_draft("Not yet", tags=[make_tag("secret tag")])
        scheduled = make_post("Later", published_at=timezone.now() + datetime.timedelta(days=2))
        link(published, draft)

        titles = [p["title"] for p in reader.get("/posts/").json()["items"]]
        assert titles == ["Out there"]
        assert reader.get(f"/posts/{draft.pk}/").status_code == 404
        assert reader.get(f"/posts/{scheduled.pk}/").status_code == 404
        assert [t["name"] for t in reader.get("/tags/").json()] == ["public tag"]
        assert reader.get(f"/posts/{published.pk}/links/").json() == []

        all_titles = {p["title"] for p in writer.get("/posts/").json()["items"]}
        assert all_titles == {"Out there", "Not yet", "Later"}
        assert writer.get(f"/posts/{draft.pk}/").json()["status"] == "draft"

    def test_staff_in_the_browser_write_with_the_session_and_its_csrf_token(self, staff_user):
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(staff_user)
        caller = Caller(client=browser)
        assert caller.get("/posts/").status_code == 200
        refused = caller.post("/posts/", {"title": "From the browser", "body": "Hi."})
        assert refused.status_code == 403
        browser.get("/admin/")  # sets the CSRF cookie
        csrf = browser.cookies["csrftoken"].value
        response = browser.post(
            f"{API}/posts/",
            {"title": "From the browser", "body": "Hi."},
            content_type="application/json",
            HTTP_X_CSRFTOKEN=csrf,
        )
        assert response.status_code == 201
        assert Post.objects.get(title="From the browser").author == staff_user

    def test_a_logged_in_non_staff_user_is_refused(self):
        user = make_user("visitor")
        browser = Client()
        browser.force_login(user)
        assert browser.get(f"{API}/posts/").status_code == 401


class TestWritingPosts:
    def test_create_renders_tags_revisions_and_history_as_the_admin_does(self, writer, staff_user):
        target = make_post("Score matching")
        response = writer.post(
            "/posts/",
            {
                "title": "Notes on diffusion",
                "body": "See [[Score matching]]. Math: $x^2$.",
                "tags": ["generative models", "Diffusion"],
                "source_url": "https://arxiv.org/abs/2006.11239",
            },
        )
        assert response.status_code == 201, response.content
        data = response.json()
        assert data["status"] == "draft" and data["version"] == 1
        assert data["slug"] == "notes-on-diffusion"
        assert "<math" in data["body_html"] and 'href="/posts/score-matching/"' in data["body_html"]
        assert sorted(t["name"] for t in data["tags"]) == ["Diffusion", "generative models"]
        post = Post.objects.get(pk=data["id"])
        assert post.author == staff_user and post.revisions.count() == 1
        assert Link.objects.filter(source=post, target=target, from_wikilink=True).exists()
        entry = LogEntry.objects.get(object_id=str(post.pk))
        assert "write token" in entry.get_change_message()

    def test_validation_errors_name_the_fields(self, writer):
        make_post("Taken", slug="taken")
        cases = [
            ({"body": "No title."}, "title"),
            ({"title": "", "body": "x"}, "title"),
            ({"title": "T", "body": "x" * 250_001}, "body"),
            ({"title": "T", "body": "x", "slug": "taken"}, "slug"),
            ({"title": "T", "body": "x", "slug": "not a slug!"}, "slug"),
            ({"title": "T", "body": "x", "status": "live"}, "status"),
            ({"title": "T", "body": "x", "source_url": "not a url"}, "source_url"),
            ({"title": "T\x00", "body": "x"}, "title"),
            ({"title": "T", "body": "x", "tags": ["y" * 65]}, "tags.0"),
            ({"title": "T", "body": "x", "published_at": "yesterday"}, "published_at"),
        ]
        for body, field in cases:
            response = writer.post("/posts/", body)
            assert response.status_code == 400, (body, response.content)
            assert field in response.json()["errors"], (body, response.json())
        assert Post.objects.count() == 1

    def test_broken_json_and_unknown_series_are_400s(self, writer):
        broken = writer.client.post(
            f"{API}/posts/", "{not json", content_type="application/json", **writer.headers
        )
        assert broken.status_code == 400
        response = writer.post("/posts/", {"title": "T", "body": "x", "series": "nope"})
        assert response.status_code == 400 and "nope" in response.json()["detail"]

    def test_out_of_range_and_malformed_input_is_never_a_500(self, writer):
        post = make_post("Target")
        huge = 10**25
        raw = [b"[]", b'"x"', b"\xff\xfe{", b"", b"null"]
        for body in raw:
            response = writer.client.post(
                f"{API}/posts/", body, content_type="application/json", **writer.headers
            )
            assert response.status_code == 400, body
        form = writer.client.post(f"{API}/posts/", {"title": "a", "body": "b"}, **writer.headers)
        assert form.status_code == 400
        answers = {
            "read a huge id": writer.get(f"/posts/{huge}/").status_code,
            "a huge page": writer.get("/posts/", page=huge).status_code,
            "a huge search page": writer.get("/posts/search/", q="a", page=huge).status_code,
            "a huge version": writer.patch(f"/posts/{post.pk}/", {"version": huge}).status_code,
            "a huge link target": writer.post(
                f"/posts/{post.pk}/links/", {"target": huge}
            ).status_code,
            "a huge link id": writer.delete(f"/posts/{post.pk}/links/{huge}/").status_code,
            "a huge note id": writer.delete(f"/posts/{post.pk}/update-notes/{huge}/").status_code,
            "a null status": writer.patch(
                f"/posts/{post.pk}/", {"version": post.version, "status": None}
            ).status_code,
            "a negative part": writer.post(
                "/posts/", {"title": "a", "body": "b", "series_order": -1}
            ).status_code,
        }
        assert answers == {
            "read a huge id": 404,
            "a huge page": 400,
            "a huge search page": 400,
            "a huge version": 400,
            "a huge link target": 400,
            "a huge link id": 404,
            "a huge note id": 404,
            "a null status": 400,
            "a negative part": 400,
        }

    def test_update_with_the_current_version_saves_and_counts_up(self, writer):
        post = make_draft("First title")
        response = writer.patch(
            f"/posts/{post.pk}/", {"version": post.version, "title": "Second title", "tags": ["x"]}
        )
        assert response.status_code == 200, response.content
        assert response.json()["title"] == "Second title"
        assert response.json()["version"] == post.version + 1
        post.refresh_from_db()
        assert post.title == "Second title" and [t.name for t in post.tags.all()] == ["x"]
        assert post.body == "Some words about a topic worth writing down."
        assert post.revisions.count() == 2

    def test_a_stale_version_is_a_409_and_changes_nothing(self, writer, staff_client):
        post = make_draft("Shared")
        seen = post.version
        # Someone saves it in the admin meanwhile.
        post.title = "Saved in the admin"
        post.save()
        response = writer.patch(f"/posts/{post.pk}/", {"version": seen, "title": "From a script"})
        assert response.status_code == 409
        assert response.json()["version"] == seen + 1
        post.refresh_from_db()
        assert post.title == "Saved in the admin"

    def test_missing_version_and_unknown_ids(self, writer):
        post = make_draft()
        assert writer.patch(f"/posts/{post.pk}/", {"title": "x"}).status_code == 400
        assert writer.patch("/posts/999999/", {"version": 1, "title": "x"}).status_code == 404
        assert writer.get("/posts/999999/").status_code == 404
        assert writer.post("/posts/999999/publish/").status_code == 404
        assert writer.get("/posts/abc/").status_code == 404

    def test_publish_unpublish_and_trash_show_on_the_public_site_at_once(self, writer, client):
        draft = make_draft("Fresh from a script")
        make_post("Already there")
        before = client.get("/")
        assert "Fresh from a script" not in before.text
        assert before.has_header("ETag")  # served through the page cache, and kept there

        published = writer.post(f"/posts/{draft.pk}/publish/").json()
        assert published["status"] == "published" and published["is_published"]
        assert "Fresh from a script" in client.get("/").text
        assert client.get(f"/posts/{draft.slug}/").status_code == 200

        writer.patch(f"/posts/{draft.pk}/", {"version": published["version"], "title": "Renamed"})
        assert "Renamed" in client.get("/").text

        writer.post(f"/posts/{draft.pk}/unpublish/")
        assert "Renamed" not in client.get("/").text

        assert writer.delete(f"/posts/{draft.pk}/").status_code == 204
        post = Post.objects.get(pk=draft.pk)
        assert post.trashed_at is not None
        assert writer.get(f"/posts/{draft.pk}/").status_code == 404

    def test_filters_and_pages(self, writer):
        tag = make_tag("maths")
        series = Series.objects.create(title="Course", slug="course")
        make_post("Tagged", tags=[tag])
        make_post("In series", series=series, series_order=1)
        make_draft("A draft")
        old = make_post("Old")
        Post.objects.filter(pk=old.pk).update(
            updated_at=timezone.now() - datetime.timedelta(days=30)
        )

        def titles(**params):
            return [p["title"] for p in writer.get("/posts/", **params).json()["items"]]

        assert titles(status="draft") == ["A draft"]
        assert titles(tag="maths") == ["Tagged"] and titles(tag="Maths") == ["Tagged"]
        assert titles(tag="unknown") == []
        assert titles(series="course") == ["In series"]
        since = (timezone.now() - datetime.timedelta(days=1)).isoformat()
        assert "Old" not in titles(updated_since=since) and len(titles(updated_since=since)) == 3
        first = writer.get("/posts/", page_size=3).json()
        assert first["count"] == 4 and first["pages"] == 2 and len(first["items"]) == 3
        second = writer.client.get(first["next"], **writer.headers).json()
        assert [p["title"] for p in second["items"]] == ["Old"] and second["next"] is None
        assert writer.get("/posts/", page=0).status_code == 400
        assert writer.get("/posts/", page_size=1000).status_code == 400
        assert writer.get("/posts/", status="x\x00").status_code == 400


class TestTagsSeriesLinksAndNotes:
    def test_tags(self, writer):
        post = make_post("Carrier", body="Words.")
        created = writer.post("/tags/", {"name": "Optimal transport", "description": "*OT*"})
        assert created.status_code == 201
        assert created.json()["slug"] == "optimal-transport"
        assert writer.post("/tags/", {"name": "optimal transport"}).status_code == 400
        post.tags.add(Tag.objects.get(slug="optimal-transport"))
        renamed = writer.patch("/tags/optimal-transport/", {"name": "Wasserstein"})
        assert renamed.json()["name"] == "Wasserstein"
        # Renaming re-indexes the posts that carry it, as the admin does.
        found = writer.get("/posts/search/", q="tag:Wasserstein").json()
        assert [r["post"]["title"] for r in found["items"]] == ["Carrier"]
        assert writer.delete("/tags/optimal-transport/").status_code == 204
        assert not Tag.objects.exists() and Post.objects.filter(pk=post.pk).exists()
        assert writer.get("/tags/nope/").status_code == 404

    def test_series(self, writer):
        created = writer.post("/series/", {"title": "Learning to sample"})
        assert created.status_code == 201 and created.json()["slug"] == "learning-to-sample"
        again = writer.post("/series/", {"title": "Other", "slug": "learning-to-sample"})
        assert again.status_code == 400 and "slug" in again.json()["errors"]
        post = writer.post(
            "/posts/", {"title": "Part one", "body": "x", "series": "learning-to-sample",
                        "series_order": 1},
        ).json()  # fmt: skip
        assert post["series"] == "learning-to-sample"
        clash = writer.post(
            "/posts/", {"title": "Also one", "body": "x", "series": "learning-to-sample",
                        "series_order": 1},
        )  # fmt: skip
        assert clash.status_code == 400
        assert writer.patch("/series/learning-to-sample/", {"title": "Sampling"}).status_code == 200
        assert writer.delete("/series/learning-to-sample/").status_code == 204
        assert Post.objects.get(pk=post["id"]).series is None

    def test_links(self, writer, client):
        source = make_post("Source")
        target = make_post("Target")
        created = writer.post(f"/posts/{source.pk}/links/", {"target": target.pk, "note": "see"})
        assert created.status_code == 201, created.content
        assert created.json()["target_title"] == "Target"
        assert "Source" in client.get(target.get_absolute_url()).text.split('id="backlinks"')[1]
        assert writer.post(f"/posts/{source.pk}/links/", {"target": target.pk}).status_code == 400
        assert writer.post(f"/posts/{source.pk}/links/", {"target": source.pk}).status_code == 400
        assert writer.post(f"/posts/{source.pk}/links/", {"target": 99999}).status_code == 400
        listed = writer.get(f"/posts/{source.pk}/links/").json()
        assert [(item["target"], item["note"]) for item in listed] == [(target.pk, "see")]
        link_id = listed[0]["id"]
        assert writer.delete(f"/posts/{source.pk}/links/{link_id}/").status_code == 204
        assert not Link.objects.exists()

    def test_a_wikilink_row_follows_the_body(self, writer):
        make_post("Target")
        source = make_post("Source", body="See [[Target]].")
        row = source.outgoing_links.get()
        refused = writer.delete(f"/posts/{source.pk}/links/{row.pk}/")
        assert refused.status_code == 400 and "wikilink" in refused.json()["detail"]

    def test_update_notes(self, writer, client):
        post = make_post("Evolving")
        created = writer.post(
            f"/posts/{post.pk}/update-notes/", {"date": "2024-05-01", "text": "Added a proof."}
        )
        assert created.status_code == 201
        assert "Added a proof." in client.get(post.get_absolute_url()).text
        bad = writer.post(f"/posts/{post.pk}/update-notes/", {"date": "May", "text": "x"})
        assert bad.status_code == 400 and "date" in bad.json()["errors"]
        note_id = created.json()["id"]
        assert writer.get(f"/posts/{post.pk}/update-notes/").json()[0]["text"] == "Added a proof."
        assert writer.delete(f"/posts/{post.pk}/update-notes/{note_id}/").status_code == 204
        assert writer.delete(f"/posts/{post.pk}/update-notes/{note_id}/").status_code == 404


class TestSearch:
    def test_the_site_query_language_over_published_posts(self, reader):
        tag = make_tag("sampling")
        make_post("Langevin dynamics", body="A sampler driven by noise.", tags=[tag])
        make_post("Score matching", body="Noise conditional networks.")
        make_draft("Secret noise draft", body="noise")
        found = reader.get("/posts/search/", q="noise").json()
        assert {r["post"]["title"] for r in found["items"]} == {
            "Langevin dynamics",
            "Score matching",
        }
        assert found["count"] == 2 and "<mark>" in found["items"][0]["snippet"]
        narrowed = reader.get("/posts/search/", q="noise tag:sampling -conditional").json()
        assert [r["post"]["title"] for r in narrowed["items"]] == ["Langevin dynamics"]
        assert reader.get("/posts/search/", q="").json()["count"] == 0


class TestLimits:
    def test_too_many_requests_is_a_429_with_retry_after(self, settings, staff_user):
        settings.KB_API_RATE_LIMIT = "3/minute"
        first, second = Caller(token_for(staff_user, "read")), Caller(token_for(staff_user, "read"))
        assert [first.get("/posts/").status_code for _ in range(3)] == [200] * 3
        refused = first.get("/posts/")
        assert refused.status_code == 429
        assert 1 <= int(refused["Retry-After"]) <= 60
        # Each token has its own allowance.
        assert second.get("/posts/").status_code == 200

    def test_list_queries_stay_flat_as_posts_are_added(self, writer, django_assert_max_num_queries):
        tags = [make_tag(f"t{i}") for i in range(3)]
        series = Series.objects.create(title="S", slug="s")
        for i in range(3):
            make_post(tags=tags, series=series, series_order=i)
        with django_assert_max_num_queries(5) as few:
            assert len(writer.get("/posts/").json()["items"]) == 3
        # A search after a change also rebuilds the catalogue and reads the engine: a fixed cost.
        with django_assert_max_num_queries(15) as searched:
            assert writer.get("/posts/search/", q="topic").json()["count"] == 3
        for i in range(3, 25):
            make_post(tags=tags, series=series, series_order=i)
        with django_assert_max_num_queries(len(few.captured_queries)):
            assert len(writer.get("/posts/", page_size=25).json()["items"]) == 25
        with django_assert_max_num_queries(len(searched.captured_queries)):
            assert writer.get("/posts/search/", q="topic").json()["count"] == 25
        with django_assert_max_num_queries(4):
            assert len(writer.get("/tags/").json()) == 3
        with django_assert_max_num_queries(4):
            assert len(writer.get("/series/").json()) == 1
        source = Post.objects.first()
        for target in Post.objects.exclude(pk=source.pk)[:10]:
            link(source, target)
        with django_assert_max_num_queries(4):
            assert len(writer.get(f"/posts/{source.pk}/links/").json()) == 10


class TestSchema:
    def test_the_openapi_schema_is_valid_and_describes_the_endpoints(self, staff_client):
        response = staff_client.get(f"{API}/schema/")
        assert response.status_code == 200
        schema = response.json()
        validate(schema)
        paths = schema["paths"]
        assert {"get", "post"} <= set(paths["/api/v1/posts/"])
        assert {"get", "patch", "delete"} <= set(paths["/api/v1/posts/{post_id}/"])
        assert "409" in paths["/api/v1/posts/{post_id}/"]["patch"]["responses"]
        assert (
            "BearerAuth" in str(schema["components"]["securitySchemes"])
            or schema["components"]["securitySchemes"]
        )

    def test_scripts_read_the_schema_with_any_valid_token(self, reader, revoked, anonymous):
        assert reader.get("/schema/").json()["info"]["title"] == "kb API"
        assert revoked.get("/schema/").status_code == 401
        assert anonymous.get("/schema/").status_code == 302  # to the admin's login

    def test_the_browsable_docs_are_for_staff(self, staff_client, client):
        docs = staff_client.get(f"{API}/docs/")
        assert docs.status_code == 200 and "swagger-ui" in docs.text
        assert "<script>" not in docs.text  # CSP: every script is a static file
        assert client.get(f"{API}/docs/").status_code == 302


class TestTokenCommand:
    def test_create_api_token_prints_a_working_token(self, staff_user, capsys):
        from django.core.management import call_command

        call_command("create_api_token", "ci", user="editor", scope="write", days=7)
        secret = capsys.readouterr().out.strip()
        token = ApiToken.objects.get(name="ci")
        assert token.key_hash == hash_secret(secret) and token.can_write
        assert token.expires_at - timezone.now() > datetime.timedelta(days=6)
        assert Caller(secret).post("/posts/", {"title": "T", "body": "x"}).status_code == 201
        assert LogEntry.objects.filter(object_id=str(token.pk)).exists()

    def test_an_unknown_account_is_a_clear_error(self, db):
        from django.core.management import CommandError, call_command

        with pytest.raises(CommandError, match="no staff account named 'nobody'"):
            call_command("create_api_token", "x", user="nobody")


@pytest.mark.django_db(transaction=True)
class TestConcurrentEdits:
    def test_an_update_racing_an_admin_save_waits_for_it_then_gets_a_409(self, staff_user):
        """The admin holds the post's row while it saves; a script sending the same version
        at that moment waits for the lock, then sees the newer version and changes nothing."""
        import threading

        from django.db import connection, transaction

        from notes import services

        if connection.vendor == "sqlite":
            # The test run's in-memory SQLite refuses a second writer at once ("table is
            # locked") where a database file waits; SQLite's IMMEDIATE transactions already
            # let one writer at a time through, so the race is PostgreSQL's to show.
            pytest.skip("needs a database server's row locks")
        writer = Caller(token_for(staff_user, "write"))
        post = make_draft("Raced")
        seen = post.version
        locked, release = threading.Event(), threading.Event()

        def admin_save() -> None:
            try:
                with transaction.atomic():
                    current = services.lock_for_edit(post.pk, seen)
                    locked.set()
                    release.wait(5)
                    current.title = "The admin's title"
                    services.save_post(current)
            finally:
                connection.close()

        thread = threading.Thread(target=admin_save)
        thread.start()
        assert locked.wait(5)
        threading.Timer(0.3, release.set).start()
        response = writer.patch(f"/posts/{post.pk}/", {"version": seen, "title": "The script's"})
        thread.join(5)
        assert response.status_code == 409, response.content
        post.refresh_from_db()
        assert post.title == "The admin's title" and post.version == seen + 1
