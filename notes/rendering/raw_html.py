"""Raw HTML in a post: a safe subset stays live, as on GitHub; the rest stays visible as text.

markdown-it hands over raw HTML as it was written (a block, or one tag inside a paragraph).
Each tag is checked here: a tag of the subset is written again with only its allowed
attributes; any other tag is escaped, so it shows as the author typed it, and is listed for the
preview. The sanitizer still runs last over everything. An `<iframe>` of a known video site
becomes a link to the video. Comments are left out, as every browser hides them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from markdown_it.token import Token

from notes.rendering.anchors import anchor_attributes, resolve

LIVE_TAGS = frozenset(
    {
        *("table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "colgroup", "col"),
        *("br", "hr", "sub", "sup", "span", "div", "a", "img", "figure", "figcaption"),
        *("details", "summary", "kbd", "mark", "abbr", "dl", "dt", "dd", "small", "cite"),
        *("q", "blockquote", "p", "em", "strong", "b", "i", "u", "s", "del", "ins", "code"),
        *("pre", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "var", "samp"),
    }
)
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "col": {"span"},
    "colgroup": {"span"},
    "abbr": {"title"},
    "ol": {"start"},
    "details": {"open"},
}
_VOID = frozenset({"br", "hr", "img", "col"})
# Bounded, so a flood of unclosed tags costs linear time.
_PIECE = re.compile(
    r"<(/?)([A-Za-z][\w:-]{0,40})((?:[^<>\"']|\"[^\"<>]{0,2000}\"|'[^'<>]{0,2000}'){0,200})(/?)>"
)
_ATTRIBUTE = re.compile(r"""([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")
_SIZE = re.compile(r"\d{1,4}%?")
_VIDEO_SITES = (
    (re.compile(r"^(?:https?:)?//(?:www\.)?youtube(?:-nocookie)?\.com/embed/([\w-]{6,20})"),
     "https://www.youtube.com/watch?v={}", "YouTube"),
    (re.compile(r"^(?:https?:)?//player\.vimeo\.com/video/(\d{4,12})"),
     "https://vimeo.com/{}", "Vimeo"),
)  # fmt: skip


def video(src: str) -> tuple[str, str] | None:
    """The address of the video a player `src` shows and its site's name, for known sites."""
    for pattern, address, site in _VIDEO_SITES:
        found = pattern.match(src.strip())
        if found:
            return address.format(found.group(1)), site
    return None


def attributes(tag: str) -> dict[str, str]:
    found = {}
    for match in _ATTRIBUTE.finditer(tag):
        value = match.group(2) or match.group(3) or match.group(4) or ""
        found.setdefault(match.group(1).lower(), html.unescape(value))
    return found


def refused_tags(markup: str) -> list[str]:
    """The tags in `markup` that would be shown as text rather than kept live."""
    return [
        f"<{m.group(2).lower()}>"
        for m in _PIECE.finditer(markup)
        if m.group(2) and m.group(2).lower() not in LIVE_TAGS and not _is_video(m)
    ]


def _is_video(match: re.Match[str]) -> bool:
    if match.group(2).lower() != "iframe":
        return False
    return match.group(1) == "/" or video(attributes(match.group(3)).get("src", "")) is not None


def render(tokens: Sequence[Token], idx: int, env: dict[str, Any]) -> str:
    """The render rule for `html_block` and `html_inline` tokens."""
    return filter_html(tokens[idx].content, env)


def filter_html(markup: str, env: dict[str, Any]) -> str:
    markup = _without_comments(markup)
    out: list[str] = []
    position = 0
    for match in _PIECE.finditer(markup):
        out.append(_text(markup[position : match.start()]))
        position = match.end()
        closing, name = match.group(1) == "/", match.group(2).lower()
        if name == "iframe":
            out.append(_iframe(match, closing, env))
        elif name not in LIVE_TAGS:
            env.setdefault("html_refused", []).append(f"<{name}>")
            out.append(html.escape(match.group(0), quote=False))
        elif closing:
            out.append("" if name in _VOID else f"</{name}>")
        else:
            out.append(_open_tag(name, attributes(match.group(3)), env))
    out.append(_text(markup[position:]))
    return "".join(out)


def _without_comments(markup: str) -> str:
    """Closed comments left out; an unclosed one stays, to be shown as text."""
    kept, position = [], 0
    while (start := markup.find("<!--", position)) >= 0:
        end = markup.find("-->", start + 4)
        if end < 0:
            break
        kept.append(markup[position:start])
        position = end + 3
    kept.append(markup[position:])
    return "".join(kept)


def _text(text: str) -> str:
    # Entities stay as written (`&amp;`, `&nbsp;`); a stray `<` or `>` is shown as itself.
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _open_tag(name: str, found: dict[str, str], env: dict[str, Any]) -> str:
    kept = {k: v for k, v in found.items() if k in _ATTRIBUTES.get(name, ())}
    if "href" in kept:
        kept["href"] = resolve(kept["href"], env)
    for size in ("width", "height"):
        if size in kept and not _SIZE.fullmatch(kept[size].strip()):
            kept.pop(size)
    if name in {"a", "span", "div"}:
        kept |= anchor_attributes(found.get("id") or found.get("name") or "", env)
    if "align" in found and name in {"td", "th"} and found["align"].lower() in _ALIGN:
        kept["class"] = f"align-{found['align'].lower()}"
    written = "".join(f' {k}="{html.escape(v)}"' for k, v in kept.items())
    return f"<{name}{written}>"


_ALIGN = frozenset({"left", "center", "right"})


def _iframe(match: re.Match[str], closing: bool, env: dict[str, Any]) -> str:
    if closing:
        return ""
    found = attributes(match.group(3))
    known = video(found.get("src", ""))
    if known is None:
        env.setdefault("html_refused", []).append("<iframe>")
        return html.escape(match.group(0), quote=False)
    address, site = known
    label = " ".join(found.get("title", "").split()) or f"Video on {site}"
    return f'<a href="{html.escape(address)}" rel="noopener">▶ {html.escape(label)}</a>'
