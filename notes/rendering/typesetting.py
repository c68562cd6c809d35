"""TeX formulas to MathML, typeset once when a post is saved.

Why MathML only (KaTeX ``output="mathml"``) rather than KaTeX's HTML+MathML:

* KaTeX's HTML output positions every glyph with inline ``style`` attributes
  (``height``, ``top``, ``vertical-align``, margins...). The body sanitizer
  allows no ``style`` at all, and a ``style-src`` Content-Security-Policy
  without ``'unsafe-inline'`` would drop those attributes anyway, leaving
  a jumble of stacked glyphs. MathML needs no inline style and no JavaScript.
* Chromium (since 109), Firefox and Safari lay out MathML Core natively.

MathML Core leaves out two things KaTeX relies on, so the output is adjusted:

* ``mathvariant`` other than ``normal`` is ignored by Chromium, which would
  turn ``\\mathcal{N}`` or ``\\mathbb{R}`` into a plain N or R. Letters and
  digits are rewritten to the Unicode mathematical alphanumeric characters
  (script N, double-struck R, bold x...), as MathML Core asks authors to do.
* There is no automatic line breaking, so a display formula with ``\\\\``
  at the top level (several equations in one ``\\[...\\]``) is set as a
  ``gathered`` environment: one centred row per line, as KaTeX's HTML does.

KaTeX's ``trust`` stays off, so ``\\href``, ``\\url``, ``\\htmlData`` and
``\\includegraphics`` come out as inert red text; they are reported like parse
errors so the author sees them in the preview. ``maxSize`` caps ``\\rule``
and friends so a formula cannot paint a page-sized box over the content.
"""

from __future__ import annotations

import html
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import pykatex

# KaTeX paints what it refuses (untrusted commands) in this colour; we look
# for it to report those commands to the author.
_REFUSED_COLOR = "#cc0000"
_MAX_SIZE_EM = 20.0
MAX_FORMULA_CHARS = 10_000


@dataclass(frozen=True)
class Typeset:
    html: str
    error: str | None


@lru_cache(maxsize=4096)
def typeset(tex: str, *, display: bool) -> Typeset:
    """MathML for one formula, or its escaped source marked as an error."""
    source = tex.strip().replace("\x00", "\ufffd")
    if len(source) > MAX_FORMULA_CHARS:
        return math_error(source, f"formula longer than {MAX_FORMULA_CHARS:,} characters")
    if display and _has_top_level_newline(source):
        gathered = _render(f"\\begin{{gathered}}{source}\\end{{gathered}}", display)
        if gathered.error is None:
            return gathered
    return _render(source, display)


_katex_thread: tuple[int, ThreadPoolExecutor] | None = None
_katex_lock = threading.Lock()


def _on_katex_thread(function, *args, **kwargs):
    """Run `function` on the one thread this process gives KaTeX.

    PyKaTeX's QuickJS runtime remembers the stack of the first thread that uses it and, called
    from a thread whose stack lies lower in memory, fails every formula with "size exceeded".
    A threaded server (runserver, gunicorn --threads) calls from many threads, so every call
    goes through one long-lived thread instead. Made per process, as threads don't survive
    the fork of a gunicorn worker.
    """
    global _katex_thread
    with _katex_lock:
        if _katex_thread is None or _katex_thread[0] != os.getpid():
            _katex_thread = (os.getpid(), ThreadPoolExecutor(1, thread_name_prefix="katex"))
        executor = _katex_thread[1]
    return executor.submit(function, *args, **kwargs).result()


def _render(source: str, display: bool) -> Typeset:
    try:
        mathml = _on_katex_thread(
            pykatex.renderToString,
            source,
            displayMode=display,
            output=pykatex.OUTPUT_MATHML,
            throwOnError=True,
            trust=False,
            strict="ignore",
            maxSize=_MAX_SIZE_EM,
            errorColor=_REFUSED_COLOR,
        )
    except (pykatex.ParseError, ValueError) as error:
        return math_error(source, str(error) or "could not typeset this formula")
    refused = _refused_commands(mathml)
    if refused:
        return math_error(source, f"not allowed here: {', '.join(refused)}")
    return Typeset(html=_unicode_variants(mathml), error=None)


def math_error(source: str, message: str) -> Typeset:
    """The formula's source, escaped and marked, with the message as a tooltip."""
    markup = f'<span class="math-error" title="{html.escape(message)}">{html.escape(source)}</span>'
    return Typeset(html=markup, error=message)


_REFUSED = re.compile(
    rf'<mstyle mathcolor="{_REFUSED_COLOR}"><mtext>(\\[A-Za-z]+)</mtext></mstyle>'
)


def _refused_commands(mathml: str) -> list[str]:
    if _REFUSED_COLOR not in mathml:
        return []
    return list(dict.fromkeys(_REFUSED.findall(mathml)))


def _has_top_level_newline(tex: str) -> bool:
    """True when ``\\\\`` separates lines outside any group or environment."""
    depth = 0
    i = 0
    while i < len(tex):
        char = tex[i]
        if char == "\\":
            if tex.startswith("\\\\", i) and depth == 0:
                return True
            if tex.startswith("\\begin", i):
                depth += 1
            elif tex.startswith("\\end", i):
                depth -= 1
            i += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        i += 1
    return False


def _alphabet(
    upper: int | None, lower: int | None, digits: int | None = None, **holes: str
) -> dict[str, str]:
    table: dict[str, str] = {}
    for first, start, count in (("A", upper, 26), ("a", lower, 26), ("0", digits, 10)):
        if start is not None:
            for offset in range(count):
                table[chr(ord(first) + offset)] = chr(start + offset)
    table.update(holes)
    return table


def _greek(capital: int, small: int) -> dict[str, str]:
    table = {chr(0x391 + offset): chr(capital + offset) for offset in range(25)}
    table.update({chr(0x3B1 + offset): chr(small + offset) for offset in range(25)})
    return table


# Unicode left some letters out of these blocks because older "letterlike"
# characters already existed; those are the keyword holes below.
_VARIANTS: dict[str, dict[str, str]] = {
    "bold": _alphabet(0x1D400, 0x1D41A, 0x1D7CE) | _greek(0x1D6A8, 0x1D6C2),
    "bold-italic": _alphabet(0x1D468, 0x1D482) | _greek(0x1D71C, 0x1D736),
    "script": _alphabet(
        0x1D49C,
        0x1D4B6,
        B="\N{SCRIPT CAPITAL B}",
        E="\N{SCRIPT CAPITAL E}",
        F="\N{SCRIPT CAPITAL F}",
        H="\N{SCRIPT CAPITAL H}",
        I="\N{SCRIPT CAPITAL I}",
        L="\N{SCRIPT CAPITAL L}",
        M="\N{SCRIPT CAPITAL M}",
        R="\N{SCRIPT CAPITAL R}",
        e="\N{SCRIPT SMALL E}",
        g="\N{SCRIPT SMALL G}",
        o="\N{SCRIPT SMALL O}",
    ),
    "bold-script": _alphabet(0x1D4D0, 0x1D4EA),
    "fraktur": _alphabet(
        0x1D504,
        0x1D51E,
        C="\N{BLACK-LETTER CAPITAL C}",
        H="\N{BLACK-LETTER CAPITAL H}",
        I="\N{BLACK-LETTER CAPITAL I}",
        R="\N{BLACK-LETTER CAPITAL R}",
        Z="\N{BLACK-LETTER CAPITAL Z}",
    ),
    "bold-fraktur": _alphabet(0x1D56C, 0x1D586),
    "double-struck": _alphabet(
        0x1D538,
        0x1D552,
        0x1D7D8,
        C="\N{DOUBLE-STRUCK CAPITAL C}",
        H="\N{DOUBLE-STRUCK CAPITAL H}",
        N="\N{DOUBLE-STRUCK CAPITAL N}",
        P="\N{DOUBLE-STRUCK CAPITAL P}",
        Q="\N{DOUBLE-STRUCK CAPITAL Q}",
        R="\N{DOUBLE-STRUCK CAPITAL R}",
        Z="\N{DOUBLE-STRUCK CAPITAL Z}",
    ),
    "sans-serif": _alphabet(0x1D5A0, 0x1D5BA, 0x1D7E2),
    "bold-sans-serif": _alphabet(0x1D5D4, 0x1D5EE, 0x1D7EC),
    "sans-serif-italic": _alphabet(0x1D608, 0x1D622),
    "monospace": _alphabet(0x1D670, 0x1D68A, 0x1D7F6),
}

_VARIANT_TOKEN = re.compile(r'<(mi|mn|mo|mtext) mathvariant="([a-z-]+)">([^<]*)</\1>')
_CHAR_OR_ENTITY = re.compile(r"&#?\w+;|.", re.DOTALL)


def _unicode_variants(mathml: str) -> str:
    if "mathvariant" not in mathml:
        return mathml
    return _VARIANT_TOKEN.sub(_rewrite_variant, mathml)


def _rewrite_variant(match: re.Match[str]) -> str:
    tag, variant, text = match.groups()
    table = _VARIANTS.get(variant)
    if table is None:
        return match.group(0)
    styled = _CHAR_OR_ENTITY.sub(lambda m: table.get(m.group(0), m.group(0)), text)
    return f"<{tag}>{styled}</{tag}>"


_PLAIN_FORMULA_MAX_CHARS = 40
_ANNOTATION = re.compile(r"<annotation[^>]*>.*?</annotation>", re.DOTALL)
_TAG = re.compile(r"</?([a-z]+)[^>]*>")
_FLAT_TAGS = frozenset({"span", "math", "semantics", "mrow", "mi", "mn", "mo", "mtext"})


def math_as_text(tex: str) -> str:
    """Readable plain text for a short formula, or an ellipsis.

    Summaries and feeds are plain text: a flat formula such as ``y \\in Y``
    reads fine as "y∈Y", but sub- and superscripts would lose their meaning
    once flattened, so those become "…".
    """
    if len(tex) > _PLAIN_FORMULA_MAX_CHARS:
        return "…"
    typeset_math = typeset(tex, display=False)
    if typeset_math.error is not None:
        return "…"
    mathml = _ANNOTATION.sub("", typeset_math.html)
    if not _FLAT_TAGS.issuperset(_TAG.findall(mathml)):
        return "…"
    return html.unescape(_TAG.sub("", mathml)).strip() or "…"
