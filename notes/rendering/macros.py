"""TeX macros: the site's preamble and a post's own ``\\newcommand``, ``\\renewcommand``,
``\\def`` and ``\\DeclareMathOperator``, which apply from where they are written to the end of
the post.

KaTeX forgets definitions between formulas, so a definition is taken out of its formula and
remembered here; each later formula is typeset
with the definitions it uses (and those they use) written in front of it as ``\\def``. A
formula that uses none is typeset exactly as written, which keeps the typesetting cache warm.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

MAX_MACROS = 500
MAX_MACRO_CHARS = 2_000

_DEFINITION = re.compile(
    r"\\(newcommand|renewcommand|providecommand|def|DeclareMathOperator)(\*?)\s*"
)
_NAME = re.compile(r"\{?\s*(\\[A-Za-z]+|\\.)\s*\}?")
_COMMAND = re.compile(r"\\([A-Za-z]+|.)")


@dataclass(frozen=True)
class Macro:
    arguments: int
    body: str

    def as_tex(self, name: str) -> str:
        parameters = "".join(f"#{n}" for n in range(1, self.arguments + 1))
        return f"\\def{name}{parameters}{{{self.body}}}"


Macros = Mapping[str, Macro]


def braced_group(tex: str, start: int) -> tuple[str, int] | None:
    """The braced group at ``start`` (spaces skipped): its content and the index after it."""
    while start < len(tex) and tex[start].isspace():
        start += 1
    if start >= len(tex) or tex[start] != "{":
        return None
    depth = 0
    index = start
    while index < len(tex):
        char = tex[index]
        if char == "\\":
            index += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return tex[start + 1 : index], index + 1
        index += 1
    return None


def _parse_one(tex: str, match: re.Match[str]) -> tuple[str, Macro, int] | None:
    kind, star = match.group(1), match.group(2)
    name_match = _NAME.match(tex, match.end())
    if name_match is None:
        return None
    name = name_match.group(1)
    position = name_match.end()
    arguments = 0
    if kind == "def":
        parameters = re.match(r"(?:#\d)*", tex[position:])
        arguments = len(parameters.group(0)) // 2 if parameters else 0
        position += len(parameters.group(0)) if parameters else 0
    elif kind != "DeclareMathOperator":
        count = re.match(r"\s*\[(\d)\]", tex[position:])
        if count:
            arguments = int(count.group(1))
            position += count.end()
        if re.match(r"\s*\[", tex[position:]):
            return None  # an optional argument's default: KaTeX has no way to express it
    body = braced_group(tex, position)
    if body is None or len(body[0]) > MAX_MACRO_CHARS:
        return None
    text, end = body
    if kind == "DeclareMathOperator":
        text = f"\\operatorname{star}{{{text}}}"
    return name, Macro(arguments, text), end


def take_definitions(tex: str, macros: dict[str, Macro]) -> str:
    """Move the definitions in ``tex`` into ``macros``; return the formula without them."""
    if "\\" not in tex or _DEFINITION.search(tex) is None:
        return tex
    kept = []
    position = 0
    for match in _DEFINITION.finditer(tex):
        if match.start() < position:
            continue
        parsed = _parse_one(tex, match)
        if parsed is None:
            continue
        name, macro, end = parsed
        kind = match.group(1)
        if kind == "providecommand" and name in macros:
            pass
        elif len(macros) < MAX_MACROS or name in macros:
            macros[name] = macro
        kept.append(tex[position : match.start()])
        position = end
    kept.append(tex[position:])
    return "".join(kept)


@lru_cache(maxsize=8)
def parse_preamble(preamble: str) -> tuple[dict[str, Macro], str]:
    """The site preamble's macros, and whatever in it is not a definition (to report)."""
    macros: dict[str, Macro] = {}
    leftover = take_definitions(preamble.replace("\x00", ""), macros)
    leftover = re.sub(r"(?m)%.*$", "", leftover).strip()
    return macros, leftover


def definitions_for(tex: str, macros: Macros) -> str:
    """The ``\\def``s of the macros ``tex`` uses (and those they use), to go in front of it."""
    if not macros or "\\" not in tex:
        return ""
    needed: list[str] = []
    seen: set[str] = set()

    def visit(source: str, depth: int) -> None:
        for match in _COMMAND.finditer(source):
            name = "\\" + match.group(1)
            if name in macros and name not in seen:
                seen.add(name)
                if depth < 20:
                    visit(macros[name].body, depth + 1)
                needed.append(name)

    visit(tex, 0)
    return "".join(macros[name].as_tex(name) for name in needed)


def names_used(tex: str, macros: Macros) -> set[str]:
    """Which of ``macros`` the TeX mentions; the preamble's admin uses it to find posts."""
    return {name for name in ("\\" + m.group(1) for m in _COMMAND.finditer(tex)) if name in macros}
