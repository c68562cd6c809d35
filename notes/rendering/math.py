"""Math in Markdown: the ``$…$``, ``\\(…\\)``, ``$$…$$`` and ``\\[…\\]`` rules and their output.

Formulas are recognised before any other inline syntax, so ``_``, ``*`` and ``\\\\`` inside
them stay TeX. A single ``$`` must hug its formula (``$x$``, not ``$ x $``) and may not touch
a digit outside, so "$5 and $10" stays prose. Typesetting itself is in ``typesetting.py``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Sequence
from typing import Any

from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from notes.rendering import equations
from notes.rendering.macros import definitions_for, take_definitions
from notes.rendering.results import MAX_FORMULAS
from notes.rendering.typesetting import math_error, prefetch, typeset

_INLINE_DELIMITERS = (("$$", "$$", True), ("\\[", "\\]", True), ("\\(", "\\)", False))


def _find(state: StateInline, needle: str, start: int) -> int:
    """``src.find`` remembered per paragraph, so thousands of unclosed
    openers cost one scan instead of one scan each."""
    memo = state.env.setdefault("_find_memo", {})
    cached = memo.get(needle)
    if cached and cached[0] is state.src and cached[1] <= start:
        found = cached[2]
        if found == -1 or found >= start:
            return found
    found = state.src.find(needle, start)
    memo[needle] = (state.src, start, found)
    return found


def inline_rule(state: StateInline, silent: bool) -> bool:
    src, pos = state.src, state.pos
    if src[pos] not in "$\\":
        return False
    for opener, closer, is_display in _INLINE_DELIMITERS:
        if src.startswith(opener, pos):
            start = pos + len(opener)
            end = _find(state, closer, start)
            if end <= start or not src[start:end].strip():
                return False
            display = is_display
            break
    else:
        if src[pos] != "$" or not _dollar_opens(src, pos):
            return False
        start, display, closer = pos + 1, False, "$"
        end = _find(state, "$", start)
        if end < 0 or not _dollar_closes(src, end):
            return False
    if not silent:
        token = state.push("math_display" if display else "math_inline", "math", 0)
        token.content = src[start:end]
        token.markup = closer
    state.pos = end + len(closer)
    return True


def _dollar_opens(src: str, pos: int) -> bool:
    after = src[pos + 1 : pos + 2]
    before = src[pos - 1 : pos] if pos else ""
    return bool(after) and not after.isspace() and not before.isdigit()


def _dollar_closes(src: str, end: int) -> bool:
    after = src[end + 1 : end + 2]
    return not src[end - 1].isspace() and not after.isdigit()


_BLOCK_DELIMITERS = (("$$", "$$"), ("\\[", "\\]"))
_BLOCK_MATH_MAX_LINES = 400


def block_rule(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    if state.sCount[start_line] - state.blkIndent >= 4:
        return False
    begin = state.bMarks[start_line] + state.tShift[start_line]
    first = state.src[begin : state.eMarks[start_line]].rstrip()
    closer = next((c for o, c in _BLOCK_DELIMITERS if first.startswith(o)), None)
    if closer is None:
        return _environment_block(state, start_line, end_line, silent, first)
    opener = first[:2]
    rest = first[len(opener) :]
    if rest.endswith(closer) and closer not in rest[: -len(closer)]:
        body, last = rest[: -len(closer)], start_line
    elif closer in rest:
        return False  # closed mid-line: inline math inside a paragraph
    else:
        last = _closing_line(state, start_line, end_line, closer)
        if last is None:
            return False
        lines = [rest] + [_line(state, n) for n in range(start_line + 1, last)]
        lines.append(_line(state, last).rstrip()[: -len(closer)])
        body = "\n".join(lines)
    if not body.strip():
        return False
    if not silent:
        token = state.push("math_block", "math", 0)
        token.block = True
        token.content = body
        token.markup = opener
        token.map = [start_line, last + 1]
    state.line = last + 1
    return True


# MathJax typesets these environments written straight in the text, with no $$ around them.
_BARE_ENVIRONMENT = re.compile(
    r"\\begin\{(equation|align|alignat|gather|multline|eqnarray|flalign)(\*?)\}"
)


def _environment_block(
    state: StateBlock, start_line: int, end_line: int, silent: bool, first: str
) -> bool:
    opening = _BARE_ENVIRONMENT.match(first)
    if opening is None:
        return False
    closer = f"\\end{{{opening.group(1)}{opening.group(2)}}}"
    last = start_line
    stop = min(end_line, start_line + _BLOCK_MATH_MAX_LINES)
    while not _line(state, last).rstrip().endswith(closer):
        last += 1
        if last >= stop or not _line(state, last).strip():
            return False
    if not silent:
        token = state.push("math_block", "math", 0)
        token.block = True
        token.content = "\n".join(_line(state, n) for n in range(start_line, last + 1))
        token.markup = "\\begin"
        token.map = [start_line, last + 1]
    state.line = last + 1
    return True


def _line(state: StateBlock, line: int) -> str:
    return state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]


def _closing_line(state: StateBlock, start_line: int, end_line: int, closer: str) -> int | None:
    """Line holding the closing delimiter, before any blank line or dedent."""
    memo = state.env.setdefault("_math_block_memo", {})
    known_open = memo.get((closer, state.blkIndent))
    if known_open and known_open[0] < start_line < known_open[1]:
        return None  # an earlier scan saw no closer up to that line
    line = start_line + 1
    stop = min(end_line, start_line + _BLOCK_MATH_MAX_LINES)
    while line < stop:
        text = _line(state, line).rstrip()
        if not text or state.sCount[line] < state.blkIndent:
            break
        if text.endswith(closer):
            return line
        if closer in text:
            break
        line += 1
    memo[(closer, state.blkIndent)] = (start_line, line)
    return None


def prepare(state: StateCore) -> None:
    """Before anything renders: take each formula's macro definitions, in the order they are
    written, and number the display formulas, so a reference may come before its label."""
    macros = state.env["macros"]
    labels = state.env["labels"]
    for token in _math_tokens(state.tokens):
        display = token.type != "math_inline"
        tex = take_definitions(token.content, macros)
        anchors: list[str] = []
        if display:
            tex, anchors = equations.number(tex, labels)
        token.meta = {"tex": tex, "anchors": anchors, "definitions": definitions_for(tex, macros)}
    state.tokens = _without_definition_paragraphs(state.tokens)
    prefetch(_formulas_to_typeset(state.tokens, labels))


def _formulas_to_typeset(tokens: Sequence[Token], labels) -> Iterator[tuple[str, bool, str]]:
    """What `render` will ask `typeset` for, in order, so it can be typeset in one batch."""
    for count, token in enumerate(_math_tokens(tokens)):
        if count >= MAX_FORMULAS:
            return
        meta = token.meta
        tex = meta["tex"]
        if not tex.strip() or (not meta["anchors"] and equations.lone_reference(tex)):
            continue
        yield equations.refs_as_text(tex, labels), token.type != "math_inline", meta["definitions"]


def _without_definition_paragraphs(tokens: list[Token]) -> list[Token]:
    """Drop a paragraph that only held macro definitions: it would show as an empty gap."""
    kept: list[Token] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type == "paragraph_open" and index + 2 < len(tokens):
            children = tokens[index + 1].children or []
            if children and all(_is_blank(child) for child in children):
                index += 3
                continue
        kept.append(token)
        index += 1
    return kept


def _is_blank(token: Token) -> bool:
    if token.type in ("math_inline", "math_display"):
        return not token.meta["tex"].strip()
    return token.type in ("softbreak", "hardbreak") or (
        token.type == "text" and not token.content.strip()
    )


def _math_tokens(tokens: Sequence[Token]) -> Iterator[Token]:
    for token in tokens:
        if token.type == "math_block" or (
            token.type == "fence" and token.info.strip().lower() == "math"
        ):
            yield token
        elif token.type == "inline" and token.children:
            yield from (c for c in token.children if c.type in ("math_inline", "math_display"))


def render(tokens: Sequence[Token], idx: int, env: dict[str, Any]) -> str:
    token = tokens[idx]
    display = token.type != "math_inline"
    meta = token.meta or {}
    tex = meta.get("tex", token.content)
    anchors = meta.get("anchors", [])
    reference = None if anchors else equations.lone_reference(tex)
    if reference is not None:
        token.meta = {**meta, "kind": reference[0], "label": reference[1]}
        return equations.render_reference(tokens, idx, env)
    if not tex.strip():
        return ""  # a formula that only defined macros
    tex = equations.refs_as_text(tex, env["labels"])
    env["formulas"] += 1
    if env["formulas"] > MAX_FORMULAS:
        result = math_error(token.content, f"more than {MAX_FORMULAS:,} formulas")
    else:
        result = typeset(
            tex, display=display, shown=token.content, definitions=meta.get("definitions", "")
        )
    if result.error is not None:
        env["math_errors"].append(result.error)
    markup = result.html
    if tex != token.content and result.error is None:
        markup = _as_written(markup, token.content)
    if not display:
        return f'<span class="math math-inline">{markup}</span>'
    return _display_box(token, markup, anchors)


_ANNOTATION = re.compile(
    r'(<annotation encoding="application/x-tex">).*?(</annotation>)', re.DOTALL
)


def _as_written(markup: str, source: str) -> str:
    """The TeX annotation (what copying the formula gives) as the author wrote it, not as
    numbering and the MathJax rewrites left it."""
    written = html.escape(source.strip(), quote=False)
    return _ANNOTATION.sub(lambda m: m.group(1) + written + m.group(2), markup, count=1)


def _display_box(token: Token, markup: str, anchors: Sequence[str]) -> str:
    """A display formula in a box of its own: it scrolls when wider than the column, so it
    is reachable by keyboard and named for screen readers, and it carries its labels' ids."""
    tag = "div" if token.type in ("math_block", "fence") else "span"
    ids = f' id="{html.escape(anchors[0])}"' if anchors else ""
    extra = "".join(f'<span id="{html.escape(a)}"></span>' for a in anchors[1:])
    opening = (
        f'<{tag} class="math math-display"{ids} tabindex="0" role="group" aria-label="Formula">'
    )
    return f"{opening}{extra}{markup}</{tag}>" + ("\n" if tag == "div" else "")
