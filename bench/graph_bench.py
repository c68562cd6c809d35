"""How long the graph of the notes takes: its layout, the /graph/ page with the layout computed,
with the layout cached (a post's text changed, not its links), and from the page cache; and a
post's local graph. The knowledge base is written in bulk into a throwaway SQLite database
(or DATABASE_URL's), with links that mostly join nearby posts, as notes on one topic do.

    .venv/bin/python bench/graph_bench.py --posts 10000 --links 50000
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


def setup(data_dir: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kb.settings")
    # DEBUG only so templates find static files uncollected; the page cache stays on.
    os.environ["DJANGO_DEBUG"] = "1"
    os.environ["KB_PAGE_CACHE_SECONDS"] = "86400"
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-" + "x" * 40)
    os.environ["KB_DATA_DIR"] = data_dir
    os.environ.setdefault("KB_CACHE_MAX_ENTRIES", "20000")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build(posts: int, links: int, seed: int) -> list[int]:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from notes import site_state
    from notes.models import Link, Post, Tag

    rng = random.Random(seed)
    author = get_user_model().objects.create_user("bench")
    now = timezone.now()
    Post.objects.bulk_create(
        [
            Post(
                title=f"Note {n}",
                slug=f"note-{n}",
                body=f"Note {n}.",
                body_html=f"<p>Note {n}.</p>",
                status=Post.Status.PUBLISHED,
                published_at=now - timezone.timedelta(minutes=n),
                author=author,
            )
            for n in range(posts)
        ],
        batch_size=2000,
    )
    ids = list(Post.objects.order_by("pk").values_list("pk", flat=True))
    tags = [Tag.objects.create(name=f"topic {t}") for t in range(40)]
    through = Post.tags.through
    through.objects.bulk_create(
        [through(post_id=pk, tag_id=tags[i * 40 // len(ids)].pk) for i, pk in enumerate(ids)],
        batch_size=5000,
    )
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < links:
        a = rng.randrange(len(ids))
        b = int(abs(rng.gauss(a, len(ids) / 40))) % len(ids)
        if a != b:
            pairs.add((ids[a], ids[b]))
    Link.objects.bulk_create([Link(source_id=s, target_id=t) for s, t in pairs], batch_size=5000)
    site_state.mark_changed()
    return ids


def timed(action) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--links", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as data_dir:
        setup(data_dir)
        from django.core.cache import cache
        from django.test import Client

        from notes import graph, site_state
        from notes.models import Link, Post

        seconds, ids = timed(lambda: build(args.posts, args.links, args.seed))
        print(f"built {len(ids):,} posts and {Link.objects.count():,} links in {seconds:.1f} s")
        edges = sorted(Link.objects.values_list("source_id", "target_id"))

        seconds, _ = timed(lambda: graph.layout(ids, edges, graph.SIZE))
        print(f"layout alone: {seconds:.1f} s")

        client = Client(HTTP_ACCEPT_ENCODING="gzip")
        cache.clear()
        seconds, response = timed(lambda: client.get("/graph/"))
        assert response.status_code == 200, response.status_code
        print(
            f"/graph/, layout computed: {seconds:.1f} s, "
            f"{len(response.content) / 1024:,.0f} KB gzipped"
        )
        site_state.mark_changed()  # a post's text changed: new page, same links
        seconds, _ = timed(lambda: client.get("/graph/"))
        print(f"/graph/, layout cached: {seconds:.2f} s")
        cached = [timed(lambda: client.get("/graph/"))[0] for _ in range(50)]
        print(f"/graph/ from the page cache: {statistics.median(cached) * 1000:.1f} ms median")

        sample = random.Random(args.seed).sample(ids, 20)
        posts = Post.objects.in_bulk(sample)
        cache.clear()
        local = [timed(lambda p=posts[pk]: graph.local_graph(p))[0] for pk in sample]
        print(
            f"local graph of a post (first time, 20 posts): median "
            f"{statistics.median(local) * 1000:.0f} ms, max {max(local) * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
