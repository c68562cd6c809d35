"""The benchmark's front: nginx with deploy/nginx.conf in front of the benchmark's gunicorn.

Two runs against nginx itself: a post page's bytes as a static file (nginx's own speed, the
second baseline), and cached pages through the front (the micro-cache answering). Then an edit
made in the database, timed until a reader through the front sees it. nginx is Debian's
package; when it is missing the benchmark installs it with apt-get (as root) or says how.
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import loadgen

from deploy import front
from notes import services
from notes.models import Post

INTERVAL_SECONDS = 5  # deploy/nginx.conf's proxy_cache_valid


def ensure_nginx() -> str | None:
    found = front.nginx_binary()
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    print("… installing nginx (Debian's package)", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "nginx"], check=False, env=env)
    return front.nginx_binary()


def run(base: str, static_root: Path, workdir: Path, post_paths: list[str], load: dict) -> dict:
    """Runs through nginx, and how long an edit took to show through the front."""
    if ensure_nginx() is None:
        print("nginx is not installed and could not be: `apt-get install nginx`", flush=True)
        return {"runs": [], "edit_visible_s": None}
    # The same bytes a reader gets for a post page, as a file nginx sends itself, compressed
    # beforehand as collectstatic compresses static files (gzip_static), so nginx does no work
    # per request that kb's page cache doesn't do either.
    page = urllib.request.urlopen(base + post_paths[0]).read()
    (static_root / "bench-post.html").write_bytes(page)
    (static_root / "bench-post.html.gz").write_bytes(gzip.compress(page, 6))
    upstream = base.removeprefix("http://")
    nginx = front.start(upstream, workdir, static_root, static_root, workers=2)
    try:
        runs = [
            loadgen.run_load(
                nginx.url, ["/static/bench-post.html"], label="nginx static post page", **load
            )
        ]
        # Every address fetched as readers ask for it, so the front holds it; then the run.
        warm = load | {"max_requests": len(post_paths) * 4, "max_seconds": 10.0}
        loadgen.run_load(nginx.url, [*post_paths, "/"], label="warm-up", **warm)
        _check_same_page(base, nginx.url, post_paths[0])
        runs.append(loadgen.run_load(nginx.url, post_paths, label="post page via front", **load))
        runs.append(loadgen.run_load(nginx.url, ["/"], label="listing / via front", **load))
        return {"runs": runs, "edit_visible_s": _edit_visible_after(nginx.url)}
    finally:
        nginx.stop()


def _check_same_page(base: str, front_url: str, path: str) -> None:
    """The front must answer with kb's page, gzipped as kb sends it, or the figures mean
    nothing."""
    headers = {"Accept-Encoding": "gzip"}
    direct = urllib.request.urlopen(urllib.request.Request(base + path, headers=headers))
    through = urllib.request.urlopen(urllib.request.Request(front_url + path, headers=headers))
    assert through.headers["Content-Encoding"] == "gzip"
    # Absolute links name the host kb was asked for: with its port directly, without through
    # nginx (which passes $host).
    mine = gzip.decompress(direct.read()).decode().replace(base, "http://127.0.0.1")
    assert gzip.decompress(through.read()).decode() == mine


def _edit_visible_after(url: str) -> float:
    post = Post.objects.published().order_by("-published_at").first()
    before = urllib.request.urlopen(url + "/").read().decode()
    assert post.title in before
    post.title = f"Edited for the benchmark {time.time():.0f}"
    services.save_post(post)
    started = time.perf_counter()
    while time.perf_counter() - started < INTERVAL_SECONDS * 3:
        if post.title in urllib.request.urlopen(url + "/").read().decode():
            return round(time.perf_counter() - started, 2)
        time.sleep(0.1)
    return float("inf")
