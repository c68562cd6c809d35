"""Search latency with 10,000 published posts: p50 and p95 of 200 requests to the search page.

    .venv/bin/python bench/search_bench.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_dev .venv/bin/python bench/search_bench.py

It works in a throwaway database, the way the test runner does (SQLite in memory; on
PostgreSQL test_<the configured name>, dropped at the end), fills it with bulk_create, runs
`reindex`, then times whole requests through Django's test client: parsing, the search,
snippets, facets and the template. Nothing in the configured database is touched.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kb.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "search-bench-only")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
os.environ.setdefault("KB_LOG_LEVEL", "WARNING")

import django
from django.conf import settings

# No collectstatic manifest here; plain storage keeps {% static %} working with DEBUG off.
settings.STORAGES["staticfiles"]["BACKEND"] = (
    "django.contrib.staticfiles.storage.StaticFilesStorage"
)
# Django's test database name: in memory on SQLite, test_<NAME> on PostgreSQL.
settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = None
# The search itself is measured, never a cached copy of its page.
settings.KB_PAGE_CACHE_SECONDS = 0
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402
from vocabulary import CLUSTERS, FILLER, RARE, VOCABULARY, sentence  # noqa: E402

from notes.catalogue import catalogue  # noqa: E402
from notes.models import Post, Tag  # noqa: E402


def fill(count: int, rng: random.Random) -> None:
    author = get_user_model().objects.create_user("bench", password="bench-only-password")
    tags = Tag.objects.bulk_create([Tag(name=cluster[0], slug=cluster[0]) for cluster in CLUSTERS])
    now = timezone.now()
    posts = []
    for i in range(count):
        topics = rng.sample(CLUSTERS, 3)
        body = "\n\n".join(
            " ".join(sentence(rng, topics, rng.randint(8, 20)) for _ in range(4)) for _ in range(5)
        )
        title = " ".join(rng.choice(topics[0]) for _ in range(rng.randint(2, 6))).capitalize()
        posts.append(
            Post(
                title=title,
                slug=f"post-{i}",
                summary=sentence(rng, topics, 15) if rng.random() < 0.5 else "",
                body=body,
                excerpt=body[:200],
                status=Post.Status.PUBLISHED,
                published_at=now - datetime.timedelta(hours=rng.randint(1, 5 * 365 * 24)),
                author=author,
            )
        )
    Post.objects.bulk_create(posts, batch_size=500)
    through = Post.tags.through
    links = [
        through(post_id=post.pk, tag_id=tag.pk)
        for post in Post.objects.only("pk")
        for tag in rng.sample(tags, rng.randint(0, 3))
    ]
    through.objects.bulk_create(links, batch_size=2000)


def queries(rng: random.Random, n: int) -> list[tuple[str, str]]:
    """(shape, query) pairs: mostly topic words, as people search, and some worst cases."""
    word = lambda: rng.choice(VOCABULARY)  # noqa: E731
    shapes = {
        "word": word,
        "two words": lambda: f"{word()} {rng.choice(rng.choice(CLUSTERS))}",
        "phrase": lambda: f'"{rng.choice(FILLER[23:])} {word()}"',
        "exclusion": lambda: f"{word()} -{word()}",
        "or": lambda: f"{word()} OR {word()}",
        "tag filter": lambda: f"{word()} tag:{rng.choice(CLUSTERS)[0]}",
        "rare word": lambda: rng.choice(RARE),
        "common word": lambda: rng.choice(["training", "model", "results", "simple approach"]),
        # Finds nothing, so the page looks for close titles and tags and a broader query.
        "no results": lambda: f"{word()[:-1]}qz {word()}",
    }
    names = list(shapes)
    return [(name, shapes[name]()) for name in (rng.choice(names) for _ in range(n))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        rng = random.Random(5)
        started = time.perf_counter()
        fill(args.posts, rng)
        call_command("reindex", verbosity=0)
        if connection.vendor == "postgresql":
            # Autovacuum would analyze the bulk-loaded tables within a minute in production.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        print(
            f"{connection.vendor}: {args.posts} posts loaded and indexed in "
            f"{time.perf_counter() - started:.1f}s"
        )

        tracemalloc.start()
        catalogue()
        memory, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"catalogue of published posts: {memory / 1e6:.1f} MB per worker")

        client = Client()
        for _, q in queries(rng, 10):  # warm caches and connections; not timed
            client.get("/search/", {"q": q})
        timings: dict[str, list[float]] = {}
        hits = []
        for shape, q in queries(rng, args.queries):
            start = time.perf_counter()
            response = client.get("/search/", {"q": q})
            timings.setdefault(shape, []).append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (q, response.status_code)
            hits.append(response.context["paginator"].count)
        every = [t for shape in timings.values() for t in shape]
        cuts = statistics.quantiles(every, n=100)
        print(
            f"{len(every)} searches: p50 {cuts[49]:.1f} ms, p95 {cuts[94]:.1f} ms, "
            f"max {max(every):.1f} ms; median matches {statistics.median(hits):.0f}"
        )
        for shape, values in timings.items():
            print(
                f"  {shape:12} n={len(values):3} median {statistics.median(values):6.1f} ms, "
                f"max {max(values):6.1f} ms"
            )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
