"""A real HTTP server on 127.0.0.1, started by the test that needs it, serving fixture answers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).parent / "capture_fixtures"


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/html"})
    delay: float = 0.0
    # Sent in pieces, without Content-Length, when set.
    chunks: int = 0


class FixtureServer:
    def __init__(self) -> None:
        self.routes: dict[str, Answer | Callable[[BaseHTTPRequestHandler], Answer]] = {}
        self.requests: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append({"path": self.path, **dict(self.headers)})
                route = server.routes.get(self.path) or server.routes.get(self.path.split("?")[0])
                answer = route(self) if callable(route) else route
                if answer is None:
                    answer = Answer(404, b"not here")
                time.sleep(answer.delay)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                if not answer.chunks:
                    self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                try:
                    if answer.chunks:
                        size = max(1, len(answer.body) // answer.chunks)
                        for start in range(0, len(answer.body), size):
                            self.wfile.write(answer.body[start : start + size])
                    else:
                        self.wfile.write(answer.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up, as it was meant to

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"

    def serve_file(self, path: str, name: str, content_type: str) -> None:
        body = (FIXTURES / name).read_bytes()
        self.routes[path] = Answer(body=body, headers={"Content-Type": content_type})

    def __enter__(self) -> FixtureServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
