"""What a soak run recorded, and the checks made on it once the load has stopped."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from pg_instance import PostgresInstance
from soak_client import Session
from soak_site import create_database, manage, query

RESTART_GRACE = 5.0  # seconds after the database is back in which errors still count as its
KILL_GRACE = 3.0  # seconds after a worker kill in which a dropped connection is expected
RECOVERY_TARGET = 5.0
IMPORT_BATCH = 10
CACHE_ENTRIES = 25  # the page cache's size in each worker (KB_CACHE_MAX_ENTRIES)
WORKERS = 3


@dataclass
class Event:
    at: float
    kind: str
    outcome: int | str  # the status, or the exception's name when no response came


@dataclass
class Run:
    started: float = field(default_factory=time.monotonic)
    events: list[Event] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    edits: dict[str, str] = field(default_factory=dict)  # slug → last acknowledged marker
    created: list[tuple[str, str]] = field(default_factory=list)  # (title, marker)
    edits_acknowledged: int = 0  # every one; `edits` keeps each post's last
    refused_writes: int = 0
    imports: list[tuple[int, int]] = field(default_factory=list)  # (batch, exit status)
    kills: list[float] = field(default_factory=list)
    restart: tuple[float, float] | None = None
    cache_fill: tuple[float, float, int] | None = None
    backup: dict = field(default_factory=dict)

    def now(self) -> float:
        return time.monotonic() - self.started

    def note(self, kind: str, outcome: int | str) -> None:
        self.events.append(Event(self.now(), kind, outcome))


CHECK_WRITES = """
import json
from notes.models import Post
edits = json.loads({edits!r})
created = json.loads({created!r})
found = {{slug: marker in Post.objects.get(slug=slug).body for slug, marker in edits.items()}}
made = {{}}
for title, marker in created:
    post = Post.objects.filter(title=title).first()
    made[title] = (post.slug if post and marker in post.body else None)
batches = {{}}
for batch in json.loads({batches!r}):
    batches[batch] = Post.objects.filter(slug__startswith=f"soak-import-{{batch}}-").count()
print(json.dumps({{"edits": found, "created": made, "batches": batches}}))
"""

CHECK_RESTORED = """
import json, zipfile
from django.test import Client
from django.test.utils import override_settings
from notes.models import Link, Post, Tag
manifest = json.loads(zipfile.ZipFile({path!r}).read("manifest.json"))
counts = manifest["counts"]
client = Client()
with override_settings(ALLOWED_HOSTS=["testserver"], KB_PAGE_CACHE_SECONDS=0):
    pages = [client.get(p.get_absolute_url()).status_code for p in Post.objects.published()]
    pages += [client.get(t.get_absolute_url()).status_code for t in Tag.objects.all()[:50]]
print(json.dumps({{
    "posts": [Post._base_manager.count(), counts.get("notes.Post")],
    "tags": [Tag.objects.count(), counts.get("notes.Tag")],
    "links": Link.objects.count(),
    "pages": len(pages), "pages_ok": pages.count(200),
    "empty_html": Post._base_manager.filter(body_html="").count(),
}}))
"""


def check(run: Run, args, env: dict, port: int, tmp: Path) -> tuple[dict, list[tuple[str, bool]]]:
    figures: dict = {}
    verdicts: list[tuple[str, bool]] = []

    def judge(text: str, ok: object) -> None:
        verdicts.append((text, bool(ok)))

    reads = [e for e in run.events if e.kind in {"read", "search", "cache fill"}]
    figures["requests"] = len(run.events)
    figures["requests_per_second"] = round(len(run.events) / args.seconds, 1)
    figures["by_kind"] = {k: sum(e.kind == k for e in run.events) for k in sorted(kinds(run))}
    restart_begin, restart_end = run.restart or (0.0, 0.0)
    in_restart = lambda e: restart_begin <= e.at <= restart_end + RESTART_GRACE  # noqa: E731
    after_kill = lambda e: any(k <= e.at <= k + KILL_GRACE for k in run.kills)  # noqa: E731
    server_errors = [e for e in run.events if isinstance(e.outcome, int) and e.outcome >= 500]
    dropped = [e for e in run.events if isinstance(e.outcome, str)]
    outside = [e for e in server_errors if not in_restart(e)]
    unexplained = [e for e in dropped if not in_restart(e) and not after_kill(e)]
    figures["5xx_in_restart_window"] = len(server_errors) - len(outside)
    figures["5xx_outside"] = len(outside)
    figures["dropped_at_worker_kills"] = sum(after_kill(e) for e in dropped)
    figures["dropped_elsewhere"] = len(unexplained)
    judge(f"no 5xx outside the database restart window ({len(outside)})", not outside)
    judge(f"no dropped connection but at a kill or restart ({len(unexplained)})", not unexplained)
    if run.cache_fill:
        begun, ended, count = run.cache_fill
        during = [e for e in server_errors if begun <= e.at <= ended and not in_restart(e)]
        figures["cache_fill"] = {
            "distinct_pages": count,
            "cache_entries": CACHE_ENTRIES,
            "seconds": round(ended - begun, 1),
        }
        judge(
            f"the cache was filled past its size: {count} pages, {CACHE_ENTRIES} entries in "
            f"each of {WORKERS} workers",
            count > 2 * WORKERS * CACHE_ENTRIES,
        )
        judge(f"no 5xx while the cache was filled ({len(during)})", not during)

    back = [e for e in reads if e.at > restart_end and e.outcome == 200]
    recovery = (back[0].at - restart_end) if back else float("inf")
    figures["restart"] = {
        "seconds_down": round(restart_end - restart_begin, 2),
        "readers_back_after_s": round(recovery, 2),
    }
    judge(
        f"readers back {recovery:.2f} s after the restart (≤ {RECOVERY_TARGET})",
        recovery <= RECOVERY_TARGET,
    )

    found = query(
        env,
        CHECK_WRITES.format(
            edits=json.dumps(run.edits),
            created=json.dumps(run.created),
            batches=json.dumps([b for b, _ in run.imports]),
        ),
    )
    session = Session(port)
    pages = {slug: session.request("GET", f"/posts/{slug}/")[2] for slug in run.edits}
    edits_ok = [s for s, ok in found["edits"].items() if ok and run.edits[s] in pages[s]]
    made_ok = []
    for title, marker in run.created:
        slug = found["created"].get(title)
        if slug and marker in session.request("GET", f"/posts/{slug}/")[2]:
            made_ok.append(title)
    # An edit is checked by its post showing the last acknowledged one: each replaces the last.
    acknowledged = len(run.edits) + len(run.created)
    present = len(edits_ok) + len(made_ok)
    figures["writes"] = {
        "edits_acknowledged": run.edits_acknowledged,
        "posts_edited": len(run.edits),
        "posts_edited_showing_their_last_edit": len(edits_ok),
        "posts_added": len(run.created),
        "posts_added_found": len(made_ok),
        "refused_or_failed": run.refused_writes,
    }
    judge(
        f"acknowledged writes found: {len(edits_ok)} of {len(run.edits)} edited posts show "
        f"their last edit, {len(made_ok)} of {len(run.created)} added posts are there",
        present == acknowledged and acknowledged > 0,
    )

    statuses = dict(run.imports)
    counts = {int(b): n for b, n in found["batches"].items()}
    half = [b for b, n in counts.items() if n not in {0, IMPORT_BATCH}]
    lost = [b for b, code in statuses.items() if code == 0 and counts[b] != IMPORT_BATCH]
    figures["imports"] = {
        "batches": len(statuses),
        "succeeded": sum(code == 0 for code in statuses.values()),
        "posts_each": IMPORT_BATCH,
        "half_imported": len(half),
    }
    judge(
        f"no batch half-imported ({len(half)}), none acknowledged lost ({len(lost)})",
        not half and not lost and bool(statuses),
    )

    figures["backup"] = run.backup
    figures["backup"]["restored"] = restored = restore_elsewhere(args.pg, env, tmp)
    consistent = (
        run.backup.get("ok")
        and restored["posts"][0] == restored["posts"][1]
        and restored["tags"][0] == restored["tags"][1]
        and restored["pages"] == restored["pages_ok"] > 0
        and restored["empty_html"] == 0
    )
    judge(
        f"the backup taken under load restores: {restored['posts'][0]} posts, "
        f"{restored['pages_ok']}/{restored['pages']} pages 200",
        bool(consistent),
    )
    figures["faults"] = {
        "worker_kills": len(run.kills),
        "database_restarts": 1 if run.restart else 0,
        "cache_fills": 1 if run.cache_fill else 0,
    }
    return figures, verdicts


def kinds(run: Run) -> set[str]:
    return {e.kind for e in run.events}


def restore_elsewhere(pg: PostgresInstance, env: dict, tmp: Path) -> dict:
    archive = tmp / "under-load.zip"
    if not archive.exists():
        return {"posts": [0, None], "tags": [0, None], "pages": 0, "pages_ok": 0, "empty_html": 0}
    create_database(pg, "kb_restored")
    other = env | {
        "DATABASE_URL": f"{pg.url}/kb_restored",
        "KB_MEDIA_ROOT": str(tmp / "restored-media"),
    }
    manage(other, "migrate", "-v", "0")
    manage(other, "restore", str(archive))
    return query(other, CHECK_RESTORED.format(path=str(archive)))


def report(figures: dict, verdicts: list[tuple[str, bool]], seconds: float) -> str:
    lines = [f"kb soak: {seconds:.0f} s of load on PostgreSQL, gunicorn with {WORKERS} workers", ""]
    lines.append(json.dumps(figures, indent=2))
    lines.append("")
    lines += [f"{'PASS' if ok else 'FAIL'}  {text}" for text, ok in verdicts]
    return "\n".join(lines)
