"""Browser tests: a real Chromium (Debian's package) driven by Playwright against live_server.

When a test fails, every page it had open is saved, as a full-page screenshot and its HTML, under
test-artifacts/e2e/<test id>/ (or $KB_E2E_ARTIFACTS/<test id>/)."""

import os
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test.utils import override_settings
from pytest_django.live_server_helper import LiveServer

CHROMIUM = os.environ.get("KB_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("KB_E2E_ARTIFACTS") or REPO_ROOT / "test-artifacts" / "e2e")
# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make to set up
# data happen outside any coroutine, so Django's async guard would be a false alarm here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item (`item.rep_setup`, `rep_call`, `rep_teardown`), so
    fixtures can tell at teardown whether the test itself failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def artifact_dir(nodeid: str) -> Path:
    """tests/e2e/test_x.py::test_y[a-b] -> <ARTIFACTS>/tests_e2e_test_x.py__test_y_a-b_"""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", nodeid.replace("::", "__")).strip("_.")
    return ARTIFACTS / name[:180]


def save_artifacts(item, pages: list[tuple[str, object]]) -> None:
    """After a failed test, a full-page screenshot and the HTML of each page still open; after
    any other outcome, forget what an earlier failing run of the same test left behind."""
    folder = artifact_dir(item.nodeid)
    report = getattr(item, "rep_call", None)
    if report is None:  # the setup failed: no page was used
        return
    shutil.rmtree(folder, ignore_errors=True)
    if not report.failed:
        return
    folder.mkdir(parents=True)
    for name, page in pages:
        if page.is_closed():
            continue
        # Saving is best effort: it must never hide the failure it is there to explain.
        try:
            page.screenshot(path=str(folder / f"{name}.png"), full_page=True, timeout=10_000)
        except Exception as exc:
            (folder / f"{name}.screenshot-error.txt").write_text(f"{exc}\n")
        try:
            (folder / f"{name}.html").write_text(
                f"<!-- {page.url} -->\n{page.content()}", encoding="utf-8"
            )
        except Exception as exc:
            (folder / f"{name}.html-error.txt").write_text(f"{exc}\n")
        errors = getattr(page, "js_errors", None)
        if errors:
            (folder / f"{name}.js-errors.txt").write_text("\n".join(errors) + "\n")


@pytest.fixture(scope="package")
def production_static_files(tmp_path_factory):
    """Static files as the Dockerfile makes them: collected, hashed and compressed, in a folder
    WhiteNoise serves. Pages then name the hashed files, so a template asking for a file that
    does not exist fails here as it would in production."""
    root = tmp_path_factory.mktemp("staticfiles")
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    with override_settings(STATIC_ROOT=root, STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield root


@pytest.fixture(scope="package")
def live_server(request, production_static_files):
    """pytest-django's live server, with static files left to WhiteNoise in the middleware
    rather than served from the source folders by Django's development handler."""
    address = (
        request.config.getvalue("liveserver")
        or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    server = LiveServer(address, start=False)
    server.thread.static_handler = lambda application: application
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        message = (
            f"Chromium not found at {CHROMIUM}: install Debian's package "
            "(`apt-get install chromium`) or point KB_CHROMIUM at a Chromium binary."
        )
        if os.environ.get("KB_REQUIRE_BROWSER") == "1" or os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message + " Browser tests are skipped (KB_REQUIRE_BROWSER=1 fails instead).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def new_context(browser, live_server, request):
    """Open browser contexts (separate cookie jars: a second visitor) against the live server:
    `new_context("anonymous")`, with any of Playwright's context options. Every page of every
    context is saved if the test fails; all are closed afterwards."""
    contexts: list[tuple[str, object]] = []

    def make(name: str = "page", **options):
        options = {
            "base_url": live_server.url,
            "viewport": {"width": 1200, "height": 900},
        } | options
        context = browser.new_context(**options)
        context.set_default_timeout(15_000)
        contexts.append((name, context))
        return context

    yield make
    pages = []
    for name, context in contexts:
        for number, page in enumerate(context.pages, start=1):
            pages.append((name if number == 1 else f"{name}-{number}", page))
    save_artifacts(request.node, pages)
    for _, context in contexts:
        context.close()


def record_js_errors(page):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    return page


@pytest.fixture
def page(new_context):
    return record_js_errors(new_context("page").new_page())


@pytest.fixture
def mobile_page(new_context):
    return record_js_errors(
        new_context("mobile", viewport={"width": 375, "height": 740}).new_page()
    )


@pytest.fixture
def csp_violations(page):
    """Console messages in which Chromium reports something the policy blocked."""
    found: list[str] = []
    page.on(
        "console",
        lambda message: (
            found.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return found


@pytest.fixture
def demo(db):
    """The demo posts, as `make run` shows them."""
    from notes.demo_content import load_demo
    from notes.models import Post

    load_demo()
    return Post.objects.published()


@pytest.fixture
def long_post(demo):
    """The demo's longest mathematical post: display formulas, code and a table of contents."""
    return demo.get(slug="attention-cost")


@pytest.fixture
def firefox():
    """Firefox, for the layout that must hold in both engines (tests/e2e/firefox.py). Closed
    with its test, as Chromium's pages are: its open connections to the live server would
    otherwise outlive the test's database."""
    from tests.e2e.firefox import FIREFOX, Firefox

    if FIREFOX is None:
        message = (
            "Firefox not found: install Debian's package (`apt-get install firefox-esr`) or "
            "point KB_FIREFOX at a Firefox binary."
        )
        if os.environ.get("KB_REQUIRE_BROWSER") == "1" or os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message + " Firefox tests are skipped (KB_REQUIRE_BROWSER=1 fails instead).")
    browser = Firefox()
    yield browser
    browser.close()
