"""Serving through a CDN: with KB_CDN_MAX_AGE set, anonymous pages may be kept by a shared cache
and name the posts and tags they show; an edit purges those names at a (fake, local) CDN."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from notes import services
from tests.factories import make_post, make_tag

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_cdn():
    """A purge endpoint on loopback that records what it is sent."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(
                {
                    "path": self.path,
                    "json": json.loads(body),
                    "surrogate_key": self.headers["Surrogate-Key"],
                    "authorization": self.headers["Authorization"],
                }
            )
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.received = received
    server.url = f"http://127.0.0.1:{server.server_port}/purge"
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def cdn(settings, fake_cdn):
    settings.KB_CDN_MAX_AGE = 300
    settings.KB_CDN_STALE_SECONDS = 30
    settings.KB_CDN_PURGE_URL = fake_cdn.url
    settings.KB_CDN_PURGE_TOKEN = "purge-secret"
    return fake_cdn


def keys(response) -> set[str]:
    return set(response["Surrogate-Key"].split())


def test_without_the_setting_pages_stay_no_cache_and_name_nothing(client):
    make_post("Plain")

    response = client.get("/")

    assert response["Cache-Control"] == "no-cache"
    assert not response.has_header("Surrogate-Key")


def test_pages_say_a_cdn_may_keep_them_and_name_what_they_show(client, cdn):
    tag = make_tag("optimizers")
    post = make_post("Adam", tags=[tag])
    other = make_post("SGD")

    listing = client.get("/")
    page = client.get(post.get_absolute_url())
    again = client.get(post.get_absolute_url())  # from kb's page cache: the same headers
    tag_page = client.get(tag.get_absolute_url())

    assert page["Cache-Control"] == "public, max-age=0, s-maxage=300, stale-while-revalidate=30"
    assert {f"post-{post.pk}", f"post-{other.pk}", "lists", "site"} <= keys(listing)
    assert keys(page) == {f"post-{post.pk}", f"tag-{tag.pk}", "site"}
    assert keys(again) == keys(page) and again["Cache-Tag"] == page["Cache-Tag"]
    assert page["Cache-Tag"] == ",".join(sorted(keys(page)))
    assert {f"tag-{tag.pk}", f"post-{post.pk}", "lists"} <= keys(tag_page)


def test_a_logged_in_reader_gets_nothing_a_cdn_may_keep(staff_client, cdn):
    post = make_post("Adam")

    response = staff_client.get(post.get_absolute_url())

    assert "public" not in response.get("Cache-Control", "")
    assert not response.has_header("Surrogate-Key")


def test_an_edit_purges_the_post_its_tags_and_the_listings_once(
    cdn, django_capture_on_commit_callbacks
):
    tag = make_tag("optimizers")
    post = make_post("Adam", tags=[tag])
    cdn.received.clear()

    with django_capture_on_commit_callbacks(execute=True):
        post.title = "Adam, revised"
        services.save_post(post)

    assert len(cdn.received) == 1
    purge = cdn.received[0]
    assert purge["path"] == "/purge" and purge["authorization"] == "Bearer purge-secret"
    assert {f"post-{post.pk}", f"tag-{tag.pk}", "lists"} <= set(purge["json"]["surrogate_keys"])
    assert purge["json"]["tags"] == purge["json"]["surrogate_keys"]
    assert set(purge["surrogate_key"].split()) == set(purge["json"]["surrogate_keys"])


def test_a_cdn_that_is_down_does_not_stop_an_edit(settings, caplog):
    settings.KB_CDN_MAX_AGE = 300
    settings.KB_CDN_PURGE_URL = "http://127.0.0.1:9/purge"  # nothing listens on the discard port
    post = make_post("Adam")

    post.title = "Still saved"
    services.save_post(post)
    from notes import cdn as cdn_module

    assert cdn_module.purge([f"post-{post.pk}"]) is False
    assert "CDN purge" in caplog.text
    post.refresh_from_db()
    assert post.title == "Still saved"
