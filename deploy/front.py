"""Run deploy/nginx.conf for real, in front of a kb server on this machine: the front's test
(tests/test_front.py) and `make bench` start it this way.

The configuration is used as written; only its site-specific values (the lines marked "SITE:")
are replaced, by the addresses and folders given, and it is wrapped in a minimal main
configuration so nginx runs as the current user, in the foreground, with its files in `workdir`.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

CONFIG = Path(__file__).with_name("nginx.conf")
NGINX_CANDIDATES = ("/usr/sbin/nginx", "nginx")


def nginx_binary() -> str | None:
    for candidate in NGINX_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def site_config(
    upstream: str, port: int, static_root: Path, media_root: Path, cache_dir: Path, interval=None
) -> str:
    """deploy/nginx.conf with this machine's values in place of the SITE: ones."""
    text = CONFIG.read_text(encoding="utf-8")
    replacements = [
        (r"proxy_cache_path \S+", f"proxy_cache_path {cache_dir}"),
        (r"server 127\.0\.0\.1:8000;", f"server {upstream};"),
        (r"listen 80;", f"listen 127.0.0.1:{port};"),
        (r"alias /srv/kb/staticfiles/;", f"alias {static_root}/;"),
        (r"alias /srv/kb/data/media/;", f"alias {media_root}/;"),
    ]
    if interval is not None:
        replacements.append((r"proxy_cache_valid 200 \d+s;", f"proxy_cache_valid 200 {interval}s;"))
    for pattern, value in replacements:
        text, count = re.subn(pattern, value, text)
        if count != 1:
            raise ValueError(f"deploy/nginx.conf: expected one match for {pattern!r}")
    return text


@dataclass
class Front:
    url: str
    process: subprocess.Popen
    workdir: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def error_log(self) -> str:
        path = self.workdir / "error.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def start(
    upstream: str,
    workdir: Path,
    static_root: Path,
    media_root: Path,
    *,
    interval: int | None = None,
    workers: int = 1,
) -> Front:
    """Start nginx on a free loopback port in front of `upstream` (host:port)."""
    binary = nginx_binary()
    if binary is None:
        raise FileNotFoundError("nginx is not installed (Debian: apt-get install nginx-light)")
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "cache").mkdir(exist_ok=True)
    port = free_port()
    site = site_config(upstream, port, static_root, media_root, workdir / "cache", interval)
    (workdir / "kb.conf").write_text(site, encoding="utf-8")
    temp = {name: workdir / name for name in ("client", "proxy", "fastcgi", "uwsgi", "scgi")}
    for folder in temp.values():
        folder.mkdir(exist_ok=True)
    mime_types = Path("/etc/nginx/mime.types")
    main = f"""
daemon off;
{"user root;" if os.geteuid() == 0 else ""}
worker_processes {workers};
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    {f"include {mime_types};" if mime_types.exists() else ""}
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path {temp["client"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {workdir}/kb.conf;
}}
"""
    (workdir / "main.conf").write_text(main, encoding="utf-8")
    process = subprocess.Popen(
        [
            binary,
            "-p",
            str(workdir),
            "-c",
            str(workdir / "main.conf"),
            "-e",
            str(workdir / "error.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    front = Front(f"http://127.0.0.1:{port}", process, workdir)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited: {process.stderr.read().decode()}{front.error_log()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return front
        except OSError:
            time.sleep(0.05)
    front.stop()
    raise RuntimeError("nginx did not start listening within 10 s")
