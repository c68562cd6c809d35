import pytest
from django.core.cache import cache
from django.test import Client

from tests.factories import make_user
from tests.webserver import FixtureServer


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
