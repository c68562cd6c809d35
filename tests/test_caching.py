"""A reader gets cached pages, and never a stale one: whatever the author changes shows on every
page it touches as soon as the save returns."""

from __future__ import annotations

import datetime
import gzip
import io
import os
import re

import psycopg
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kb.settings import cache_from_url
from notes.models import Post, Series, Tag, UpdateNote
from tests.factories import admin_post_form, make_post, make_tag

pytestmark = pytest.mark.django_db


def change_url(obj) -> str:
    return reverse(f"admin:notes_{obj._meta.model_name}_change", args=[obj.pk])


def edit_post_in_admin(staff_client: Client, post: Post, **changes) -> None:
    page = staff_client.get(change_url(post)).text
    version = re.search(r'name="base_version" value="(\d+)"', page).group(1)
    form = admin_post_form(
        title=post.title,
        slug=post.slug,
        status=post.status,
        body=post.body,
        author=str(post.author_id),
        tags=[str(t.pk) for t in post.tags.all()],
        series=str(post.series_id or ""),
        series_order=str(post.series_order or ""),
        published_at_0=timezone.localtime(post.published_at).strftime("%Y-%m-%d"),
        published_at_1=timezone.localtime(post.published_at).strftime("%H:%M:%S"),
        base_version=version,
    )
    response = staff_client.post(change_url(post), form | changes)
    assert response.status_code == 302, response.context and response.context["errors"]


@pytest.fixture
def site(db):
    """A post with a tag, a series and an update note, and another post linking to it."""
    tags = [make_tag("optimisation"), make_tag("theory")]
    series = Series.objects.create(title="Learning rates", slug="learning-rates")
    post = make_post(
        "Warmup schedules",
        body="Why warmup helps adaptive optimisers.",
        tags=tags,
        series=series,
        series_order=1,
    )
    UpdateNote.objects.create(post=post, date=datetime.date(2024, 5, 1), text="Added plots.")
    citing = make_post(
        "Reading list", body="Start with [[warmup-schedules|the notes on warmup]].", tags=tags[:1]
    )
    return post, citing


def pages_showing(post: Post, citing: Post) -> list[str]:
    """Every public page on which the post's title appears."""
    return [
        "/",
        post.get_absolute_url(),
        citing.get_absolute_url(),
        "/tags/optimisation/",
        "/tags/optimisation+theory/",
        "/series/learning-rates/",
        "/archive/",
        "/search/?q=warmup",
        "/feed/",
        "/index.xml",
        "/tags/optimisation/feed/",
        "/index.json",
        "/llms.txt",
    ]


def prime(client: Client, paths: list[str]) -> None:
    for path in paths:
        assert client.get(path).status_code == 200, path


class TestCachedPages:
    def test_a_repeated_request_is_served_from_the_cache_with_one_query(
        self, client, site, django_assert_num_queries
    ):
        post, citing = site
        for path in pages_showing(post, citing):
            first = client.get(path)
            with django_assert_num_queries(1):  # the site-state check
                again = client.get(path)
            assert again.status_code == 200
            assert again.content == first.content, path
            assert again["Content-Type"] == first["Content-Type"]

    def test_cached_pages_keep_their_security_headers(self, client, site):
        post, _ = site
        client.get(post.get_absolute_url())
        again = client.get(post.get_absolute_url())
        assert "script-src http://testserver/static/ " in again["Content-Security-Policy"]
        assert again["X-Content-Type-Options"] == "nosniff"
        assert again["X-Frame-Options"] == "DENY"
        assert again["X-Request-ID"] != client.get(post.get_absolute_url())["X-Request-ID"]

    def test_gzip_is_sent_to_readers_that_accept_it(self, client, site):
        post, _ = site
        plain = client.get(post.get_absolute_url())
        packed = client.get(post.get_absolute_url(), headers={"accept-encoding": "gzip, br"})
        assert "Content-Encoding" not in plain
        assert packed["Content-Encoding"] == "gzip"
        assert gzip.decompress(packed.content) == plain.content
        assert int(packed["Content-Length"]) == len(packed.content) < len(plain.content)
        assert "Accept-Encoding" in packed["Vary"] and "Cookie" in packed["Vary"]

    def test_errors_and_missing_pages_are_not_cached(self, client, site):
        assert client.get("/posts/not-yet/").status_code == 404
        make_post("Not yet", slug="not-yet")
        assert client.get("/posts/not-yet/").status_code == 200
        assert client.get("/?page=99").status_code == 404
        assert "ETag" not in client.get("/?page=99")


class TestEditsShowEverywhereAtOnce:
    def test_renaming_a_post_in_the_admin(self, client, staff_client, site):
        post, citing = site
        paths = pages_showing(post, citing)
        prime(client, paths)

        edit_post_in_admin(staff_client, post, title="Warmup, revisited")

        for path in paths:
            text = client.get(path).content.decode()
            assert "Warmup, revisited" in text, path
            assert "Warmup schedules" not in text, path

    def test_unpublishing_takes_the_post_off_every_page(self, client, staff_client, site):
        post, citing = site
        paths = [p for p in pages_showing(post, citing) if p != post.get_absolute_url()]
        prime(client, paths)

        edit_post_in_admin(staff_client, post, status="draft")

        assert client.get(post.get_absolute_url()).status_code == 404
        for path in paths:
            response = client.get(path)
            assert response.status_code in {200, 404}, path
            assert "Warmup schedules" not in response.content.decode(), path

    def test_moving_to_the_trash(self, client, staff_client, site):
        post, citing = site
        prime(client, ["/", citing.get_absolute_url()])
        response = staff_client.post(
            reverse("admin:notes_post_delete", args=[post.pk]), {"post": "yes"}
        )
        assert response.status_code == 302
        assert "Warmup schedules" not in client.get("/").text
        assert client.get(post.get_absolute_url()).status_code == 404
        # The wikilink is shown as broken now, not as a link to a missing page.
        assert f'href="{post.get_absolute_url()}"' not in client.get(citing.get_absolute_url()).text

    def test_renaming_a_tag(self, client, staff_client, site):
        post, citing = site
        tag = Tag.objects.get(name="optimisation")
        paths = ["/", "/tags/", post.get_absolute_url(), citing.get_absolute_url(), "/feed/"]
        prime(client, paths)

        response = staff_client.post(
            change_url(tag), {"name": "Optimization", "slug": tag.slug, "description": ""}
        )
        assert response.status_code == 302

        for path in paths:
            assert "Optimization" in client.get(path).text, path

    def test_renaming_a_series(self, client, staff_client, site):
        post, _ = site
        series = Series.objects.get()
        prime(client, [post.get_absolute_url(), series.get_absolute_url()])
        response = staff_client.post(
            change_url(series), {"title": "Step sizes", "slug": series.slug, "description": ""}
        )
        assert response.status_code == 302
        assert "Step sizes" in client.get(post.get_absolute_url()).text
        assert "Step sizes" in client.get(series.get_absolute_url()).text

    def test_adding_an_update_note(self, client, staff_client, site):
        post, _ = site
        prime(client, [post.get_absolute_url()])
        edit_post_in_admin(
            staff_client,
            post,
            **{
                "update_notes-TOTAL_FORMS": "1",
                "update_notes-0-date": "2024-06-02",
                "update_notes-0-text": "Corrected the second plot.",
            },
        )
        assert "Corrected the second plot." in client.get(post.get_absolute_url()).text

    def test_an_authors_new_name(self, client, site):
        post, _ = site
        prime(client, [post.get_absolute_url(), "/"])
        author = post.author
        author.first_name = "Ada"
        author.last_name = "Lovelace"
        author.save()
        assert "Ada Lovelace" in client.get(post.get_absolute_url()).text
        assert "Ada Lovelace" in client.get("/").text

    def test_an_authors_profile_name(self, client, site):
        from notes.models import AuthorProfile

        post, _ = site
        prime(client, [post.get_absolute_url(), "/"])
        profile = AuthorProfile.objects.create(user=post.author, display_name="A. Lovelace")
        assert "A. Lovelace" in client.get(post.get_absolute_url()).text
        profile.display_name = "Ada L."
        profile.save()
        assert "Ada L." in client.get("/").text

    def test_the_rerender_command(self, client, site):
        post, _ = site
        prime(client, [post.get_absolute_url()])
        # As after a change to the rendering pipeline: the stored HTML is out of date.
        Post.objects.filter(pk=post.pk).update(body="Warmup, as the new pipeline renders it.")

        call_command("rerender", stdout=io.StringIO())

        assert "as the new pipeline renders it" in client.get(post.get_absolute_url()).text

    def test_a_scheduled_post_appears_when_its_time_comes(self, client, site, monkeypatch):
        make_post("From the future", published_at=timezone.now() + datetime.timedelta(hours=1))
        prime(client, ["/", "/feed/"])
        assert "From the future" not in client.get("/").text

        later = timezone.now() + datetime.timedelta(hours=2)
        monkeypatch.setattr(timezone, "now", lambda: later)

        assert "From the future" in client.get("/").text
        assert "From the future" in client.get("/feed/").text


class TestStaffAndCookies:
    def test_staff_always_see_fresh_pages_and_never_fill_the_cache(
        self, client, staff_client, site
    ):
        draft = make_post("Half done", status="draft")
        post, _ = site
        assert "Warmup schedules" in client.get("/").text
        # A staff request renders the page anew; its banners never reach anonymous readers.
        staff_page = staff_client.get(draft.get_absolute_url())
        assert "only staff can see this page" in staff_page.text
        assert "ETag" not in staff_page
        assert client.get(draft.get_absolute_url()).status_code == 404

        Post.objects.filter(pk=post.pk).update(title="Changed behind the caches back")
        assert "Changed behind the caches back" in staff_client.get("/").text
        assert "Changed behind the caches back" not in client.get("/").text


class TestConditionalRequests:
    def test_an_unchanged_page_is_a_304_without_a_body(self, client, site):
        post, _ = site
        first = client.get(post.get_absolute_url())
        assert first["Cache-Control"] == "no-cache"
        etag, modified = first["ETag"], first["Last-Modified"]

        again = client.get(post.get_absolute_url(), headers={"if-none-match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again["ETag"] == etag
        since = client.get(post.get_absolute_url(), headers={"if-modified-since": modified})
        assert since.status_code == 304

    def test_after_an_edit_the_same_etag_gets_the_new_page(self, client, staff_client, site):
        post, _ = site
        etag = client.get(post.get_absolute_url())["ETag"]
        edit_post_in_admin(staff_client, post, body="Warmup, shown with a new plot.")
        response = client.get(post.get_absolute_url(), headers={"if-none-match": etag})
        assert response.status_code == 200
        assert response["ETag"] != etag
        assert "shown with a new plot" in response.text


class TestCacheConfiguration:
    def test_cache_urls(self):
        assert cache_from_url("locmem://")["BACKEND"].endswith("LocMemCache")
        redis = cache_from_url("redis://cache.internal:6379/2")
        assert redis == {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://cache.internal:6379/2",
        }
        assert cache_from_url("file:///var/cache/kb")["LOCATION"] == "/var/cache/kb"
        with pytest.raises(ImproperlyConfigured, match="CACHE_URL must start with"):
            cache_from_url("memcache://localhost")

    def test_servers_sharing_redis_share_pages_and_see_edits_at_once(self, settings, site):
        redis = cache_from_url("redis://127.0.0.1:6379/15")
        try:
            import redis as redis_client

            redis_client.Redis.from_url(redis["LOCATION"]).ping()
        except Exception:
            if os.environ.get("CI") == "true":
                raise
            pytest.skip("No Redis server at 127.0.0.1:6379.")
        settings.CACHES = {"default": redis}
        from django.core.cache import cache

        cache.clear()
        post, _ = site
        one, two = Client(), Client()  # two servers: each builds its own middleware
        assert "Warmup schedules" in one.get(post.get_absolute_url()).text
        assert list(cache._cache.get_client().scan_iter(match=":1:kb:page:*"))

        post.title = "Warmup in Redis"
        post.save()
        assert "Warmup in Redis" in two.get(post.get_absolute_url()).text
        assert "Warmup in Redis" in one.get(post.get_absolute_url()).text
        cache.clear()


class TestDatabaseRestart:
    @pytest.mark.django_db(transaction=True)
    def test_a_connection_dropped_since_the_last_request_costs_no_error(self, client):
        if connection.vendor != "postgresql":
            pytest.skip("Only a database server can restart under a kept connection.")
        post = make_post("Still here")
        assert client.get(post.get_absolute_url()).status_code == 200
        # What a server restart leaves behind: Django still holds a connection that is gone.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])

        response = client.get(post.get_absolute_url())

        assert response.status_code == 200
        assert "Still here" in response.text


class TestPreparedStatements:
    def test_pages_read_again_and_again_run_statements_the_server_prepared(self, client, settings):
        if connection.vendor != "postgresql":
            pytest.skip("SQLite has no server to prepare statements on.")
        settings.KB_PAGE_CACHE_SECONDS = 0  # every request renders, as the first reader's does
        first, second = make_post("Prepared once"), make_post("Planned once")

        for post in (first, second, first, second, first, second):
            assert client.get(post.get_absolute_url()).status_code == 200

        # The page's statements with the post in them, parsed and planned once for both posts.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                ['%FROM "notes_post"%'],
            )
            assert cursor.fetchone()[0] >= 1
        assert "Planned once" in client.get(second.get_absolute_url()).text
