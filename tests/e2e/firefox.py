"""A real Firefox (Debian's firefox-esr), driven over WebDriver BiDi, the protocol Firefox speaks
itself since 129: no geckodriver and no Playwright build of Firefox, neither of which a machine
with only Debian's packages has. Just enough of the protocol for the layout tests: open a page,
wait for its fonts, run a script and read back its (JSON) answer.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from websockets.sync.client import connect

FIREFOX = os.environ.get("KB_FIREFOX") or shutil.which("firefox-esr") or shutil.which("firefox")
_LISTENING = re.compile(r"WebDriver BiDi listening on (ws://\S+)")


class BiDiError(RuntimeError):
    pass


class Firefox:
    def __init__(self, width: int = 1280, height: int = 900) -> None:
        self.profile = Path(tempfile.mkdtemp(prefix="kb-firefox-"))
        # A profile of its own: no first-run pages, no updates, no telemetry asking the network.
        (self.profile / "user.js").write_text(
            'user_pref("browser.shell.checkDefaultBrowser", false);\n'
            'user_pref("datareporting.policy.dataSubmissionEnabled", false);\n'
            'user_pref("app.update.enabled", false);\n'
            'user_pref("browser.startup.homepage_override.mstone", "ignore");\n'
        )
        self.process = subprocess.Popen(
            [FIREFOX, "--headless", "--remote-debugging-port=0", "--no-remote",
             "--profile", str(self.profile), f"--window-size={width},{height}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        address = self._address()
        self.socket = connect(f"{address}/session", max_size=None, open_timeout=30)
        self._ids = itertools.count(1)
        self.call("session.new", {"capabilities": {}})
        tree = self.call("browsingContext.getTree", {})
        self.context = tree["contexts"][0]["context"]
        self.call(
            "browsingContext.setViewport",
            {"context": self.context, "viewport": {"width": width, "height": height}},
        )

    def _address(self) -> str:
        deadline = time.monotonic() + 60
        seen = []
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line and self.process.poll() is not None:
                break
            seen.append(line)
            if found := _LISTENING.search(line):
                return found.group(1)
        self.close()
        raise BiDiError("Firefox did not start its WebDriver BiDi server:\n" + "".join(seen))

    def call(self, method: str, params: dict) -> dict:
        number = next(self._ids)
        self.socket.send(json.dumps({"id": number, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=60))
            if message.get("id") != number:
                continue  # an event
            if message.get("type") == "error":
                raise BiDiError(f"{method}: {message.get('error')}: {message.get('message')}")
            return message["result"]

    def goto(self, url: str) -> None:
        self.call(
            "browsingContext.navigate", {"context": self.context, "url": url, "wait": "complete"}
        )

    def evaluate(self, function: str, *args):
        """Call a JavaScript function (source text) with JSON arguments, after the page's fonts
        have loaded; its answer comes back through JSON."""
        wrapper = (
            f"async (...args) => {{ await document.fonts.ready; "
            f"return JSON.stringify(await ({function})(...args)); }}"
        )
        result = self.call(
            "script.callFunction",
            {
                "functionDeclaration": wrapper,
                "arguments": [{"type": "string", "value": str(a)} for a in args],
                "target": {"context": self.context},
                "awaitPromise": True,
            },
        )
        if result.get("type") == "exception":
            raise BiDiError(result["exceptionDetails"].get("text", "the script failed"))
        return json.loads(result["result"]["value"])

    def close(self) -> None:
        try:
            if getattr(self, "socket", None) is not None:
                self.socket.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            shutil.rmtree(self.profile, ignore_errors=True)
