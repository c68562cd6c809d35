"""kb fetching a page on its author's behalf (capture, papers by identifier): it reaches public
addresses only, checked after DNS and on every redirect, within bounded time and size."""

import gzip
import time

import pytest

from notes.fetching import FetchFailed, FetchRefused, fetch
from tests.webserver import Answer, FixtureServer

NOT_PUBLIC = [
    "http://127.0.0.1/",
    "http://127.8.9.10:8080/",
    "http://localhost/",
    "http://0.0.0.0/",
    "http://2130706433/",  # 127.0.0.1 written as a number
    "http://0x7f000001/",
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",  # carrier-grade NAT
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata, link-local
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://[::1]/",
    "http://[::]/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[ff02::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:10.0.0.1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[2002:7f00:1::]/",  # 6to4 around 127.0.0.1
]


class TestOnlyPublicAddresses:
    @pytest.mark.parametrize("url", NOT_PUBLIC)
    def test_non_public_addresses_are_refused_before_connecting(self, url):
        with pytest.raises(FetchRefused, match="not a public address"):
            fetch(url, timeout=2)

    @pytest.mark.parametrize(
        "url",
        ["file:///etc/passwd", "ftp://example.org/x", "javascript:alert(1)", "gopher://a/", "//x"],
    )
    def test_other_schemes_are_refused(self, url):
        with pytest.raises(FetchRefused, match="Only http and https"):
            fetch(url)

    def test_credentials_and_control_characters_in_the_address_are_refused(self):
        with pytest.raises(FetchRefused, match="user name or password"):
            fetch("http://user:secret@example.org/")
        with pytest.raises(FetchRefused, match="control characters"):
            fetch("http://example.org/\r\nHost: evil")

    def test_the_test_server_needs_the_explicit_setting(self, settings):
        with FixtureServer() as server:
            server.routes["/"] = Answer(body=b"hello")
            settings.KB_FETCH_ALLOWED_HOSTS = []
            with pytest.raises(FetchRefused):
                fetch(server.url("/"))
            assert server.requests == []
            settings.KB_FETCH_ALLOWED_HOSTS = [server.host]
            assert fetch(server.url("/")).content == b"hello"

    def test_the_setting_allows_that_host_and_port_only(self, web_server):
        web_server.routes["/"] = Answer(body=b"hello")
        with pytest.raises(FetchRefused):
            fetch(f"http://localhost:{web_server.port}/")  # the same server, by another name
        with pytest.raises(FetchRefused):
            fetch("http://127.0.0.1:9/")


class TestRedirects:
    @pytest.mark.parametrize(
        "target",
        ["http://127.0.0.1:9/", "http://[::1]/", "http://169.254.169.254/", "http://10.1.2.3/",
         "http://[::ffff:127.0.0.1]:8000/", "file:///etc/passwd"],
    )  # fmt: skip
    def test_a_redirect_to_a_non_public_address_is_refused(self, web_server, target):
        web_server.routes["/go"] = Answer(302, headers={"Location": target})
        with pytest.raises(FetchRefused):
            fetch(web_server.url("/go"))

    def test_redirects_are_followed_and_the_final_address_kept(self, web_server):
        web_server.routes["/old"] = Answer(301, headers={"Location": "/middle"})
        web_server.routes["/middle"] = Answer(307, headers={"Location": web_server.url("/new")})
        web_server.routes["/new"] = Answer(body=b"<title>Moved</title>")
        page = fetch(web_server.url("/old"))
        assert page.status == 200 and page.url == web_server.url("/new")
        assert page.content_type == "text/html" and "Moved" in page.text

    def test_an_address_with_letters_http_cannot_carry_is_escaped(self, web_server):
        web_server.routes["/caf%C3%A9"] = Answer(body=b"escaped")
        assert fetch(web_server.url("/café")).content == b"escaped"
        assert fetch(web_server.url("/caf%C3%A9")).content == b"escaped"

    def test_a_redirect_loop_ends(self, web_server):
        web_server.routes["/loop"] = Answer(302, headers={"Location": "/loop"})
        with pytest.raises(FetchFailed, match="redirected more than"):
            fetch(web_server.url("/loop"))


class TestBounds:
    def test_a_body_larger_than_allowed_is_refused(self, web_server):
        web_server.routes["/big"] = Answer(body=b"x" * 300_000)
        web_server.routes["/chunked"] = Answer(body=b"x" * 300_000, chunks=10)
        for path in ["/big", "/chunked"]:
            with pytest.raises(FetchRefused, match="larger than 100,000 bytes"):
                fetch(web_server.url(path), max_bytes=100_000)

    def test_a_compressed_bomb_is_refused_decompressed(self, web_server):
        bomb = gzip.compress(b"\0" * 5_000_000)
        web_server.routes["/bomb"] = Answer(
            body=bomb, headers={"Content-Type": "text/html", "Content-Encoding": "gzip"}
        )
        assert len(bomb) < 100_000
        with pytest.raises(FetchRefused, match="larger than"):
            fetch(web_server.url("/bomb"), max_bytes=1_000_000)

    def test_compressed_pages_are_read(self, web_server):
        web_server.routes["/z"] = Answer(
            body=gzip.compress("<p>café</p>".encode()),
            headers={"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"},
        )
        assert fetch(web_server.url("/z")).text == "<p>café</p>"

    def test_a_slow_server_is_given_up_on_in_time(self, web_server):
        web_server.routes["/slow"] = Answer(body=b"late", delay=3)
        started = time.monotonic()
        with pytest.raises(FetchFailed, match="took too long"):
            fetch(web_server.url("/slow"), timeout=0.5)
        assert time.monotonic() - started < 2

    def test_nothing_listening_is_a_clear_failure(self, settings):
        settings.KB_FETCH_ALLOWED_HOSTS = ["127.0.0.1:9"]
        with pytest.raises(FetchFailed, match=r"Could not connect to 127\.0\.0\.1"):
            fetch("http://127.0.0.1:9/", timeout=2)

    def test_an_unknown_host_is_a_clear_failure(self):
        with pytest.raises(FetchFailed, match="Could not find the host"):
            fetch("http://no-such-host.invalid/", timeout=2)

    def test_error_statuses_fail(self, web_server):
        web_server.routes["/gone"] = Answer(410, b"gone")
        with pytest.raises(FetchFailed, match="answered 410"):
            fetch(web_server.url("/gone"))


class TestManners:
    def test_no_cookies_and_a_clear_user_agent(self, web_server, settings):
        web_server.routes["/login"] = Answer(
            302, headers={"Location": "/next", "Set-Cookie": "session=abc; Path=/"}
        )
        web_server.routes["/next"] = Answer(body=b"ok")
        fetch(web_server.url("/login"))
        second = web_server.requests[-1]
        assert second["path"] == "/next" and "Cookie" not in second
        assert second["User-Agent"] == settings.KB_FETCH_USER_AGENT
        assert second["User-Agent"].startswith("kb/")
