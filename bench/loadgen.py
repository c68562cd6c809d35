"""HTTP load driver for the benchmarks: N concurrent connections GETting a rotation of paths.

    .venv/bin/python bench/loadgen.py http://127.0.0.1:8000 / /static/css/site.css -c 8 -n 2000
    .venv/bin/python bench/loadgen.py http://127.0.0.1:8000 /posts/a/ /posts/b/ -t 5 --tool python

It uses `wrk` when it is installed (C, so it leaves more of a small machine to the server under
test) and otherwise its own asyncio client; `LoadResult.tool` says which one ran. Both count as
errors every failed connection, timeout (10 s per request) and status other than the expected
one, and stop at whichever comes first of `max_requests` and `max_seconds`: wrk after that many
responses (plus the few that arrive in the same turn of its event loop), the built-in client
after that many attempts, failed ones included, so that a server that is down ends the run
quickly. Requests still in flight when `max_seconds` runs out are dropped, not counted, so a
server that accepts connections and never answers shows as requests == 0, not as errors
(wrk 4.1 counts a timeout only when a late response does arrive).

Latency is measured as wrk measures it: from writing the request to the end of the response
body, so opening a connection is not part of it (gunicorn's sync workers close the connection
after every response, so both clients reconnect before nearly every request). Percentiles are
nearest-rank (the smallest latency with at least p % of the responses at or below it), which
is also what wrk's histogram reports. Only the standard library is used.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import http.client
import json
import math
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

REQUEST_TIMEOUT_S = 10.0
# Pause after a failed connect so a server that is down doesn't turn the client into a busy
# loop competing with everything else on the machine until max_requests attempts are used up.
CONNECT_RETRY_PAUSE_S = 0.01
RESULT_MARKER = "kb-loadgen-result "
QUOTA_MARKER = "kb-loadgen-quota"


@dataclass
class LoadResult:
    label: str
    requests: int  # responses received, whatever their status
    errors: int  # failed connections, timeouts and responses with an unexpected status
    duration_s: float
    rps: float  # responses per second
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[int, int]
    bytes_received: int
    tool: str  # "wrk" or "kb-loadgen"

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)

    def row(self) -> str:
        return (
            f"{self.label:<24} {self.tool:<10} {self.requests:>8} {self.errors:>7} "
            f"{self.duration_s:>7.2f} {self.rps:>9.1f} {self.p50_ms:>8.2f} {self.p95_ms:>8.2f} "
            f"{self.p99_ms:>8.2f} {self.max_ms:>8.2f}"
        )

    @staticmethod
    def header() -> str:
        return (
            f"{'label':<24} {'tool':<10} {'requests':>8} {'errors':>7} {'secs':>7} {'rps':>9} "
            f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}"
        )


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # for connecting
    port: int
    netloc: str  # for the Host header
    prefix: str  # path part of base_url, without the trailing slash


@dataclass(frozen=True)
class _Plan:
    label: str
    target: _Target
    paths: list[str]  # base_url's path prepended
    headers: dict[str, str]  # Host and Connection included
    connections: int
    max_requests: int
    max_seconds: float
    expected_status: int


def _target(base_url: str) -> _Target:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {base_url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    netloc = parts.netloc.rpartition("@")[2]
    return _Target(parts.scheme, parts.hostname, port, netloc, parts.path.rstrip("/"))


def _request_headers(target: _Target, headers: dict[str, str] | None) -> dict[str, str]:
    merged = {"Host": target.netloc, "Connection": "keep-alive"}
    for name, value in (headers or {}).items():
        # A caller's Host or Connection replaces ours rather than being sent twice.
        for ours in [key for key in merged if key.lower() == name.lower()]:
            del merged[ours]
        merged[name] = value
    for text in [*merged, *merged.values()]:
        if "\r" in text or "\n" in text:
            raise ValueError(f"line break in a header: {text!r}")
    return merged


def _request_paths(target: _Target, paths: list[str]) -> list[str]:
    if not paths:
        raise ValueError("no paths to request")
    full = [target.prefix + (path if path.startswith("/") else "/" + path) for path in paths]
    for path in full:
        if not path.isascii() or any(char.isspace() for char in path):
            raise ValueError(f"not a percent-encoded path: {path!r}")
    return full


def _percentile(ordered: list[float], p: float) -> float:
    """Nearest rank: the value at rank ceil(p/100 * n) of the sorted values, 1-based."""
    if not ordered:
        return 0.0
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def run_load(
    base_url: str,
    paths: list[str],
    *,
    label: str,
    connections: int = 8,
    max_requests: int = 2000,
    max_seconds: float = 10.0,
    expected_status: int = 200,
    headers: dict[str, str] | None = None,
    tool: str = "auto",
) -> LoadResult:
    """GET `paths` round-robin over `connections` concurrent connections until `max_requests`
    responses or `max_seconds`, with wrk if installed (tool="auto") or as told ("wrk",
    "python"). Not for use inside a running event loop (the built-in client calls asyncio.run).
    """
    if connections < 1 or max_requests < 1 or max_seconds <= 0:
        raise ValueError("connections, max_requests and max_seconds must be positive")
    if tool == "auto":
        tool = "wrk" if shutil.which("wrk") else "python"
    target = _target(base_url)
    plan = _Plan(
        label=label,
        target=target,
        paths=_request_paths(target, paths),
        headers=_request_headers(target, headers),
        connections=connections,
        max_requests=max_requests,
        max_seconds=max_seconds,
        expected_status=expected_status,
    )
    if tool == "wrk":
        return _run_wrk(base_url, plan)
    if tool == "python":
        return asyncio.run(_run_python(plan))
    raise ValueError(f"unknown tool {tool!r}: expected 'auto', 'wrk' or 'python'")


def warm(base_url: str, paths: list[str], headers: dict[str, str] | None = None) -> list[int]:
    """GET each path once, in order, and return the statuses (0 where the request failed), so
    every page is in the server's caches before anything is measured. Redirects aren't followed.
    """
    target = _target(base_url)
    extra = {k: v for k, v in _request_headers(target, headers).items() if k != "Connection"}
    statuses = []
    for path in _request_paths(target, paths):
        connection_class = (
            http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
        )
        conn = connection_class(target.host, target.port, timeout=REQUEST_TIMEOUT_S)
        try:
            conn.request("GET", path, headers=extra)
            response = conn.getresponse()
            response.read()
            statuses.append(response.status)
        except (OSError, http.client.HTTPException):
            statuses.append(0)
        finally:
            conn.close()
    return statuses


def _not_started(plan: _Plan, tool: str) -> LoadResult:
    """The result of a run that couldn't start: the host has no address, or (wrk) refused."""
    return LoadResult(
        label=plan.label, requests=0, errors=1, duration_s=0.0, rps=0.0, p50_ms=0.0, p95_ms=0.0,
        p99_ms=0.0, max_ms=0.0, statuses={}, bytes_received=0, tool=tool,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Built-in client


class _Tally:
    """What the workers of one run share (one event loop, so no locking)."""

    __slots__ = ("bytes", "errors", "issued", "latencies", "statuses")

    def __init__(self) -> None:
        self.issued = 0  # requests started, failed ones included, bounded by max_requests
        self.errors = 0
        self.bytes = 0
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}


async def _read_body(reader: asyncio.StreamReader, head: bytes, status: int) -> tuple[int, bool]:
    """Read the body that follows the header block `head`; return its size on the wire and
    whether the connection may be reused."""
    lowered = head.lower()
    keep_alive = lowered.startswith(b"http/1.1")
    start = lowered.find(b"\r\nconnection:")
    if start >= 0:
        value = lowered[start + 13 : lowered.find(b"\r\n", start + 2)]
        if b"close" in value:
            keep_alive = False
        elif b"keep-alive" in value:
            keep_alive = True
    if status < 200 or status in (204, 304):
        return 0, keep_alive
    start = lowered.find(b"\r\ntransfer-encoding:")
    if start >= 0 and b"chunked" in lowered[start : lowered.find(b"\r\n", start + 2)]:
        size = 0
        while True:
            line = await reader.readuntil(b"\r\n")
            chunk = int(line.partition(b";")[0], 16)
            size += len(line)
            if chunk == 0:
                break
            size += len(await reader.readexactly(chunk + 2))
        while True:  # trailers, then the blank line that ends the message
            line = await reader.readuntil(b"\r\n")
            size += len(line)
            if line == b"\r\n":
                return size, keep_alive
    start = lowered.find(b"\r\ncontent-length:")
    if start >= 0:
        length = int(lowered[start + 17 : lowered.find(b"\r\n", start + 2)])
        return len(await reader.readexactly(length)) if length else 0, keep_alive
    return len(await reader.read()), False  # delimited by the server closing the connection


async def _worker(
    plan: _Plan,
    tally: _Tally,
    requests: list[bytes],
    address: str,
    ssl_context: ssl.SSLContext | None,
    deadline: float,
) -> None:
    target = plan.target
    server_hostname = target.host if ssl_context else None
    max_requests = plan.max_requests
    expected_status = plan.expected_status
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    perf_counter = time.perf_counter
    latencies = tally.latencies
    statuses = tally.statuses
    try:
        while tally.issued < max_requests and perf_counter() < deadline:
            request = requests[tally.issued % len(requests)]
            tally.issued += 1
            connecting = False
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT_S):
                    # A kept-alive connection the server closed while idle fails on first use
                    # without getting a byte back; that is retried once on a new connection.
                    for reused in (writer is not None, False):
                        if writer is None:
                            connecting = True
                            reader, writer = await asyncio.open_connection(
                                address,
                                target.port,
                                ssl=ssl_context,
                                server_hostname=server_hostname,
                                limit=1 << 20,
                            )
                            connecting = False
                        assert reader is not None
                        start = perf_counter()
                        writer.write(request)
                        try:
                            head = await reader.readuntil(b"\r\n\r\n")
                            break
                        except (asyncio.IncompleteReadError, ConnectionError) as exc:
                            stale = not isinstance(exc, asyncio.IncompleteReadError) or (
                                not exc.partial
                            )
                            if not (reused and stale):
                                raise
                            writer.close()
                            writer = None
                    if not head.startswith(b"HTTP/1."):
                        raise ValueError(f"not an HTTP/1.x response: {head[:40]!r}")
                    status = int(head[9:12])
                    size, keep_alive = await _read_body(reader, head, status)
                latencies.append(perf_counter() - start)
                statuses[status] = statuses.get(status, 0) + 1
                tally.bytes += len(head) + size
                if status != expected_status:
                    tally.errors += 1
                if not keep_alive:
                    writer.close()
                    writer = None
            except (OSError, EOFError, ValueError, asyncio.LimitOverrunError):
                # OSError covers refused and reset connections and TimeoutError;
                # EOFError covers asyncio.IncompleteReadError.
                tally.errors += 1
                if writer is not None:
                    writer.close()
                    writer = None
                if connecting:
                    await asyncio.sleep(CONNECT_RETRY_PAUSE_S)
    finally:
        if writer is not None:
            writer.close()


async def _run_python(plan: _Plan) -> LoadResult:
    header_lines = "".join(f"{name}: {value}\r\n" for name, value in plan.headers.items())
    # Built once: a request is then one list lookup and one write.
    requests = [f"GET {path} HTTP/1.1\r\n{header_lines}\r\n".encode() for path in plan.paths]
    ssl_context = ssl.create_default_context() if plan.target.scheme == "https" else None
    # Resolved once: given a name, asyncio would look it up again for every connection.
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            plan.target.host, plan.target.port, type=socket.SOCK_STREAM
        )
    except OSError:
        return _not_started(plan, "kb-loadgen")
    address = str(infos[0][4][0])
    tally = _Tally()
    start = time.perf_counter()
    deadline = start + plan.max_seconds
    tasks = [
        asyncio.create_task(_worker(plan, tally, requests, address, ssl_context, deadline))
        for _ in range(min(plan.connections, plan.max_requests))
    ]
    # Requests still in flight at the deadline are abandoned, not counted (wrk does the same).
    done, pending = await asyncio.wait(tasks, timeout=max(0.0, deadline - time.perf_counter()))
    duration = time.perf_counter() - start
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        task.result()  # a bug in the client should show, not vanish into a quiet result
    latencies = sorted(tally.latencies)
    return LoadResult(
        label=plan.label,
        requests=len(latencies),
        errors=tally.errors,
        duration_s=duration,
        rps=len(latencies) / duration if duration > 0 else 0.0,
        p50_ms=_percentile(latencies, 50) * 1000,
        p95_ms=_percentile(latencies, 95) * 1000,
        p99_ms=_percentile(latencies, 99) * 1000,
        max_ms=(latencies[-1] * 1000) if latencies else 0.0,
        statuses=dict(sorted(tally.statuses.items())),
        bytes_received=tally.bytes,
        tool="kb-loadgen",
    )


# ---------------------------------------------------------------------------------------------
# wrk

# Each wrk thread runs this script in its own Lua state; setup() and done() run in another one,
# which reaches the threads' counters only through the thread objects kept by setup().
# wrk only knows how to run for a duration, so after max_requests responses the thread stops
# and says so on stdout, and run_load interrupts wrk, which then reports at once.
WRK_SCRIPT = """
local paths = {%(paths)s}
local headers = {%(headers)s}
local expected = %(expected)d
local quota = %(quota)d
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  requests = {}
  for i, path in ipairs(paths) do
    local copy = {}
    for name, value in pairs(headers) do copy[name] = value end
    requests[i] = wrk.format("GET", path, copy)
  end
  -- (run_load starts one thread, but the script would work with more: each starts elsewhere)
  next_request = id %% #requests
  responses = 0
  unexpected = 0
  statuses = {}
end

function request()
  next_request = next_request %% #requests + 1
  return requests[next_request]
end

function response(status, headers, body)
  responses = responses + 1
  statuses[status] = (statuses[status] or 0) + 1
  if status ~= expected then unexpected = unexpected + 1 end
  if responses == quota then
    io.write("%(quota_marker)s\\n")
    io.flush()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local unexpected = 0
  local counts = {}
  for _, thread in ipairs(threads) do
    unexpected = unexpected + thread:get("unexpected")
    for status, count in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(counts) do
    table.insert(parts, string.format('"%%d": %%d', status, count))
  end
  local e = summary.errors
  io.write(string.format(
    '%(result_marker)s{"requests": %%d, "duration_us": %%d, "bytes": %%d, "unexpected": %%d, '
    .. '"connect": %%d, "read": %%d, "write": %%d, "status": %%d, "timeout": %%d, '
    .. '"p50_us": %%d, "p95_us": %%d, "p99_us": %%d, "max_us": %%d, "statuses": {%%s}}\\n',
    summary.requests, summary.duration, summary.bytes, unexpected,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    summary.requests > 0 and latency.max or 0, table.concat(parts, ", ")))
  io.flush()
end
"""


def _lua_string(text: str) -> str:
    # Decimal escapes for anything but plain printable ASCII: no quoting surprises.
    return '"' + "".join(
        chr(byte) if 32 <= byte < 127 and byte not in b'"\\' else f"\\{byte:03d}"
        for byte in text.encode()
    ) + '"'  # fmt: skip


def _run_wrk(base_url: str, plan: _Plan) -> LoadResult:
    max_seconds = plan.max_seconds
    script = WRK_SCRIPT % {
        "paths": ", ".join(_lua_string(path) for path in plan.paths),
        "headers": ", ".join(
            f"[{_lua_string(name)}] = {_lua_string(value)}" for name, value in plan.headers.items()
        ),
        "expected": plan.expected_status,
        "quota": plan.max_requests,
        "quota_marker": QUOTA_MARKER,
        "result_marker": RESULT_MARKER,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="kb-loadgen-", delete=False) as f:
        f.write(script)
    # One thread: it drives thousands of requests a second, more than two did on this 2-core
    # machine shared with the server, and it is what makes stopping after max_requests exact.
    # With two, a thread stopped early leaves its connections open but silent; a gunicorn sync
    # worker that accepts one waits for a request that never comes and the other thread stalls.
    # -d takes whole seconds; the run is cut to max_seconds below with SIGINT, on which wrk
    # stops its thread (within its 100 ms tick) and reports as if the duration had run out.
    command = [
        "wrk", "-t", "1", "-c", str(plan.connections), "-d", f"{math.ceil(max_seconds) + 1}s",
        "--timeout", f"{REQUEST_TIMEOUT_S:.0f}s", "-s", f.name, base_url,
    ]  # fmt: skip
    try:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        lines: list[str] = []
        reader = threading.Thread(target=_read_wrk_output, args=(process, lines), daemon=True)
        reader.start()
        try:
            process.wait(timeout=max_seconds)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=REQUEST_TIMEOUT_S + 5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join()
    finally:
        os.unlink(f.name)
    output = "".join(lines)
    result = next((line for line in lines if line.startswith(RESULT_MARKER)), None)
    if result is None:
        if "unable to connect" in output or "unable to resolve" in output:
            # wrk looks the host up and tries a connection before it starts, and gives up if
            # nothing listens there.
            return _not_started(plan, "wrk")
        raise RuntimeError(f"wrk exited with {process.returncode}:\n{output}")
    data = json.loads(result[len(RESULT_MARKER) :])
    duration = data["duration_us"] / 1e6
    return LoadResult(
        label=plan.label,
        requests=data["requests"],
        # wrk's own status count (any status > 399) is left out: the script counts every
        # unexpected status, and adding both would count a 404 twice.
        errors=data["unexpected"] + sum(data[k] for k in ("connect", "read", "write", "timeout")),
        duration_s=duration,
        rps=data["requests"] / duration if duration > 0 else 0.0,
        p50_ms=data["p50_us"] / 1000,
        p95_ms=data["p95_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        statuses={int(k): v for k, v in sorted(data["statuses"].items(), key=lambda i: int(i[0]))},
        bytes_received=data["bytes"],
        tool="wrk",
    )


def _read_wrk_output(process: subprocess.Popen[str], lines: list[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        if line.strip() == QUOTA_MARKER:
            # os.kill rather than send_signal, which polls the process and so would race with
            # the wait() in the main thread. wrk is alive here: its main thread sleeps until -d.
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGINT)


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base_url", help="e.g. http://127.0.0.1:8000")
    parser.add_argument("paths", nargs="*", default=["/"], help="requested round-robin")
    parser.add_argument("-c", "--connections", type=int, default=8)
    parser.add_argument("-n", "--max-requests", type=int, default=2000)
    parser.add_argument("-t", "--max-seconds", type=float, default=10.0)
    parser.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--expected-status", type=int, default=200)
    parser.add_argument("-H", "--header", action="append", default=[], help="'Name: value'")
    parser.add_argument("--label", default="load")
    parser.add_argument("--warm", action="store_true", help="GET each path once first")
    args = parser.parse_args(argv)
    headers = dict(
        (name.strip(), value.strip())
        for name, _, value in (header.partition(":") for header in args.header)
    )
    if args.warm:
        print("warm-up statuses:", warm(args.base_url, args.paths, headers), file=sys.stderr)
    result = run_load(
        args.base_url,
        args.paths,
        label=args.label,
        connections=args.connections,
        max_requests=args.max_requests,
        max_seconds=args.max_seconds,
        expected_status=args.expected_status,
        headers=headers,
        tool=args.tool,
    )
    print(LoadResult.header())
    print(result.row())
    print(json.dumps(result.as_dict()))
    return 1 if result.errors or not result.requests else 0


if __name__ == "__main__":
    sys.exit(main())
