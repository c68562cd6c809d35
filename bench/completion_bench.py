"""`[[` completion with 10,000 posts: the time of the endpoint's query (and of whole requests
to it) for the shapes of what an author types, and the plan each engine uses.

    .venv/bin/python bench/completion_bench.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb .venv/bin/python bench/completion_bench.py

It works in a throwaway database, as the test runner does (SQLite in memory; on PostgreSQL
test_<the configured name>, dropped at the end), and fills it with bulk_create: 10% drafts, 2%
in the trash, titles of 2 to 7 topic words. Nothing in the configured database is touched.
`Post.objects.link_candidates` is timed on its own and through the endpoint (session, user,
JSON): the median and the slowest of 10 queries of each shape.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kb.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "completion-bench-only")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
os.environ.setdefault("KB_LOG_LEVEL", "WARNING")

import django
from django.conf import settings

settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = None
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402
from vocabulary import CLUSTERS, VOCABULARY  # noqa: E402

from notes.models import Post, title_words  # noqa: E402
from notes.views.editor import COMPLETIONS  # noqa: E402

URL = "/admin/notes/post/link-targets/"


def fill(count: int, rng: random.Random, author) -> None:
    now = timezone.now()
    posts = []
    for i in range(count):
        topic = rng.choice(CLUSTERS)
        title = " ".join(rng.choice(topic) for _ in range(rng.randint(2, 7))).capitalize()
        draft = rng.random() < 0.10
        posts.append(
            Post(
                title=f"{title} {i}",
                slug=f"{title.lower().replace(' ', '-')[:100]}-{i}",
                body="Text.",
                status=Post.Status.DRAFT if draft else Post.Status.PUBLISHED,
                published_at=None if draft else now - datetime.timedelta(hours=i),
                trashed_at=now if rng.random() < 0.02 else None,
                author=author,
            )
        )
    Post.objects.bulk_create(posts, batch_size=500)
    title_words.rebuild()  # bulk_create skips Post.save(), which writes them one post at a time


def shapes(rng: random.Random) -> dict[str, callable]:
    words = [w for w in VOCABULARY if w.isalpha()]
    word = lambda: rng.choice(words)  # noqa: E731
    return {
        "one letter": lambda: rng.choice("abcdefghilmnoprst"),
        "two letters": lambda: word()[:2],
        "word prefix": lambda: word()[:4],
        "two word prefixes": lambda: f"{word()[:4]} {word()[:3]}",
        "slug prefix": lambda: f"{word()}-{word()[:2]}",
        "no match": lambda: "qzx" + word()[:3],
        # The vocabulary's synthetic words (topic07word03) start most titles: the worst case,
        # every post a candidate to rank.
        "worst: in most titles": lambda: rng.choice(["to", "topi", "topic"]),
    }


def plan(sql: str) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN {sql}")
            return "\n    ".join(row[0] for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return "\n    ".join(str(row[-1]) for row in cursor.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=70)
    args = parser.parse_args()

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        rng = random.Random(17)
        author = get_user_model().objects.create_superuser("bench", password="bench-only-pw")
        started = time.perf_counter()
        fill(args.posts, rng, author)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # as autovacuum (PostgreSQL) or `optimize` would have
        words = title_words.TitleWord.objects.count()
        print(
            f"{connection.vendor}: {args.posts} posts, {words} title words, loaded in "
            f"{time.perf_counter() - started:.1f}s"
        )

        client = Client()
        client.force_login(author)
        client.get(URL, {"q": "a"})  # the session's first read; not timed
        made = shapes(rng)
        for name, make in made.items():  # warm up, and show one plan per shape
            with CaptureQueriesContext(connection) as queries:
                Post.objects.link_candidates(make(), limit=COMPLETIONS)
            if name in {"two word prefixes", "worst: in most titles"}:
                print(f"plan for {name}:\n    {plan(queries.captured_queries[-1]['sql'])}")
        for name, make in made.items():
            direct, requests, found = [], [], []
            for _ in range(args.queries // len(made)):
                text = make()
                start = time.perf_counter()
                found.append(len(Post.objects.link_candidates(text, limit=COMPLETIONS)))
                direct.append((time.perf_counter() - start) * 1000)
                start = time.perf_counter()
                response = client.get(URL, {"q": text})
                requests.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200
            print(
                f"  {name:21} query median {statistics.median(direct):5.1f} ms, "
                f"max {max(direct):5.1f} ms; request median {statistics.median(requests):5.1f} "
                f"ms, max {max(requests):5.1f} ms; results median {statistics.median(found):.0f}"
            )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
