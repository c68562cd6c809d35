"""Hostile Markdown in a real browser: on the published page and in the editor's live preview,
no payload runs, however the reader hovers and clicks.

The pages run with the Content-Security-Policy switched off (`bypass_csp`): the policy would
block inline handlers and javascript: URLs on its own, and these tests are about the sanitizer
(the policy has tests of its own). A payload that gets through shows up as a dialog or as one of
the markers it sets on `window`."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.helpers import log_in, make_admin
from tests.factories import make_post
from tests.test_rendering import XSS

pytestmark = pytest.mark.django_db(transaction=True)

MARKERS = ("__xss", "__pwned")
LINK_PAYLOADS = [
    "[x](javascript:window.__pwned=1)",
    "[x](javascript:window.__pwned=1 'with a title')",
    '<a href="javascript:window.__xss=1">html link</a>',
    '<a href="jav&#x09;ascript:window.__pwned=1">tab link</a>',
    '<a href="javascript&colon;window.__pwned=1">colon entity</a>',
    '<a href="#" onclick="window.__xss=1">onclick link</a>',
    '<svg onload="window.__xss=1"><a href="javascript:window.__xss=1"><text>t</text></a></svg>',
    '<math><mtext><a href="javascript:window.__pwned=1">math link</a></mtext></math>',
    '<math href="javascript:window.__pwned=1"><mi>x</mi></math>',
    '<img src=x onerror="window.__xss=1">',
    '<details open ontoggle="window.__xss=1"><summary>s</summary></details>',
    '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
    '<form><button formaction="javascript:window.__xss=1">go</button></form>',
    '<a href="data:text/html,<script>alert(1)</script>">data link</a>',
    '<p style="background:url(javascript:window.__xss=1)">styled</p>',
    "[[x|<img src=x onerror=window.__xss=1>]]",
    "$\\href{javascript:window.__pwned=1}{formula link}$",
    "[ref link][evil2]\n\n[evil2]: javascript:window.__pwned=1",
    # These do become links: quotes in them must stay inside the href.
    '<https://example.com/"onmouseover="window.__xss=1>',
    "[relative](/posts/a'onmouseover='window.__xss=1)",
    "[mail](mailto:a@example.com?body=<script>alert(1)</script>)",
    "[protocol-relative](//evil.example/%0a%0dalert(1))",
    "A note[^n].\n\n[^n]: <img src=x onerror=window.__xss=1> [y](javascript:window.__pwned=1)",
    '[[Hostile 1]] and [[Hostile 1|a label" onclick="window.__xss=1]]',
]
PAYLOADS = XSS + LINK_PAYLOADS


def groups(size: int) -> list[list[tuple[int, str]]]:
    """The payloads, numbered, a few at a time: fewer page loads (and previews, each half a
    second of markdownx's debounce), and still a short list to look through when one runs."""
    numbered = list(enumerate(PAYLOADS))
    return [numbered[i : i + size] for i in range(0, len(numbered), size)]


def body_of(group: list[tuple[int, str]]) -> str:
    return "\n\n".join(f"before-{n}\n\n{payload}\n\nafter-{n}" for n, payload in group)


@pytest.fixture
def hostile_context(new_context, live_server):
    """One context for all posts: no CSP, no way out to the network, every dialog recorded."""
    context = new_context("hostile", bypass_csp=True)
    dialogs: list[str] = []

    def on_dialog(dialog):
        where = dialog.page.url if dialog.page else "?"
        dialogs.append(f"{dialog.type}({dialog.message!r}) on {where}")
        dialog.dismiss()

    def watch(page):
        page.on("dialog", on_dialog)

    context.on("page", watch)  # popups too (target=_blank, window.open)
    # Nothing leaves the machine. A 204 answer also keeps the page where it was when a link
    # points elsewhere: a browser does not navigate to an empty response.
    context.route(
        re.compile(r"^(?!" + re.escape(live_server.url) + ")"),
        lambda route: route.fulfill(status=204),
    )
    context.dialogs = dialogs
    return context


def markers_set(page) -> list[str]:
    return page.evaluate(f"{list(MARKERS)!r}.filter(name => window[name] !== undefined)")


def click_every_link(page, scope: str, restore, what: str) -> list[str]:
    """Hover and click each link under `scope`, checking the markers after each click; if a
    click leaves the page, `restore()` brings it back before the next one. `page` may be a
    frame (the editor's preview): then the page around it is checked as well."""
    found: list[str] = []
    top = getattr(page, "page", page)
    links = page.locator(f"{scope} a")
    for index in range(links.count()):
        link = links.nth(index)
        before = page.url.split("#")[0]
        try:
            link.click(timeout=1_000)  # moves the mouse over it first: mouseover handlers run
        except PlaywrightTimeoutError:  # hidden, or covered by something else
            link.dispatch_event("click")
        page.wait_for_timeout(50)  # a javascript: URL runs as a task after the click
        found += [f"{what}, link {index}: window.{name}" for name in markers_set(page)]
        if top is not page:
            found += [f"{what}, link {index}: top.{name}" for name in markers_set(top)]
        for popup in top.context.pages:
            if popup is not top:
                popup.close()
        if page.url.split("#")[0] != before:
            restore()
    return found


def swallowed(text: str, group: list[tuple[int, str]]) -> list[int]:
    """The payloads whose surrounding text is missing: a payload must be shown inert, not
    allowed to swallow what follows it."""
    return [n for n, _ in group if f"before-{n}" not in text or f"after-{n}" not in text]


def test_hostile_posts_stay_inert_when_read_and_clicked(hostile_context):
    posts = [
        make_post(f"Hostile {number}", body=body_of(group), days_ago=number)
        for number, group in enumerate(groups(8), start=1)
    ]
    page = hostile_context.new_page()
    found: list[str] = []
    missing: list[int] = []
    clicked = 0
    for post, group in zip(posts, groups(8), strict=True):
        url = post.get_absolute_url()
        assert page.goto(url).status == 200
        page.wait_for_timeout(50)  # failed images fire onerror after the load event
        found += [f"{post.title}: window.{name}" for name in markers_set(page)]
        missing += swallowed(page.locator(".prose").inner_text(), group)
        clicked += page.locator(".prose a").count()
        found += click_every_link(page, ".prose", lambda url=url: page.goto(url), post.title)
    assert hostile_context.dialogs == []
    assert found == []
    assert missing == []
    assert clicked >= 10  # links that survive sanitizing were clicked, not only text


def test_hostile_text_stays_inert_in_the_live_preview(hostile_context):
    make_admin()
    page = hostile_context.new_page()
    log_in(page)
    page.goto("/admin/notes/post/add/")

    def preview():
        return page.frame(url=re.compile(r"/preview-frame/$"))

    found: list[str] = []
    missing: list[int] = []
    for group in groups(20):
        what = f"preview of payloads {group[0][0]}-{group[-1][0]}"

        def show(group=group):
            if "/admin/notes/post/add/" not in page.url:
                page.goto("/admin/notes/post/add/")
            # fill() fires an input event; markdownx posts the text half a second later. (The
            # preview of the empty editor, asked for as the page loads, may still be on its way.)
            with page.expect_response(
                lambda r: (
                    "/markdownx/markdownify/" in r.url
                    and f"after-{group[-1][0]}" in (r.request.post_data or "")
                )
            ):
                page.fill("#id_body", body_of(group))
            page.wait_for_timeout(100)  # the preview is replaced, then failed images fire

        show()
        found += [f"{what}: window.{name}" for name in markers_set(page)]
        found += [f"{what}: preview window.{name}" for name in markers_set(preview())]
        missing += swallowed(preview().locator("#preview-body").inner_text(), group)
        found += click_every_link(preview(), "#preview-body", show, what)
    assert hostile_context.dialogs == []
    assert found == []
    assert missing == []
