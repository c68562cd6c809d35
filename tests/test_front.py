"""Reading through the front: deploy/nginx.conf, run by a real nginx in front of a live kb,
serves static files itself, keeps anonymous pages for its interval, revalidates them with kb's
ETag, and never keeps a page for someone logged in or a private response."""

import os
import time
import urllib.error
import urllib.request

import pytest

from deploy import front
from notes import services
from tests.factories import make_post

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        front.nginx_binary() is None and not os.environ.get("KB_REQUIRE_NGINX"),
        reason="nginx is not installed (apt-get install nginx); CI sets KB_REQUIRE_NGINX=1",
    ),
]

INTERVAL = 1  # seconds; deploy/nginx.conf says 5, shortened so the test waits less


@pytest.fixture
def nginx(live_server, tmp_path, settings):
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    (static / "css" / "site.abc123.css").write_text("body { color: black }\n")
    media = tmp_path / "media"
    media.mkdir()
    upstream = live_server.url.removeprefix("http://")
    running = front.start(upstream, tmp_path / "nginx", static, media, interval=INTERVAL)
    yield running
    running.stop()


def get(url: str, **headers) -> tuple[int, dict, str]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def test_static_files_come_from_disk_with_a_long_lifetime(nginx):
    status, headers, body = get(nginx.url + "/static/css/site.abc123.css")

    assert status == 200 and body == "body { color: black }\n"
    assert (
        "immutable" in headers["Cache-Control"] and "max-age=31536000" in headers["Cache-Control"]
    )
    assert "X-Front-Cache" not in headers  # never reached kb


def test_an_anonymous_page_is_kept_for_the_interval_then_revalidated(nginx):
    make_post("Through the front", body="Cached words.")

    first = get(nginx.url + "/")
    second = get(nginx.url + "/")
    time.sleep(INTERVAL + 1.2)  # nginx counts whole seconds
    third = get(nginx.url + "/")

    assert first[0] == second[0] == third[0] == 200
    assert "Through the front" in first[2] and second[2] == first[2] == third[2]
    assert first[1]["X-Front-Cache"] == "MISS"
    assert second[1]["X-Front-Cache"] == "HIT"
    # Expired: nginx asked kb with the stored ETag and kb answered 304, nothing changed.
    assert third[1]["X-Front-Cache"] == "REVALIDATED"
    assert first[1]["ETag"].startswith('W/"')


def test_an_edit_shows_through_the_front_within_the_interval(nginx):
    post = make_post("Before the edit", body="Words.")
    assert "Before the edit" in get(nginx.url + "/")[2]

    post.title = "After the edit"
    services.save_post(post)
    started = time.monotonic()
    while "After the edit" not in get(nginx.url + "/")[2]:
        assert time.monotonic() - started < INTERVAL + 2, "the edit never showed"
        time.sleep(0.1)


def test_a_session_bypasses_the_cache_and_is_never_stored(nginx):
    make_post("Public", body="Words.")
    cookie = {"Cookie": "sessionid=not-a-real-session"}

    with_session = [get(nginx.url + "/", **cookie)[1]["X-Front-Cache"] for _ in range(2)]
    anonymous = get(nginx.url + "/")[1]["X-Front-Cache"]

    assert with_session == ["BYPASS", "BYPASS"]
    assert anonymous == "MISS"  # the session's pages were not stored for anyone else


def test_private_responses_are_never_kept(nginx):
    statuses = [get(nginx.url + "/healthz")[1] for _ in range(3)]

    assert all("private" in h["Cache-Control"] for h in statuses)
    assert [h["X-Front-Cache"] for h in statuses] == ["MISS", "MISS", "MISS"]


def test_gzip_and_plain_readers_each_get_their_own_copy(nginx):
    make_post("Compressed", body="Words.")
    gzip = {"Accept-Encoding": "gzip, deflate, br"}

    first = urllib.request.urlopen(urllib.request.Request(nginx.url + "/", headers=gzip))
    second = urllib.request.urlopen(urllib.request.Request(nginx.url + "/", headers=gzip))
    plain = get(nginx.url + "/", **{"Accept-Encoding": "identity"})

    assert first.headers["Content-Encoding"] == second.headers["Content-Encoding"] == "gzip"
    assert [first.headers["X-Front-Cache"], second.headers["X-Front-Cache"]] == ["MISS", "HIT"]
    assert "Content-Encoding" not in plain[1] and "Compressed" in plain[2]
    assert plain[1]["X-Front-Cache"] == "MISS"
