import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from tests.api_callers import Caller, token_for
from tests.factories import make_user
from tests.webserver import FIXTURES, Answer, FixtureServer


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache, as a freshly started server does."""
    cache.clear()


@pytest.fixture
def no_page_cache(settings):
    """For tests that count what rendering a page costs, rather than serving a cached copy."""
    settings.KB_PAGE_CACHE_SECONDS = 0


@pytest.fixture
def staff_user(db):
    return make_user(
        "editor", staff=True, is_superuser=True, first_name="Edith", last_name="Editor"
    )


@pytest.fixture
def staff_client(staff_user) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def web_server(settings):
    """A local HTTP server for fetching tests; only its address is let through the fetch guard."""
    with FixtureServer() as server:
        settings.KB_FETCH_ALLOWED_HOSTS = [server.host]
        yield server


@pytest.fixture
def papers(web_server, settings):
    """The fixture server also answers as the arXiv API and Crossref."""

    def arxiv(handler) -> Answer:
        wanted = parse_qs(urlsplit(handler.path).query).get("id_list", [""])[0]
        name = f"arxiv_{wanted}.xml" if (FIXTURES / f"arxiv_{wanted}.xml").exists() else None
        body = (FIXTURES / (name or "arxiv_unknown.xml")).read_bytes()
        return Answer(body=body, headers={"Content-Type": "application/atom+xml"})

    web_server.routes["/arxiv/query"] = arxiv
    web_server.serve_file(
        "/crossref/works/10.5555/kb.fixture.0001",
        "crossref_kb.fixture.0001.json",
        "application/json",
    )
    settings.KB_ARXIV_API_URL = web_server.url("/arxiv/query")
    settings.KB_CROSSREF_API_URL = web_server.url("/crossref/works/")
    return web_server


# API callers, one per kind of credential.


@pytest.fixture
def reader(staff_user) -> Caller:
    return Caller(token_for(staff_user, "read"))


@pytest.fixture
def writer(staff_user) -> Caller:
    return Caller(token_for(staff_user, "write"))


@pytest.fixture
def expired(staff_user) -> Caller:
    return Caller(token_for(staff_user, "write", expires_at=timezone.now()))


@pytest.fixture
def revoked(staff_user) -> Caller:
    return Caller(token_for(staff_user, "write", revoked_at=timezone.now()))


@pytest.fixture
def anonymous() -> Caller:
    return Caller()


@pytest.fixture
def clock(monkeypatch):
    """Time travel: `clock.go(hours=2)` moves every `timezone.now()` forward."""

    class Clock:
        start = timezone.now()
        offset = datetime.timedelta()

        def go(self, **delta) -> None:
            self.offset += datetime.timedelta(**delta)

        def now(self) -> datetime.datetime:
            return self.start + self.offset

    clock = Clock()
    monkeypatch.setattr(timezone, "now", clock.now)
    return clock
