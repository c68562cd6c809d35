"""The site the soak test runs: a database on its own PostgreSQL server, kb's commands run
against it, and gunicorn serving it as production does."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path

from pg_instance import PostgresInstance
from soak_client import Session
from vocabulary import CLUSTERS, sentence

ROOT = Path(__file__).resolve().parent.parent
STAFF = "soak"


def manage(env: dict, *args: str, check: bool = True, timeout: float = 600):
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done


def query(env: dict, script: str):
    """Run Python inside Django against the soak's database; returns what it printed as JSON."""
    done = manage(env, "shell", "-v", "0", "-c", script)
    return json.loads(done.stdout.strip().splitlines()[-1])


def create_database(pg: PostgresInstance, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{pg.url}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')


SETUP = f"""
import json
from django.contrib.auth import get_user_model
from notes.models import Post
get_user_model().objects.create_superuser({STAFF!r}, "", PASSWORD)
author = get_user_model().objects.get(username={STAFF!r})
from notes import services
targets = []
for n in range(6):
    post = services.save_post(Post(title=f"Soak target {{n}}", body="Not edited yet.",
                                   status="published", author=author))
    targets.append((post.pk, post.slug))
print(json.dumps({{"targets": targets,
    "slugs": list(Post.objects.published().values_list("slug", flat=True)),
    "tags": list(Post.tags.through.objects.values_list("tag__slug", flat=True).distinct())}}))
"""


def setup(env: dict, tmp: Path, posts: int, password: str) -> dict:
    manage(env, "migrate", "-v", "0")
    manage(env, "collectstatic", "--noinput", "-v", "0")
    manage(env, "load_demo")
    info = query(env, SETUP.replace("PASSWORD", repr(password)))
    notes = tmp / "corpus"
    notes.mkdir()
    rng = random.Random(1)
    for n in range(posts):
        topics = rng.sample(CLUSTERS, 2)
        (notes / f"corpus-{n}.md").write_text(
            f"---\ntitle: Corpus note {n}\ntags: [{', '.join(topics[0][:2])}]\n---\n"
            + "\n\n".join(sentence(rng, topics, 60) for _ in range(6))
            + "\n",
            encoding="utf-8",
        )
    manage(env, "import_markdown", str(notes), "--author", STAFF)
    info["slugs"] += [f"corpus-{n}" for n in range(posts)]
    return info


def start_gunicorn(env: dict, port: int, workers: int) -> subprocess.Popen:
    server_env = env | {
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": str(workers),
        "GUNICORN_ACCESS_LOG": "",
        "GUNICORN_MAX_REQUESTS": "0",
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "kb/gunicorn_conf.py",
            "kb.wsgi",
            "--no-control-socket",
        ],
        cwd=ROOT,
        env=server_env,
        stdout=subprocess.DEVNULL,
    )
    for _ in range(150):
        try:
            if Session(port).request("GET", "/healthz")[0] == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not answer /healthz within 30 s")
