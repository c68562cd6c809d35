"""Math in Markdown: the ``$…$``, ``\\(…\\)``, ``$$…$$`` and ``\\[…\\]`` rules and their output.

Formulas are recognised before any other inline syntax, so ``_``, ``*`` and ``\\\\`` inside
them stay TeX. A single ``$`` must hug its formula (``$x$``, not ``$ x $``) and may not touch
a digit outside, so "$5 and $10" stays prose. Typesetting itself is in ``typesetting.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from notes.rendering.results import MAX_FORMULAS
from notes.rendering.typesetting import math_error, typeset

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
        return False
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


def render(tokens: Sequence[Token], idx: int, env: dict[str, Any]) -> str:
    token = tokens[idx]
    display = token.type != "math_inline"
    env["formulas"] += 1
    if env["formulas"] > MAX_FORMULAS:
        result = math_error(token.content, f"more than {MAX_FORMULAS:,} formulas")
    else:
        result = typeset(token.content, display=display)
    if result.error is not None:
        env["math_errors"].append(result.error)
    if token.type == "math_block" or token.type == "fence":
        return f'<div class="math math-display">{result.html}</div>\n'
    kind = "math-display" if display else "math-inline"
    return f'<span class="math {kind}">{result.html}</span>'
