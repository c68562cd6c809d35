"""How long `import_markdown` takes on a folder of 10,000 Markdown notes, and a second time
when nothing changed.

    .venv/bin/python bench/import_bench.py
    .venv/bin/python bench/import_bench.py --files 2000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_dev .venv/bin/python bench/import_bench.py

Each generated note has front matter (title, date in either format, tags from a pool of 60,
a summary), ~250 words in three sections, a formula and a code block, and two [[wikilinks]] to
other notes, some of them to notes that come later in the import. The database is a throwaway
one made the way the test runner makes it (a SQLite file in a temporary folder, or a
PostgreSQL database named kb_import_bench), so the configured database is never touched.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kb.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "import-bench-only")
os.environ.setdefault("KB_LOG_LEVEL", "WARNING")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from vocabulary import ML_WORDS  # noqa: E402

from notes.importing import import_markdown  # noqa: E402
from notes.models import Link, Post  # noqa: E402


def sentence(rng: random.Random) -> str:
    words = rng.choices(ML_WORDS, k=rng.randint(8, 16))
    return " ".join(words).capitalize() + "."


def note(n: int, count: int, rng: random.Random) -> str:
    tags = ", ".join(f"topic {t}" for t in rng.sample(range(60), 3))
    date = f"20{10 + n % 14:02d}-{1 + n % 12:02d}-{1 + n % 28:02d}"
    if n % 2:
        date += f"T{n % 24:02d}:15:00+01:00"
    links = " and ".join(f"[[Note {rng.randrange(count)}]]" for _ in range(2))
    sections = "\n\n".join(
        f"## Part {part}\n\n" + " ".join(sentence(rng) for _ in range(5)) for part in range(3)
    )
    return (
        f"---\ntitle: Note {n}\nslug: note-{n}\ndate: {date}\ntags: [{tags}]\n"
        f"summary: {sentence(rng)}\n---\n"
        f"{sentence(rng)} See {links}.\n\n$$\\mathbb{{E}}[x_{{{n}}}] = \\mu_{{{n % 97}}}$$\n\n"
        f"{sections}\n\n```python\nprint({n})\n```\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "notes"
        folder.mkdir()
        rng = random.Random(7)
        for n in range(args.files):
            (folder / f"note-{n}.md").write_text(note(n, args.files, rng), encoding="utf-8")

        test_settings = settings.DATABASES["default"].setdefault("TEST", {})
        sqlite = connection.vendor == "sqlite"
        test_settings["NAME"] = str(Path(tmp) / "bench.sqlite3") if sqlite else "kb_import_bench"
        settings.MEDIA_ROOT = Path(tmp) / "media"
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            author = get_user_model().objects.create_user("bench", is_superuser=True)
            timings = []
            for run in ("first import", "same files again"):
                started, cpu_started = time.perf_counter(), time.process_time()
                report = import_markdown([folder], author=author)
                seconds = time.perf_counter() - started
                # CPU time as well: on a machine shared with other work, wall time measures
                # the neighbours too.
                cpu = time.process_time() - cpu_started
                timings.append(seconds)
                print(
                    f"{run}: {args.files:,} files in {seconds:.1f} s "
                    f"({args.files / seconds:,.0f} files/s; {cpu:.1f} s of CPU, load average "
                    f"{os.getloadavg()[0]:.1f}) — {report.summary()}",
                    flush=True,
                )
            print(
                f"{connection.vendor}: {Post.objects.count():,} posts, "
                f"{Link.objects.count():,} cross-links, "
                f"{Post.objects.exclude(broken_wikilinks='').count():,} with broken wikilinks"
            )
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
