"""What several browser tests do: log into the admin, wait without eval, measure the layout."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model

PASSWORD = "a long and unguessable password"


def make_admin(username: str = "admin"):
    return get_user_model().objects.create_superuser(username, "", PASSWORD)


def log_in(page, username: str = "admin") -> None:
    page.goto("/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))


def wait_until(page, script: str, timeout_ms: int = 10_000) -> None:
    """Poll `script` with evaluate(): wait_for_function compiles its predicate in the page,
    which the Content-Security-Policy (rightly) refuses as eval."""
    for _ in range(timeout_ms // 100):
        if page.evaluate(script):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"Still false after {timeout_ms} ms: {script}")


def horizontal_overflow(page) -> int:
    """How many pixels the page is wider than the viewport (> 0: a sideways scroll bar)."""
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def card_titles(page) -> list[str]:
    """The titles of the post cards a listing (home, tag, search, series) shows."""
    return [t.strip() for t in page.locator("article.post-card h2").all_inner_texts()]
