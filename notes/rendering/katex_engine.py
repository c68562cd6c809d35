"""KaTeX itself (the vendored ``vendor/katex.min.js``, 0.16.22, the version of the CSS and fonts
in ``static/katex/``) run in V8 through mini-racer.

V8 compiles KaTeX to machine code, where an embedded interpreter (PyKaTeX's QuickJS, used
before) took about 1.4 ms a formula; each crossing between Python and V8 costs about 0.1 ms,
so a post's formulas are sent over together (``render_many``) and typeset in one call. Every
call has a time and memory limit, so no formula can hold a worker: a batch that runs out is
retried one formula at a time, and the one that ran out is reported as refused.

One V8 isolate per process, made on first use (V8 and its threads don't survive the fork of a
gunicorn worker). mini-racer runs V8 on a thread of its own and may be called from any thread;
a lock keeps one batch at a time, so a threaded server's batches don't interleave.
"""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from py_mini_racer import JSEvalException, JSOOMException, MiniRacer

KATEX_JS = Path(__file__).with_name("vendor") / "katex.min.js"
# Each formula is typeset with these; errors are thrown (and shown to the author), untrusted
# commands (\href, \includegraphics, …) painted in REFUSED_COLOR, sizes capped.
REFUSED_COLOR = "#cc0000"
MAX_SIZE_EM = 20.0
# Per call: a typical formula takes 0.2 ms, a long derivation a few ms.
SECONDS_PER_FORMULA = 0.5
MIN_SECONDS = 2.0
MAX_MEMORY = 256 * 1024 * 1024

_TYPESET = f"""
var kbOptions = {{
  output: "htmlAndMathml", throwOnError: true, trust: false, strict: "ignore",
  maxSize: {MAX_SIZE_EM}, errorColor: "{REFUSED_COLOR}"
}};
function kbTypeset(items) {{
  var out = new Array(items.length);
  for (var i = 0; i < items.length; i++) {{
    kbOptions.displayMode = items[i][1];
    try {{
      out[i] = [true, katex.renderToString(items[i][0], kbOptions)];
    }} catch (e) {{
      var message = String((e && e.message) || e);
      out[i] = [false, e instanceof katex.ParseError ? message : "KaTeX failed: " + message];
    }}
  }}
  return out;
}}
"""


@dataclass(frozen=True)
class Rendered:
    ok: bool
    text: str  # KaTeX's markup, or why it refused the formula


class _Engine:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.context: MiniRacer | None = None
        # Isolates given up on, kept referenced: closing one mid-way waits on callbacks.
        self.retired: list[MiniRacer | None] = []

    def _context(self) -> MiniRacer:
        if self.context is None:
            context = MiniRacer()
            context.eval(KATEX_JS.read_text(encoding="utf-8"))
            context.eval(_TYPESET)
            self.context = context
        return self.context

    def _call(self, items: list[tuple[str, bool]]) -> list[Rendered]:
        seconds = max(MIN_SECONDS, SECONDS_PER_FORMULA * len(items))
        answer = self._context().call(
            "kbTypeset", items, timeout_sec=seconds, max_memory=MAX_MEMORY
        )
        return [Rendered(bool(ok), str(text)) for ok, text in answer]

    def render(self, items: list[tuple[str, bool]]) -> list[Rendered]:
        try:
            return self._call(items)
        except JSEvalException as exc:
            # Out of time or memory, most likely because of one formula: find it, keep the rest.
            if len(items) == 1:
                if isinstance(exc, JSOOMException):
                    # V8 survives a timeout but not always an exhausted heap: a fresh isolate.
                    self.retired.append(self.context)
                    self.context = None
                return [Rendered(False, "this formula takes too long or too much memory")]
            return [found for item in items for found in self.render([item])]


_engine: _Engine | None = None
_engine_lock = threading.Lock()


def _forget_inherited() -> None:
    """In a forked child: the parent's isolate answers from threads the child doesn't have, so
    its clean-up would wait forever (at the latest when the child exits). It is made never to
    be cleaned up, and the child makes its own on first use."""
    global _engine, _engine_lock, _helper
    if _engine is not None:
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(_engine))
    _engine = None
    _engine_lock = threading.Lock()  # it may have been held, by another thread, at the fork
    _helper = None  # its thread stayed in the parent


os.register_at_fork(after_in_child=_forget_inherited)


@atexit.register
def _close() -> None:
    # Closed while the interpreter still runs: left to the garbage collector at exit, an
    # isolate's clean-up waits for a V8 thread that is already gone, and the process hangs.
    engine = _engine
    if engine is not None:
        with engine.lock:
            for context in (engine.context, *engine.retired):
                if context is not None:
                    context.close()
            engine.context = None
            engine.retired.clear()


def render_many(items: list[tuple[str, bool]]) -> list[Rendered]:
    """KaTeX's markup (or its refusal) for each (TeX, display mode) pair, in order."""
    global _engine
    if not items:
        return []
    with _engine_lock:
        if _engine is None:
            _engine = _Engine()
        engine = _engine
    if _in_event_loop():
        # mini-racer refuses time limits from a thread running an asyncio loop (it would have
        # the caller await instead): such a caller's batch goes through a thread without one.
        return _loop_free_thread().submit(_render_locked, engine, items).result()
    return _render_locked(engine, items)


def _render_locked(engine: _Engine, items: list[tuple[str, bool]]) -> list[Rendered]:
    with engine.lock:
        return engine.render(items)


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


_helper: ThreadPoolExecutor | None = None


def _loop_free_thread() -> ThreadPoolExecutor:
    global _helper
    with _engine_lock:
        if _helper is None:
            _helper = ThreadPoolExecutor(1, thread_name_prefix="katex")
        return _helper
