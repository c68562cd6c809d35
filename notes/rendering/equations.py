"""Equation numbers, ``\\label`` and ``\\eqref``/``\\ref``, worked out once per post.

KaTeX numbers ``equation`` and ``align`` with a CSS counter and knows nothing of labels
(KaTeX issue 2003), so kb numbers equations itself, in the order they appear in the post:

* ``equation``, ``align``, ``gather``, ``alignat`` and ``multline`` (which KaTeX lacks; set as
  ``gather``, numbered on its last row) number each row (each
  ``\\\\``-separated line at the environment's top level); their starred forms, a row with
  ``\\notag`` or ``\\nonumber``, and an empty last row are not numbered.
* ``\\tag{…}`` sets a row's number by hand (``\\tag*{…}`` without parentheses) and does not
  use up a number. A display formula outside those environments is unnumbered, unless it
  carries a ``\\label``: then it gets the next number, since that is what its author meant.
* Each numbered row becomes an explicit ``\\tag{n}`` in a starred environment, so the number is
  text in the HTML (feeds and screen readers see it too), not a CSS counter.
* ``\\label{name}`` gives the equation the anchor ``#eq-name``. ``\\eqref{name}`` (shown
  "(n)") and ``\\ref{name}`` ("n") written in the prose, or as a formula of their own
  (``$\\eqref{name}$``), become links to it; inside a larger formula they become its number
  as text. A label used before it is defined works (numbers are known before rendering);
  an unknown label shows as "(??)" marked broken and is listed in the preview.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

_NUMBERED = ("equation", "align", "gather", "alignat", "multline")
_ENVIRONMENT = re.compile(r"\\begin\{(" + "|".join(_NUMBERED) + r")(\*?)\}")
_LABEL = re.compile(r"\\label\s*\{([^{}]{1,100})\}")
_TAG = re.compile(r"\\tag(\*?)\s*\{([^{}]{0,40})\}")
_NO_NUMBER = re.compile(r"\\(?:notag|nonumber)(?![A-Za-z])")
REFERENCE = re.compile(r"\\(eqref|ref)\s*\{([^{}\n]{1,100})\}")
_LONE_REFERENCE = re.compile(r"\s*\(?\s*\\(eqref|ref)\s*\{([^{}\n]{1,100})\}\s*\)?\s*")


@dataclass
class Labels:
    """What the numbering pass learnt: label → (number as shown, anchor)."""

    numbers: dict[str, tuple[str, str]] = field(default_factory=dict)
    next_number: int = 1
    broken: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)


def anchor_for(label: str) -> str:
    slug = re.sub(r"[^\w:.-]+", "-", label.strip()).strip("-")
    return f"eq-{slug[:100] or 'label'}"


def split_rows(body: str) -> list[str]:
    """``body`` cut at each ``\\\\`` outside nested groups and environments."""
    rows, depth, start, index = [], 0, 0, 0
    while index < len(body):
        char = body[index]
        if char == "\\":
            if body.startswith("\\\\", index) and depth == 0:
                rows.append(body[start:index])
                index += 2
                start = index
                continue
            if body.startswith("\\begin", index):
                depth += 1
            elif body.startswith("\\end", index):
                depth -= 1
            index += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        index += 1
    rows.append(body[start:])
    return rows


def _number_row(row: str, numbered: bool, labels: Labels, anchors: list[str]) -> str:
    names = _LABEL.findall(row)
    row = _LABEL.sub("", row)
    tag = _TAG.search(row)
    if _NO_NUMBER.search(row):
        row, shown = _NO_NUMBER.sub("", row), None
    elif tag is not None:
        shown = tag.group(2) if tag.group(1) else f"({tag.group(2)})"
    elif (numbered or names) and row.strip():
        shown = f"({labels.next_number})"
        row = f"{row}\\tag{{{labels.next_number}}}"
        labels.next_number += 1
    else:
        shown = None
    for name in names:
        if name in labels.numbers:
            labels.duplicated.append(name)
            continue
        anchor = anchor_for(name)
        labels.numbers[name] = (shown or "(??)", anchor)
        anchors.append(anchor)
    return row


def number(tex: str, labels: Labels) -> tuple[str, list[str]]:
    """A display formula with its rows numbered and labels taken out, and its anchors."""
    anchors: list[str] = []
    if "\\begin" not in tex and "\\label" not in tex:
        return tex, anchors
    match = _ENVIRONMENT.search(tex)
    if match is None or tex[: match.start()].strip():
        return _number_row(tex, False, labels, anchors), anchors
    kind, star = match.groups()
    closing = f"\\end{{{kind}{star}}}"
    end = tex.rfind(closing)
    if end < match.end():
        return tex, anchors
    if kind == "alignat":
        columns = re.match(r"\s*\{\d+\}", tex[match.end() :])
        head_end = match.end() + (columns.end() if columns else 0)
    else:
        head_end = match.end()
    rows = split_rows(tex[head_end:end])
    if kind in ("equation", "multline"):
        rows = ["\\\\".join(rows)]
        numbered_rows = [not star] if kind == "equation" else [False] * (len(rows) - 1) + [not star]
    else:
        numbered_rows = [not star] * len(rows)
    pairs = zip(rows, numbered_rows, strict=True)
    new_rows = [_number_row(row, numbered, labels, anchors) for row, numbered in pairs]
    # KaTeX's starred environments take \tag but keep no counter of their own.
    inner = "gather*" if kind == "multline" else f"{kind}*"
    columns_spec = tex[match.end() : head_end]
    return (
        tex[: match.start()]
        + f"\\begin{{{inner}}}{columns_spec}"
        + "\\\\".join(new_rows)
        + f"\\end{{{inner}}}"
        + tex[end + len(closing) :]
    ), anchors


def refs_as_text(tex: str, labels: Labels) -> str:
    """References inside a larger formula: the number as text (or "(??)", reported)."""
    if "ref" not in tex:
        return tex

    def replace(match: re.Match[str]) -> str:
        shown = _shown(match.group(1), match.group(2), labels)
        return "\\text{" + (shown or "(??)") + "}"

    return REFERENCE.sub(replace, tex)


def _shown(kind: str, label: str, labels: Labels) -> str | None:
    found = labels.numbers.get(label.strip())
    if found is None:
        labels.broken.append(label.strip())
        return None
    return found[0] if kind == "eqref" else found[0].strip("()")


def link(kind: str, label: str, labels: Labels) -> str:
    """The HTML of ``\\eqref{label}`` or ``\\ref{label}``: a link, or a broken marker."""
    shown = _shown(kind, label, labels)
    if shown is None:
        title = html.escape(f"No equation labelled “{label.strip()}”")
        return f'<span class="eqref-broken" title="{title}">(??)</span>'
    anchor = labels.numbers[label.strip()][1]
    return f'<a class="eqref" href="#{html.escape(anchor)}">{html.escape(shown)}</a>'


def lone_reference(tex: str) -> tuple[str, str] | None:
    """``(kind, label)`` when a whole formula is one reference, as in ``$\\eqref{x}$``."""
    match = _LONE_REFERENCE.fullmatch(tex)
    if match is None:
        return None
    return match.group(1), match.group(2)


def inline_rule(state: Any, silent: bool) -> bool:
    """``\\eqref{…}`` and ``\\ref{…}`` written in the prose."""
    if not state.src.startswith(("\\eqref", "\\ref"), state.pos):
        return False
    match = REFERENCE.match(state.src, state.pos)
    if match is None:
        return False
    if not silent:
        token = state.push("equation_ref", "", 0)
        token.meta = {"kind": match.group(1), "label": match.group(2)}
        token.content = match.group(0)
    state.pos = match.end()
    return True


def render_reference(tokens: Sequence[Any], idx: int, env: dict[str, Any]) -> str:
    """A reference token's link; its text is kept on the token for the plain-text summary."""
    meta = tokens[idx].meta
    found = env["labels"].numbers.get(meta["label"].strip())
    shown = found[0] if found else "(??)"
    meta["shown"] = shown if meta["kind"] == "eqref" else shown.strip("()")
    return link(meta["kind"], meta["label"], env["labels"])
