"""The last gate before HTML is stored: an nh3 allow-list of what the pipeline emits.

Markdown is parsed with raw HTML turned off, so an author's own tags are
already escaped text. This pass is defence in depth against a bug in the
parser, a plugin or KaTeX: anything the pipeline does not knowingly produce
is removed. In particular there is no ``style``, no event handler, no
``annotation-xml`` (the classic MathML mutation-XSS vector) and no element
that loads or submits anything besides ``img``.

``id`` attributes only survive with the prefixes the pipeline gives them
(``h-`` for headings, ``fn-``/``fnref-`` for footnotes), so a post cannot
clobber ``id="csrftoken"`` or any id the page layout relies on.
"""

from __future__ import annotations

import re

import nh3
from pygments.token import STANDARD_TYPES

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

ALLOWED_TAGS = frozenset(_TEXT_TAGS | _MATHML_TAGS)

_HEADING_ATTRIBUTES = {"id"}
_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title", "id", "aria-label", "data-anchor"},
    "img": {"src", "alt", "title", "width", "height"},
    "span": {"title", "data-anchor"},
    "div": {"data-anchor"},
    "col": {"span"},
    "colgroup": {"span"},
    "abbr": {"title"},
    "details": {"open"},
    "pre": {"data-lang"},
    "li": {"id"},
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
    "a": {"anchor", "wikilink", "wikilink-broken", "footnote-backref"},
    "span": {"math", "math-inline", "math-display", "math-error", "katex", "wikilink-broken"}
    | _PYGMENTS_CLASSES,
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
    },
    "p": {"markdown-alert-title", "admonition-title"},
    "pre": {"highlight"},
    "sup": {"footnote-ref"},
    "hr": {"footnotes-sep"},
    "section": {"footnotes"},
    "ol": {"footnotes-list"},
    "ul": {"contains-task-list", "toc"},
    "li": {"task-list-item", "footnote-item"},
    "input": {"task-list-item-checkbox"},
    "th": {"align-left", "align-center", "align-right"},
    "td": {"align-left", "align-center", "align-right"},
}

_OWN_ID = re.compile(r"(?:h|fn|fnref)-[\w:-]{1,200}")
# The author is the only writer and links are editorial citations, so no
# "nofollow": it would withhold credit from the papers being cited.
EXTERNAL_LINK_REL = "noopener"


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "id":
        return value if _OWN_ID.fullmatch(value) else None
    return value


_CLEANER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags={"script", "style"},
    attributes=_ATTRIBUTES,
    attribute_filter=_filter_attribute,
    link_rel=None,
    tag_attribute_values={
        "a": {"rel": {EXTERNAL_LINK_REL}},
        "input": {"type": {"checkbox"}},
    },
    set_tag_attribute_values={"input": {"disabled": ""}},
    url_schemes={"http", "https", "mailto"},
    allowed_classes=_CLASSES,
)


def sanitize_html(html: str) -> str:
    """Keep only the markup, attributes and URL schemes the pipeline emits."""
    return _CLEANER.clean(html)
