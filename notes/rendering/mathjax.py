"""MathJax-isms rewritten into TeX KaTeX accepts, before a formula is typeset.

Authors bring notes written for MathJax, which is more forgiving than KaTeX's parser. Each
rewrite below is a construct MathJax typesets and KaTeX refuses; the rewrite produces what
MathJax shows. A formula that still fails keeps the usual error (escaped source, the
parser's message in the preview). One function per construct, applied in ``REWRITES`` order:

* ``text_specials``: ``_``, ``^``, ``&`` and ``#`` inside ``\\text{…}`` (and ``\\textrm``,
  ``\\textbf``, ``\\mbox``…) are literal characters in MathJax: ``\\text{style_fwd}``,
  and ``\\text{a & b}`` in a row of ``aligned``.
* ``bare_scripts``: a command with arguments, or an operator, as an unbraced sub- or
  superscript: ``t_\\max``, ``\\tau_\\min``, ``Q^\\vec{\\mu}``, ``x^\\frac12`` get braces.
* ``unknown_commands``: ``\\mathbbm`` and ``\\mathds`` (blackboard one) become ``\\mathbb``;
  ``\\require{…}`` (MathJax's extension loader) is dropped; ``\\class{…}{x}``,
  ``\\cssId{…}{x}`` and ``\\style{…}{x}`` keep only ``x``; ``\\textsc`` becomes ``\\text``.
* ``eqnarray``: ``eqnarray`` (with its ``&=&`` rows) becomes ``align``.
* ``inline_environments`` (inline only): ``align`` or ``equation`` inside ``$…$`` becomes
  ``aligned`` or a plain group, which KaTeX allows outside display mode.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from notes.rendering.macros import braced_group

_TEXT_COMMANDS = re.compile(
    r"\\(?:text|textrm|textit|textbf|textsf|texttt|textnormal|textup|textmd|mbox|hbox)\s*\{"
)
_TEXT_ESCAPES = {"_": "\\_", "&": "\\&", "#": "\\#", "^": "\\textasciicircum{}"}


def text_specials(tex: str, display: bool) -> str:
    if "\\t" not in tex and "box" not in tex:
        return tex
    out = []
    position = 0
    for match in _TEXT_COMMANDS.finditer(tex):
        if match.start() < position:
            continue
        group = braced_group(tex, match.end() - 1)
        if group is None:
            continue
        content, end = group
        out.append(tex[position : match.end()])
        out.append(_escape_text(content))
        out.append("}")
        position = end
    out.append(tex[position:])
    return "".join(out)


def _escape_text(content: str) -> str:
    result = []
    index = 0
    in_math = False
    while index < len(content):
        char = content[index]
        if char == "\\":
            result.append(content[index : index + 2])
            index += 2
            continue
        if char == "$":
            in_math = not in_math
        result.append(char if in_math else _TEXT_ESCAPES.get(char, char))
        index += 1
    return "".join(result)


_SCRIPT_COMMAND = re.compile(r"([_^])\s*(\\[A-Za-z]+)")
# How many arguments a command takes, for the ones worth wrapping; any other command
# (``\max``, ``\alpha``) is wrapped alone, which is harmless for symbols.
_ONE_ARGUMENT = """vec hat bar tilde dot ddot check breve acute grave widehat widetilde overline
underline overrightarrow overleftarrow mathbf mathrm mathcal mathbb mathfrak mathsf mathit mathtt
mathscr boldsymbol bm text textrm textbf textit operatorname sqrt mathring"""
_TWO_ARGUMENTS = "frac dfrac tfrac binom dbinom tbinom overset underset stackrel"
_ARGUMENTS = {
    **dict.fromkeys(_ONE_ARGUMENT.split(), 1),
    **dict.fromkeys(_TWO_ARGUMENTS.split(), 2),
}
_NO_WRAP = {"left", "right", "big", "Big", "bigg", "Bigg", "limits", "nolimits", "prime"}


def bare_scripts(tex: str, display: bool) -> str:
    if "_\\" not in tex and "^\\" not in tex and not re.search(r"[_^]\s+\\", tex):
        return tex
    out = []
    position = 0
    for match in _SCRIPT_COMMAND.finditer(tex):
        if match.start() < position:
            continue
        name = match.group(2)[1:]
        if name in _NO_WRAP:
            continue
        end = match.end()
        for _ in range(_ARGUMENTS.get(name, 0)):
            argument = _argument_end(tex, end)
            if argument is None:
                break
            end = argument
        out.append(tex[position : match.start(2)])
        out.append("{" + tex[match.start(2) : end] + "}")
        position = end
    out.append(tex[position:])
    return "".join(out)


def _argument_end(tex: str, start: int) -> int | None:
    group = braced_group(tex, start)
    if group is not None:
        return group[1]
    index = start
    while index < len(tex) and tex[index].isspace():
        index += 1
    if index >= len(tex) or tex[index] in "}&^_":
        return None
    if tex[index] == "\\":
        command = re.match(r"\\(?:[A-Za-z]+|.)", tex[index:])
        return index + (command.end() if command else 1)
    return index + 1


_RENAMES = re.compile(r"\\(mathbbm|mathds|textsc)(?![A-Za-z])")
_RENAMED = {"mathbbm": "\\mathbb", "mathds": "\\mathbb", "textsc": "\\text"}
_REQUIRE = re.compile(r"\\require\s*\{[^{}]*\}")
_HTML_ONLY = re.compile(r"\\(?:class|cssId|style)\s*(?=\{)")


def unknown_commands(tex: str, display: bool) -> str:
    if "\\" not in tex:
        return tex
    tex = _RENAMES.sub(lambda m: _RENAMED[m.group(1)], tex)
    tex = _REQUIRE.sub("", tex)
    while (match := _HTML_ONLY.search(tex)) is not None:
        first = braced_group(tex, match.end())
        if first is None:
            break
        tex = tex[: match.start()] + tex[first[1] :]
    return tex


_EQNARRAY = re.compile(r"\\(begin|end)\{eqnarray(\*?)\}")


def eqnarray(tex: str, display: bool) -> str:
    if "eqnarray" not in tex:
        return tex
    tex = _EQNARRAY.sub(lambda m: f"\\{m.group(1)}{{align{m.group(2)}}}", tex)
    # "a &=& b" puts the relation in a column of its own; align wants "a &= b".
    return re.sub(r"&\s*([^&\\]{1,12}?|\\[A-Za-z]+)\s*&", r"&\1 ", tex)


_INLINE_ENVIRONMENT = re.compile(r"\\(begin|end)\{(align|equation|gather)\*?\}")


def inline_environments(tex: str, display: bool) -> str:
    if display or "\\begin" not in tex:
        return tex
    replacement = {"align": "aligned", "gather": "gathered", "equation": None}

    def rewrite(match: re.Match[str]) -> str:
        kind = replacement[match.group(2)]
        if kind is None:
            return "{" if match.group(1) == "begin" else "}"
        return f"\\{match.group(1)}{{{kind}}}"

    return _INLINE_ENVIRONMENT.sub(rewrite, tex)


REWRITES: tuple[Callable[[str, bool], str], ...] = (
    unknown_commands,
    eqnarray,
    inline_environments,
    text_specials,
    bare_scripts,
)


def rewrite(tex: str, *, display: bool) -> str:
    """``tex`` with every MathJax-ism above rewritten for KaTeX."""
    for step in REWRITES:
        tex = step(tex, display)
    return tex
