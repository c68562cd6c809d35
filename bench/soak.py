"""kb's soak test: the site under gunicorn on PostgreSQL, under mixed load, while faults are
injected; then a check that nothing acknowledged was lost and nothing was left half-done.

    make soak                       # about 3 minutes of load
    .venv/bin/python bench/soak.py --quick          # about 1 minute
    .venv/bin/python bench/soak.py --seconds 300

Everything runs on loopback, in throwaway folders, against a PostgreSQL server of its own
(bench/pg_instance.py), so restarting it disturbs no one. The load: anonymous readers of pages
and feeds, searches, staff editing and adding posts through the admin's forms (with their CSRF
tokens), Markdown imports in batches, and one backup. The faults: a gunicorn worker killed with
SIGKILL (twice), PostgreSQL restarted once (fast shutdown: every open connection is cut), and
the page cache filled past its size. At the end it checks, and prints:

- every edit and new post the admin acknowledged (302) is in the database and on its page;
- every import batch is there whole or not at all;
- no 5xx outside the database restart window, and none from the worker kills or the cache fill;
- readers get pages again within a few seconds of the database being back;
- the backup taken under load restores into an empty database as a consistent site.

Exit status 0 when every check holds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from pg_instance import PostgresInstance  # noqa: E402
from processes import free_port, workers_of  # noqa: E402
from soak_checks import CACHE_ENTRIES, IMPORT_BATCH, WORKERS, Run, check, report  # noqa: E402
from soak_client import Session, form_of, with_values  # noqa: E402
from soak_site import STAFF, create_database, manage, setup, start_gunicorn  # noqa: E402
from vocabulary import CLUSTERS, VOCABULARY, sentence  # noqa: E402

PASSWORD = "soak-" + secrets.token_urlsafe(12)

# ---------------------------------------------------------------- the load


def reader(run: Run, port: int, paths: list[str], seed: int) -> None:
    rng, session = random.Random(seed), Session(port)
    while not run.stop.is_set():
        session.timed(run, "read", "GET", rng.choice(paths))


def searcher(run: Run, port: int, seed: int) -> None:
    rng, session = random.Random(seed), Session(port)
    while not run.stop.is_set():
        query = urlencode({"q": " ".join(rng.sample(VOCABULARY, rng.randint(1, 2)))})
        session.timed(run, "search", "GET", f"/search/?{query}")
        time.sleep(0.05)


def log_in(run: Run, session: Session) -> bool:
    got = session.timed(run, "admin", "GET", "/admin/login/")
    if not got or got[0] != 200:
        return False
    fields = with_values(form_of(got[2], "login-form"), username=STAFF, password=PASSWORD)
    done = session.timed(run, "admin", "POST", "/admin/login/?next=/admin/", fields)
    return bool(done and done[0] == 302)


def editor(run: Run, port: int, targets: list[tuple[int, str]], seed: int) -> None:
    """Edits its own posts in turn through the change form, and now and then adds one."""
    rng, session = random.Random(seed), Session(port)
    while not run.stop.is_set() and not log_in(run, session):
        time.sleep(1)
    step = 0
    while not run.stop.is_set():
        step += 1
        marker = f"soak-{uuid.uuid4().hex[:12]}"
        text = f"{sentence(rng, rng.sample(CLUSTERS, 2), 30)} Marker {marker}."
        if step % 4 == 0:
            path, values = "/admin/notes/post/add/", {"title": f"Soak note {marker}"}
            values |= {"status": "published", "slug": ""}
        else:
            pk, slug = targets[step % len(targets)]
            path, values = f"/admin/notes/post/{pk}/change/", {}
        got = session.timed(run, "admin", "GET", path)
        if not got or got[0] != 200:
            time.sleep(0.5)
            if got and got[0] == 302:  # logged out: the session went with a restart
                log_in(run, session)
            continue
        fields = with_values(form_of(got[2]), body=text, _save="Save", **values)
        saved = session.timed(run, "write", "POST", path, fields)
        if saved and saved[0] == 302:
            if "title" in values:
                run.created.append((values["title"], marker))
            else:
                run.edits[slug] = marker
                run.edits_acknowledged += 1
        elif saved:
            run.refused_writes += 1
        time.sleep(0.2)


def importer(run: Run, env: dict, folder: Path, every: float) -> None:
    batch = 0
    while not run.stop.wait(every):
        batch += 1
        files = folder / f"batch-{batch}"
        files.mkdir(parents=True)
        rng = random.Random(batch)
        for n in range(IMPORT_BATCH):
            topics = rng.sample(CLUSTERS, 2)
            (files / f"soak-import-{batch}-{n}.md").write_text(
                f"---\ntitle: Imported {batch}.{n}\ntags: [soak, batch {batch}]\n---\n"
                + "\n\n".join(sentence(rng, topics, 40) for _ in range(4))
                + "\n",
                encoding="utf-8",
            )
        done = manage(env, "import_markdown", str(files), "--author", STAFF, check=False)
        run.imports.append((batch, done.returncode))


def cache_filler(run: Run, port: int, count: int, connections: int = 3) -> None:
    """Distinct addresses, each a new page cache entry, well past the cache's size."""
    begun, sent = run.now(), iter(range(count))
    pages = ["/tags/", "/archive/", "/"]

    def fill() -> None:
        session = Session(port)
        for n in sent:
            if run.stop.is_set():
                return
            session.timed(run, "cache fill", "GET", f"{pages[n % 3]}?fill={n}")

    threads = [threading.Thread(target=fill) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done = sum(e.kind == "cache fill" for e in run.events)
    run.cache_fill = (begun, run.now(), done)


def kill_a_worker(run: Run, master: int) -> None:
    workers = workers_of(master)
    if workers:
        os.kill(random.choice(workers), signal.SIGKILL)
        run.kills.append(run.now())


def take_backup(run: Run, env: dict, path: Path) -> None:
    begun = run.now()
    done = manage(env, "backup", str(path), check=False)
    run.backup = {"at": round(begun, 1), "seconds": round(run.now() - begun, 1)}
    run.backup |= {"ok": done.returncode == 0, "bytes": path.stat().st_size if path.exists() else 0}


def load_and_faults(args, env: dict, port: int, server: subprocess.Popen, info: dict, tmp: Path):
    run = Run()
    paths = ["/", "/tags/", "/archive/", "/feed/", "/index.xml", "/sitemap.xml", "/index.json"]
    paths += [f"/posts/{slug}/" for slug in info["slugs"]]
    paths += [f"/tags/{slug}/" for slug in info["tags"]]
    targets = [tuple(t) for t in info["targets"]]
    threads = [threading.Thread(target=reader, args=(run, port, paths, n)) for n in range(3)]
    threads += [
        threading.Thread(target=searcher, args=(run, port, 10)),
        threading.Thread(target=editor, args=(run, port, targets[:3], 20)),
        threading.Thread(target=editor, args=(run, port, targets[3:], 21)),
        threading.Thread(target=importer, args=(run, env, tmp / "imports", args.seconds / 8)),
    ]
    for thread in threads:
        thread.start()
    fill = threading.Thread(target=cache_filler, args=(run, port, CACHE_ENTRIES * WORKERS * 3))
    backup = threading.Thread(target=take_backup, args=(run, env, tmp / "under-load.zip"))
    timeline = [
        (0.15, "SIGKILL to a gunicorn worker", lambda: kill_a_worker(run, server.pid)),
        (0.35, "PostgreSQL restart", lambda: restart_database(run, args.pg)),
        (0.45, "page cache filled past its size", fill.start),
        (0.65, "SIGKILL to a gunicorn worker", lambda: kill_a_worker(run, server.pid)),
        (0.70, "backup under load", backup.start),
    ]
    for share, label, action in timeline:
        time.sleep(max(0.0, share * args.seconds - run.now()))
        print(f"  {run.now():6.1f} s  {label}", flush=True)
        action()
    time.sleep(max(0.0, args.seconds - run.now()))
    run.stop.set()
    for thread in [*threads, fill, backup]:
        if thread.ident is not None:
            thread.join(timeout=120)
    return run


def restart_database(run: Run, pg: PostgresInstance) -> None:
    begun = run.now()
    pg.restart()
    run.restart = (begun, run.now())


# ---------------------------------------------------------------- checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=180.0, help="how long the load runs")
    parser.add_argument("--quick", action="store_true", help="60 seconds and a smaller site")
    parser.add_argument("--posts", type=int, default=200, help="Markdown posts imported first")
    parser.add_argument("--json", type=Path, help="where to write the figures")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.posts = 60.0, 80

    tmp = Path(tempfile.mkdtemp(prefix="kb-soak-"))
    args.pg = PostgresInstance()
    server = None
    try:
        print(f"… PostgreSQL of its own on 127.0.0.1:{args.pg.port}", flush=True)
        args.pg.start()
        create_database(args.pg, "kb")
        env = {
            "PATH": os.environ.get("PATH", ""),
            "DATABASE_URL": f"{args.pg.url}/kb",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_COOKIES": "0",
            "KB_STATIC_ROOT": str(tmp / "static"),
            "KB_MEDIA_ROOT": str(tmp / "media"),
            "KB_LOG_LEVEL": "ERROR",
            "KB_CACHE_MAX_ENTRIES": str(CACHE_ENTRIES),
        }
        print(f"… a site of {args.posts} imported posts plus the demo", flush=True)
        info = setup(env, tmp, args.posts, PASSWORD)
        port = free_port()
        server = start_gunicorn(env, port, workers=WORKERS)
        print(f"… {args.seconds:.0f} s of load with faults", flush=True)
        run = load_and_faults(args, env, port, server, info, tmp)
        print("… checking", flush=True)
        figures, verdicts = check(run, args, env, port, tmp)
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        args.pg.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n" + report(figures, verdicts, args.seconds))
    target = args.json or ROOT / "bench" / "results" / "soak.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"figures": figures, "verdicts": verdicts}, indent=2) + "\n")
    print(f"figures written to {target}")
    sys.exit(0 if all(ok for _, ok in verdicts) else 1)


if __name__ == "__main__":
    main()
