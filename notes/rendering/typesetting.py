"""TeX formulas to KaTeX's HTML and MathML, typeset once when a post is saved.

Output is KaTeX's ``htmlAndMathml``: the HTML is what readers see (KaTeX's own layout:
columns of ``aligned`` aligned, thin spaces after operator names, primes at TeX's height, in
any browser), the MathML is what screen readers and feed readers get. KaTeX positions glyphs
with inline ``style`` attributes, which the Content-Security-Policy forbids; ``katex_styles``
turns each into a class of a generated stylesheet, served per post (see ``notes/models/math``).
The README's rendering section says why this design won over MathML with corrections.

The MathML keeps two adjustments, for the readers that only see it (feeds): ``mathvariant``
letters are rewritten to Unicode mathematical alphanumerics (MathML Core ignores
``mathvariant`` other than ``normal``), and a display formula with ``\\\\`` at its top level
(several equations in one ``\\[...\\]``) is set as ``gathered``, as KaTeX's HTML would.

A formula KaTeX refuses is tried once more after the MathJax-compatible rewrites (``mathjax``);
if that fails too, the author's formula is shown as escaped source with KaTeX's first message.

KaTeX's ``trust`` stays off, so ``\\href``, ``\\url``, ``\\htmlData`` and
``\\includegraphics`` come out as inert red text; they are reported like parse
errors so the author sees them in the preview. ``maxSize`` caps ``\\rule``
and friends so a formula cannot paint a page-sized box over the content.
"""

from __future__ import annotations

import html
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from notes.rendering import katex_engine, katex_styles, mathjax
from notes.rendering.equations import split_rows

# KaTeX paints what it refuses (untrusted commands) in this colour; we look
# for it to report those commands to the author.
_REFUSED_COLOR = katex_engine.REFUSED_COLOR
MAX_FORMULA_CHARS = 10_000
_RAW_CACHE_SIZE = 4096


@dataclass(frozen=True)
class Typeset:
    html: str
    error: str | None


@lru_cache(maxsize=4096)
def typeset(tex: str, *, display: bool, shown: str | None = None, definitions: str = "") -> Typeset:
    """KaTeX's HTML and MathML for one formula, or its source marked as an error.

    ``definitions`` (``\\def``s of the macros it uses) go in front of the whole formula;
    ``shown`` is what the author wrote, for the error case, when ``tex`` is that formula
    after numbering and macros were worked in."""
    source = tex.strip().replace("\x00", "\ufffd")
    if len(source) > MAX_FORMULA_CHARS:
        return math_error(shown or source, f"formula longer than {MAX_FORMULA_CHARS:,} characters")
    result = _without_definitions(_typeset_once(source, display, definitions), definitions)
    if result.error is not None:
        rewritten = mathjax.rewrite(source, display=display)
        if rewritten != source:
            second = _typeset_once(rewritten, display, definitions)
            if second.error is None:
                return _without_definitions(second, definitions)
    if result.error is not None and shown is not None:
        return math_error(shown, result.error)
    return result


def _typeset_once(source: str, display: bool, definitions: str) -> Typeset:
    first = _first_attempt(source, display, definitions)
    result = _render(first, display)
    if result.error is not None and first != definitions + source:
        return _render(definitions + source, display)  # not as `gathered`: as written
    return result


def _without_definitions(result: Typeset, definitions: str) -> Typeset:
    """The TeX annotation as the author wrote it, without the macros put in front."""
    if not definitions or result.error is not None:
        return result
    marker = '<annotation encoding="application/x-tex">'
    written = result.html.replace(marker + html.escape(definitions, quote=False), marker)
    return Typeset(html=written, error=None)


def _first_attempt(source: str, display: bool, definitions: str) -> str:
    """What ``_typeset_once`` asks KaTeX for first."""
    if display and _has_top_level_newline(source):
        return f"{definitions}\\begin{{gathered}}{source}\\end{{gathered}}"
    return definitions + source


# KaTeX's answers by (TeX, display), filled a post at a time by ``prefetch`` and read by
# ``_render``: one crossing into V8 for all of a post's formulas instead of one each.
_raw: OrderedDict[tuple[str, bool], katex_engine.Rendered] = OrderedDict()
_raw_lock = threading.Lock()


def prefetch(formulas: Iterable[tuple[str, bool, str]]) -> None:
    """Typeset, in one batch, the (TeX, display, definitions) formulas a render is about to
    ask ``typeset`` for, so those calls find KaTeX's answers waiting."""
    wanted: dict[tuple[str, bool], None] = {}
    for tex, display, definitions in formulas:
        source = tex.strip().replace("\x00", "\ufffd")
        if source and len(source) <= MAX_FORMULA_CHARS:
            wanted[(_first_attempt(source, display, definitions), display)] = None
    with _raw_lock:
        missing = [key for key in wanted if key not in _raw]
    if not missing:
        return
    answers = katex_engine.render_many(missing)
    with _raw_lock:
        for key, answer in zip(missing, answers, strict=True):
            _raw[key] = answer
        while len(_raw) > _RAW_CACHE_SIZE:
            _raw.popitem(last=False)


def _katex(source: str, display: bool) -> katex_engine.Rendered:
    key = (source, display)
    with _raw_lock:
        found = _raw.get(key)
        if found is not None:
            _raw.move_to_end(key)
            return found
    return katex_engine.render_many([key])[0]


def _render(source: str, display: bool) -> Typeset:
    answer = _katex(source, display)
    if not answer.ok:
        return math_error(source, answer.text or "could not typeset this formula")
    refused = _refused_commands(answer.text)
    if refused:
        return math_error(source, f"not allowed here: {', '.join(refused)}")
    return Typeset(html=katex_styles.hoist(_unicode_variants(answer.text)), error=None)


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
    return "\\\\" in tex and len(split_rows(tex)) > 1


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


_MATHML = re.compile(r"<math\b.*?</math>", re.DOTALL)


def mathml_of(markup: str) -> str:
    """The MathML inside KaTeX's output (what feeds carry), or the markup if there is none."""
    found = _MATHML.search(markup)
    return found.group(0) if found else markup


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
    mathml = _ANNOTATION.sub("", mathml_of(typeset_math.html))
    if not _FLAT_TAGS.issuperset(_TAG.findall(mathml)):
        return "…"
    return html.unescape(_TAG.sub("", mathml)).strip() or "…"


_VISUAL_HTML = re.compile(r'<span class="katex-html"[^>]*>')
_SPAN_TAG = re.compile(r"<span\b|</span>")


def mathml_only(body_html: str) -> str:
    """Stored HTML for where KaTeX's stylesheets are not linked (feed readers, the home
    page's intro, a series' description): each formula keeps only its MathML, which
    browsers and feed readers draw themselves, not KaTeX's visual HTML."""
    if "katex-html" not in body_html:
        return body_html
    parts = []
    position = 0
    while (start := _VISUAL_HTML.search(body_html, position)) is not None:
        parts.append(body_html[position : start.start()])
        depth = 1
        scan = start.end()
        while depth and (tag := _SPAN_TAG.search(body_html, scan)) is not None:
            depth += -1 if tag.group(0) == "</span>" else 1
            scan = tag.end()
        position = scan
    parts.append(body_html[position:])
    return "".join(parts)
