"""KaTeX's inline ``style`` values, moved into classes of a generated stylesheet.

KaTeX's HTML places every glyph with inline styles (``height``, ``top``, ``vertical-align``…).
The Content-Security-Policy forbids style attributes, so each declaration becomes a class
whose name spells the declaration out: ``height:0.4306em`` is ``kh-0d4306``, ``top:-2.55em``
is ``kt-n2d55``, ``color:#cc0000`` is ``kc-xcc0000``. A name can be read back into exactly one
declaration, so the stylesheet is a pure function of the classes a page holds
(``stylesheet``): deterministic, the same for the same formulas, rebuilt from the sanitized
HTML rather than trusted from anywhere.

Only the properties and value shapes KaTeX emits are understood: lengths (em, px, ex, pt),
a few keywords and colours (hex or a CSS colour name). A declaration outside that grammar is
dropped, so nothing an author writes can reach the stylesheet as free text. Rules carry
``!important`` because they stand in for inline styles, which beat KaTeX's own selectors.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

_PROPERTIES = {
    "height": "h",
    "top": "t",
    "bottom": "b",
    "left": "l",
    "right": "r",
    "vertical-align": "va",
    "margin": "m",
    "margin-left": "ml",
    "margin-right": "mr",
    "margin-top": "mt",
    "margin-bottom": "mb",
    "width": "w",
    "min-width": "mw",
    "max-width": "xw",
    "padding-left": "pl",
    "padding-right": "pr",
    "padding-top": "pt",
    "padding-bottom": "pb",
    "border-width": "bw",
    "border-top-width": "btw",
    "border-bottom-width": "bbw",
    "border-right-width": "brw",
    "border-left-width": "blw",
    "border-style": "bs",
    "border-right-style": "brs",
    "border-left-style": "bls",
    "border-top-style": "bts",
    "border-bottom-style": "bbs",
    "position": "pos",
    "color": "c",
    "background-color": "bg",
    "border-color": "bc",
}
_CODES = {code: name for name, code in _PROPERTIES.items()}
_COLOURS = {"color", "background-color", "border-color"}
_BORDER_STYLES = {"solid", "dashed", "dotted", "double", "none"}
_KEYWORDS = {
    "position": {"relative", "absolute"},
    **{name: _BORDER_STYLES for name in _PROPERTIES if name.endswith("-style")},
}
_UNITS = {"em": "", "px": "p", "ex": "x", "pt": "t", "": "u"}
_UNIT_NAMES = {code: unit for unit, code in _UNITS.items()}

_LENGTH = re.compile(r"(-?)(\d*)(?:\.(\d+))?(em|px|ex|pt|)")
_HEX = re.compile(r"#([0-9a-f]{3,8})")
_WORD = re.compile(r"[a-z]{1,24}")
_CODED_LENGTH = re.compile(r"(n?)(\d+)(?:d(\d+))?([pxtu]?)")
_CODED_HEX = re.compile(r"x([0-9a-f]{3,8})")
CLASS = re.compile(r"k([a-z]{1,3})-([0-9a-z_]{1,60})")


def _encode_value(prop: str, value: str) -> str | None:
    if prop in _COLOURS:
        value = value.lower()
        if hex_colour := _HEX.fullmatch(value):
            return "x" + hex_colour.group(1)
        return value if _WORD.fullmatch(value) and not value.startswith("x") else None
    if prop in _KEYWORDS:
        return value if value in _KEYWORDS[prop] else None
    parts = []
    for part in value.split():
        length = _LENGTH.fullmatch(part)
        if length is None or not (length.group(2) or length.group(3)):
            return None
        sign, whole, fraction, unit = length.groups()
        coded = ("n" if sign else "") + (whole or "0") + (f"d{fraction}" if fraction else "")
        parts.append(coded + _UNITS[unit])
    return "_".join(parts) if 0 < len(parts) <= 4 else None


def class_for(declaration: str) -> str | None:
    """The class standing for one ``property:value``, or None if it isn't KaTeX's grammar."""
    prop, _, value = declaration.partition(":")
    prop, value = prop.strip(), value.strip()
    code = _PROPERTIES.get(prop)
    if code is None:
        return None
    encoded = _encode_value(prop, value)
    return None if encoded is None else f"k{code}-{encoded}"


@lru_cache(maxsize=16_384)
def declaration_for(name: str) -> str | None:
    """The declaration a class stands for; the inverse of ``class_for``."""
    match = CLASS.fullmatch(name)
    if match is None or match.group(1) not in _CODES:
        return None
    prop = _CODES[match.group(1)]
    value = match.group(2)
    if prop in _COLOURS:
        hex_colour = _CODED_HEX.fullmatch(value)
        if hex_colour:
            return f"{prop}:#{hex_colour.group(1)}"
        return f"{prop}:{value}" if _WORD.fullmatch(value) else None
    if prop in _KEYWORDS:
        return f"{prop}:{value}" if value in _KEYWORDS[prop] else None
    lengths = []
    for part in value.split("_"):
        length = _CODED_LENGTH.fullmatch(part)
        if length is None:
            return None
        sign, whole, fraction, unit = length.groups()
        number = ("-" if sign else "") + whole + (f".{fraction}" if fraction else "")
        lengths.append(number + _UNIT_NAMES[unit])
    return f"{prop}:{' '.join(lengths)}"


def is_style_class(name: str) -> bool:
    return declaration_for(name) is not None


_STYLED_TAG = re.compile(r'<(span|svg)((?:\s[a-zA-Z-]+="[^"]*")*?)\sstyle="([^"]*)"([^>]*)>')
_CLASS_ATTRIBUTE = re.compile(r'\sclass="([^"]*)"')


def hoist(html: str) -> str:
    """KaTeX's HTML with each ``style="…"`` replaced by the classes that stand for it."""
    if ' style="' not in html:
        return html
    return _STYLED_TAG.sub(_hoist_tag, html)


def _hoist_tag(match: re.Match[str]) -> str:
    tag, before, style, after = match.groups()
    classes = [
        name
        for declaration in style.split(";")
        if declaration.strip() and (name := class_for(declaration)) is not None
    ]
    attributes = before + after
    existing = _CLASS_ATTRIBUTE.search(attributes)
    if not classes:
        return f"<{tag}{attributes}>"
    if existing is None:
        return f'<{tag} class="{" ".join(classes)}"{attributes}>'
    merged = f' class="{existing.group(1)} {" ".join(classes)}"'
    return f"<{tag}{attributes[: existing.start()]}{merged}{attributes[existing.end() :]}>"


_CLASS_VALUES = re.compile(r'\sclass="([^"]*)"')


def stylesheet(html: str | Iterable[str]) -> str:
    """The rules for every style class in ``html`` (or in several HTML strings), sorted."""
    documents = [html] if isinstance(html, str) else list(html)
    names = {
        name
        for document in documents
        for value in _CLASS_VALUES.findall(document)
        for name in value.split()
        if name.startswith("k") and "-" in name
    }
    rules = []
    for name in sorted(names):
        declaration = declaration_for(name)
        if declaration is not None:
            rules.append(f".{name}{{{declaration}!important}}\n")
    return "".join(rules)
