"""How long the editor's live preview takes on a very long post: 20,000 words, 400 formulas
(half inline, half display, all different), 40 sections and a few code blocks.

Two figures, each the median of several edits after the first render:
- server: one request to the staff-only preview endpoint (the pipeline, the wikilink
  resolver, the request itself), as the editor sends it after a keystroke;
- browser: from a keystroke in the admin's editor (Chromium) until the preview frame shows
  the new text, debounce included.
And the `[[` completion endpoint's time per request with 10,000 posts.

    .venv/bin/python bench/preview_bench.py [--words 20000] [--formulas 400] [--edits 7]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from vocabulary import CODE, FORMULAS, FUNCTION_WORDS, ML_WORDS  # noqa: E402

VOCABULARY = [*ML_WORDS, *FUNCTION_WORDS]
PASSWORD = "a long benchmark password"


def long_post(words: int, formulas: int, rng: random.Random) -> str:
    sections = 40
    per_section = words // sections
    maths = [FORMULAS[k % len(FORMULAS)].format(i=k) for k in range(formulas)]
    per_math = formulas // sections
    parts = []
    for section in range(sections):
        parts.append(f"## Section {section}\n")
        chunk = [rng.choice(VOCABULARY) for _ in range(per_section)]
        step = max(per_section // (per_math + 1), 1)
        for k in range(per_math):
            formula = maths[section * per_math + k]
            at = (k + 1) * step
            chunk[at] = f"${formula}$" if k % 2 else f"\n\n$$ {formula} $$\n\n"
        for at in range(60, len(chunk), 60):
            chunk[at] += "\n\n"
        parts.append(" ".join(chunk) + "\n")
        if section % 10 == 3:
            parts.append(CODE.format(i=section) + "\n")
    return "\n".join(parts)


def setup_django(data_dir: str) -> None:
    os.environ["KB_DATA_DIR"] = data_dir
    os.environ["DJANGO_DEBUG"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kb.settings")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def server_times(user, body: str, edits: int) -> tuple[float, list[float]]:
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    times = []
    for n in range(edits + 1):
        start = time.perf_counter()
        response = client.post("/admin/markdownx/markdownify/", {"content": body + f" edit{n}"})
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, response.status_code
    return times[0], times[1:]


def completion_times(user, posts: int, rng: random.Random) -> list[float]:
    """`[[` completion at `posts` posts: one request per query, as the editor sends them."""
    from django.test import Client

    from notes.models import Post, title_words

    words = [w for w in VOCABULARY if w.isalpha()]
    Post.objects.bulk_create(
        Post(
            title=f"{rng.choice(words)} {rng.choice(words)} {n}",
            slug=f"{rng.choice(words)}-{rng.choice(words)}-{n}",
            body="x",
            author=user,
        )
        for n in range(posts)
    )
    title_words.rebuild()  # bulk_create skips Post.save(), which keeps them
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    times = []
    for word in words[:30]:
        start = time.perf_counter()
        response = client.get("/admin/notes/post/link-targets/", {"q": word[:3]})
        times.append(time.perf_counter() - start)
        assert response.status_code == 200
    return times


def browser_times(post, live_url: str, edits: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("KB_CHROMIUM", "/usr/bin/chromium"),
            args=["--no-sandbox", "--disable-gpu"],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900}, base_url=live_url)
        page.goto("/admin/login/")
        page.fill("#id_username", "bench")
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.goto(f"/admin/notes/post/{post.pk}/change/")
        wait_for(page, "document.querySelector('.kb-editor').dataset.previewed === '1'", 120)
        page.locator("#id_body").press("Control+End")
        for n in range(edits):
            marker = f"zq{n}x"
            start = time.perf_counter()
            page.keyboard.type(f" {marker}")
            wait_for(
                page,
                "document.querySelector('.kb-editor-preview').contentDocument"
                f".getElementById('preview-body').textContent.includes('{marker}')",
                60,
            )
            times.append(time.perf_counter() - start)
            page.wait_for_timeout(300)
            timing = page.evaluate("document.querySelector('.kb-editor').dataset.previewTiming")
            print(f"  edit {n}: {times[-1] * 1000:.0f} ms (request, insert, sync: {timing} ms)")
        browser.close()
    return times


def wait_for(page, script: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if page.evaluate(script):
            return
        page.wait_for_timeout(10)
    raise SystemExit(f"Timed out waiting for: {script}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=20_000)
    parser.add_argument("--formulas", type=int, default=400)
    parser.add_argument("--edits", type=int, default=7)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--completion-posts", type=int, default=10_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as data_dir:
        setup_django(data_dir)
        from django.contrib.auth import get_user_model

        from notes import services
        from notes.models import Post

        user = get_user_model().objects.create_superuser("bench", "", PASSWORD)
        body = long_post(args.words, args.formulas, random.Random(1))
        display = body.count("$$") // 2
        inline = (body.count("$") - 4 * display) // 2
        print(f"post: {len(body.split()):,} words, {display} display and {inline} inline formulas")

        first, later = server_times(user, body, args.edits)
        print(f"server, first render:     {first * 1000:7.0f} ms")
        print(f"server, each later edit:  {statistics.median(later) * 1000:7.0f} ms (median)")
        times = completion_times(user, args.completion_posts, random.Random(2))
        print(
            f"[[ completion at {args.completion_posts:,} posts: "
            f"{statistics.median(times) * 1000:.1f} ms a request (median), "
            f"{max(times) * 1000:.1f} ms at most"
        )
        if args.no_browser:
            return

        from pytest_django.live_server_helper import LiveServer

        post = services.save_post(Post(title="A very long post", body=body, author=user))
        server = LiveServer("localhost")
        try:
            times = browser_times(post, server.url, args.edits)
        finally:
            server.stop()
        print(
            f"browser, keystroke to preview: {statistics.median(times) * 1000:7.0f} ms (median, "
            f"{min(times) * 1000:.0f}-{max(times) * 1000:.0f}; 150 ms of it is the debounce)"
        )


if __name__ == "__main__":
    main()
