"""The last gate before HTML is stored: an nh3 allow-list of what the pipeline emits.

Markdown is parsed with raw HTML turned off, so an author's own tags are
already escaped text. This pass is defence in depth against a bug in the
parser, a plugin or KaTeX: anything the pipeline does not knowingly produce
is removed. In particular there is no ``style``, no event handler, no
``annotation-xml`` (the classic MathML mutation-XSS vector) and no element
that loads or submits anything besides ``img``.

``id`` attributes only survive with the prefixes the pipeline gives them
(``h-`` for headings, ``fn-``/``fnref-`` for footnotes, ``eq-`` for labelled equations,
``ref-`` for the References list), so a post cannot clobber ``id="csrftoken"`` or any id the
page layout relies on.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import nh3
from pygments.token import STANDARD_TYPES

from notes.rendering import katex_styles
from notes.rendering.figures import WIDTH_CLASSES

_TEXT_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "div",
    "section", "span", "a", "em", "strong", "s", "sup", "code", "pre", "ul", "ol",
    "li", "dl", "dt", "dd", "table", "thead", "tbody", "tr", "th", "td", "img",
    "input",
    # What raw HTML may keep (raw_html.py), and figures.
    "figure", "figcaption", "caption", "colgroup", "col", "tfoot", "sub", "kbd", "mark",
    "abbr", "small", "cite", "q", "details", "summary", "b", "i", "u", "ins", "del", "var",
    "samp",
}  # fmt: skip

_MATHML_TAGS = {
    "math", "semantics", "annotation", "mrow", "mi", "mn", "mo", "ms", "mtext",
    "mspace", "msup", "msub", "msubsup", "mfrac", "msqrt", "mroot", "mover",
    "munder", "munderover", "mtable", "mtr", "mtd", "mlabeledtr", "mstyle",
    "mpadded", "mphantom", "menclose",
}  # fmt: skip

# --- KaTeX's visual HTML (issue 14) -------------------------------------------------------
# KaTeX draws stretchy delimiters, roots and wide accents as SVG paths of its own.
_KATEX_TAGS = {"svg", "path", "line"}
_KATEX_ATTRIBUTES: dict[str, set[str]] = {
    "svg": {"xmlns", "width", "height", "viewBox", "preserveAspectRatio"},
    "path": {"d"},
    "line": {"x1", "y1", "x2", "y2", "stroke-width"},
    # The display box: focusable and named because it scrolls (see math._display_box).
    "div": {"tabindex", "role", "aria-label", "id"},
    "span": {"aria-hidden", "tabindex", "role", "aria-label", "class", "id"},
}
_KATEX_VALUES = {
    "tabindex": {"0"},
    "role": {"group"},
    "aria-hidden": {"true"},
    "aria-label": {"Formula"},
    "xmlns": {"http://www.w3.org/2000/svg"},
}


def _katex_css_classes() -> frozenset[str]:
    """Every class KaTeX's stylesheet styles; a class it doesn't style changes nothing."""
    css = (Path(__file__).resolve().parents[2] / "static" / "katex" / "katex.css").read_text()
    return frozenset(re.findall(r"\.([A-Za-z_][\w-]*)", re.sub(r"url\([^)]*\)", "", css)))


# Span classes are checked by _filter_attribute: KaTeX's own, the generated style classes
# (katex_styles.is_style_class) and the pipeline's (_CLASSES["span"]).
_FILTERED_CLASS_TAGS = {"span"}
# -------------------------------------------------------------------------------------------

ALLOWED_TAGS = frozenset(_TEXT_TAGS | _MATHML_TAGS | _KATEX_TAGS)

_HEADING_ATTRIBUTES = {"id"}
_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title", "id", "aria-label", "data-anchor"},
    "img": {"src", "alt", "title", "width", "height", "loading", "decoding", "srcset", "sizes"},
    "span": {"title", "aria-hidden", "data-anchor"},
    "div": {"data-anchor"},
    "col": {"span"},
    "colgroup": {"span"},
    "abbr": {"title"},
    "details": {"open"},
    "pre": {"data-lang"},
    "li": {"id"},
    "section": {"aria-labelledby"},
    "ol": {"start"},
    "th": {"colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
    "input": {"checked", "disabled"},
    "math": {"display", "xmlns"},
    "annotation": {"encoding"},
    "mi": {"mathvariant"},
    "mn": {"mathvariant"},
    "mtext": {"mathvariant"},
    "mo": {
        "fence",
        "stretchy",
        "separator",
        "lspace",
        "rspace",
        "minsize",
        "maxsize",
        "largeop",
        "movablelimits",
        "form",
        "accent",
        "symmetric",
        "mathvariant",
    },
    "mstyle": {
        "displaystyle",
        "scriptlevel",
        "mathsize",
        "mathcolor",
        "mathbackground",
    },
    "mspace": {"width", "height", "depth", "linebreak", "mathbackground"},
    "mpadded": {"width", "height", "depth", "lspace", "voffset", "mathbackground"},
    "mfrac": {"linethickness"},
    "mover": {"accent"},
    "munder": {"accentunder"},
    "munderover": {"accent", "accentunder"},
    "menclose": {"notation"},
    "mtable": {
        "columnalign",
        "rowalign",
        "columnspacing",
        "rowspacing",
        "columnlines",
        "rowlines",
        "frame",
        "framespacing",
        "width",
    },
    "mtr": {"columnalign", "rowalign"},
    "mtd": {"columnalign", "rowalign", "columnspan", "rowspan", "width"},
} | {f"h{level}": _HEADING_ATTRIBUTES for level in range(1, 7)}

_PYGMENTS_CLASSES = {name for name in STANDARD_TYPES.values() if name}

ADMONITION_KINDS = (
    "note", "tip", "hint", "important", "info", "abstract", "summary", "example", "question",
    "success", "warning", "caution", "attention", "danger", "error", "failure", "bug", "quote",
)  # fmt: skip

# Classes are an allow-list too, so a post can't borrow the site's own
# layout classes (a fake "modal", a hidden "skip-link"...).
_CLASSES: dict[str, set[str]] = {
    "a": {"anchor", "wikilink", "wikilink-broken", "footnote-backref", "eqref", "cite-ref"},
    "span": {"math", "math-inline", "math-display", "math-error", "katex", "wikilink-broken"}
    | {"eqref-broken", "cite", "cite-unknown", "sidenote", "sidenote-number"}
    | _PYGMENTS_CLASSES,
    "img": set(WIDTH_CLASSES),
    "figure": {"figure", *WIDTH_CLASSES},
    "p": {"markdown-alert-title", "admonition-title", "embed-source"},
    "div": {
        "math",
        "math-display",
        "markdown-alert",
        "markdown-alert-note",
        "markdown-alert-tip",
        "markdown-alert-important",
        "markdown-alert-warning",
        "markdown-alert-caution",
        "admonition",
        *ADMONITION_KINDS,
        "embed",
        "embed-missing",
        "embed-cycle",
    },
    "pre": {"highlight"},
    "sup": {"footnote-ref"},
    "hr": {"footnotes-sep"},
    "section": {"footnotes", "references"},
    "ol": {"footnotes-list"},
    "ul": {"contains-task-list", "toc", "references-list"},
    "li": {"task-list-item", "footnote-item"},
    "input": {"task-list-item-checkbox"},
    "th": {"align-left", "align-center", "align-right"},
    "td": {"align-left", "align-center", "align-right"},
}

_OWN_ID = re.compile(r"(?:h|fn|fnref|eq|ref)-[\w:.-]{1,200}")
# The author is the only writer and links are editorial citations, so no
# "nofollow": it would withhold credit from the papers being cited.
EXTERNAL_LINK_REL = "noopener"


_SPAN_CLASSES = frozenset(_CLASSES["span"]) | _katex_css_classes()


@lru_cache(maxsize=16_384)
def _allowed_classes(value: str) -> str | None:
    """The classes of ``value`` a span may keep. KaTeX repeats the same few thousand values."""
    kept = [
        name for name in value.split() if name in _SPAN_CLASSES or katex_styles.is_style_class(name)
    ]
    return " ".join(kept) or None


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "id":
        return value if _OWN_ID.fullmatch(value) else None
    if attribute == "class" and tag in _FILTERED_CLASS_TAGS:
        return _allowed_classes(value)
    allowed = _KATEX_VALUES.get(attribute)
    if allowed is not None and tag in ("div", "span", "svg"):
        return value if value in allowed else None
    return value


_CLEANER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags={"script", "style"},
    attributes={
        tag: _ATTRIBUTES.get(tag, set()) | _KATEX_ATTRIBUTES.get(tag, set())
        for tag in _ATTRIBUTES.keys() | _KATEX_ATTRIBUTES.keys()
    },
    attribute_filter=_filter_attribute,
    link_rel=None,
    tag_attribute_values={
        "a": {"rel": {EXTERNAL_LINK_REL}},
        "input": {"type": {"checkbox"}},
    },
    set_tag_attribute_values={"input": {"disabled": ""}},
    url_schemes={"http", "https", "mailto"},
    allowed_classes={t: c for t, c in _CLASSES.items() if t not in _FILTERED_CLASS_TAGS},
)


def sanitize_html(html: str) -> str:
    """Keep only the markup, attributes and URL schemes the pipeline emits."""
    return _CLEANER.clean(html)
