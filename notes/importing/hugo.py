"""Hugo content (goldmark Markdown with shortcodes) translated into kb's Markdown.

`figure`, `ref`/`relref`, `highlight` and `youtube` shortcodes have kb equivalents; any other
shortcode stays visible as text and is noted, line by line.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from notes.importing.translation import (
    Translation,
    attributes,
    extract_updates,
    iframes_to_links,
    sized_image,
    split_excerpt,
    substitute,
    video_link,
)
from notes.slugs import slug_base

# `{{< name args >}}` and `{{% name args %}}`; a closing `{{< /name >}}` is matched apart.
_SHORTCODE = re.compile(r"\{\{([<%])\s*(/?)\s*([\w./-]+)((?:[^<>%}\"]|\"[^\"]*\")*?)\s*[>%]\}\}")
_HIGHLIGHT = re.compile(
    r"^([ \t]*)\{\{[<%]\s*highlight\s+([\w+#.-]+)[^}]*[>%]\}\}[ \t]*\n(.*?)^[ \t]*"
    r"\{\{[<%]\s*/highlight\s*[>%]\}\}[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
_LINKED_REF = re.compile(
    r"(?<!!)\[((?:[^\[\]\n]|\[[^\]\n]*\])*)\]\(\s*\{\{[<%]\s*(?:rel)?ref\s+\"?([^\"\s>%]+)\"?\s*[>%]\}\}"
    r"(#[^\s)]*)?\s*\)"
)
_POSITIONAL = re.compile(r"\"([^\"]*)\"|(\S+)")


def page_name(reference: str) -> str:
    """The name kb links a page by, from a `ref` argument or a content path: a bundle is
    named by its folder, any other page by its file."""
    path = reference.split("#", 1)[0].strip("/")
    parts = [p for p in path.split("/") if p]
    if not parts:
        return ""
    last = re.sub(r"\.(md|markdown|html)$", "", parts[-1])
    if last in {"index", "_index"} and len(parts) > 1:
        last = parts[-2]
    return last


def translate(body: str, translation: Translation) -> str:
    body = _highlights(body, translation)
    body = split_excerpt(body, translation)
    body = extract_updates(body, translation)
    body = iframes_to_links(body, translation)
    body = substitute(body, _LINKED_REF, lambda m, line: _ref_link(m, translation))
    body = substitute(body, _SHORTCODE, lambda m, line: _shortcode(m, line, translation))
    return body


def _highlights(body: str, translation: Translation) -> str:
    def fence(match: re.Match[str]) -> str:
        indent, language, code = match.groups()
        translation.counts["code blocks"] += 1
        marks = "~~~" if "```" in code else "```"
        return f"{indent}{marks}{language.lower()}\n{code}{indent}{marks}"

    return _HIGHLIGHT.sub(fence, body)


def _ref_link(match: re.Match[str], translation: Translation) -> str:
    label, reference, fragment = match.groups()
    name = page_name(reference)
    translation.counts["links"] += 1
    anchor = (fragment or "").lstrip("#")
    if label and not any(c in label for c in "|[]"):
        return f"[[{name}{'#' + anchor if anchor else ''}|{label}]]"
    return f"[{label}](/posts/{quote(slug_base(name, 120))}/{fragment or ''})"


def _arguments(text: str) -> tuple[dict[str, str], list[str]]:
    named = attributes(text)
    rest = re.sub(r"""[\w-]+\s*=\s*(?:"[^"]*"|'[^']*'|\S+)""", "", text)
    positional = [
        m.group(1) if m.group(1) is not None else m.group(2) for m in _POSITIONAL.finditer(rest)
    ]
    return named, positional


def _shortcode(match: re.Match[str], line: int, translation: Translation) -> str:
    closing, name, arguments = match.group(2), match.group(3).lower(), match.group(4)
    named, positional = _arguments(arguments)
    if not closing and name == "figure":
        return _figure(named, translation)
    if not closing and name in {"ref", "relref"} and (positional or named.get("path")):
        translation.counts["links"] += 1
        return f"[[{page_name(named.get('path') or positional[0])}]]"
    if not closing and name == "youtube" and (positional or named.get("id")):
        video = named.get("id") or positional[0]
        link = video_link(f"https://www.youtube.com/embed/{video}", named.get("title", ""))
        if link:
            translation.counts["videos linked"] += 1
            return link
    if not closing and name == "vimeo" and (positional or named.get("id")):
        video = named.get("id") or positional[0]
        link = video_link(f"https://player.vimeo.com/video/{video}", named.get("title", ""))
        if link:
            translation.counts["videos linked"] += 1
            return link
    translation.note(line, f"Hugo shortcode {match.group(0)!r} has no kb equivalent; left as text")
    return match.group(0)


def _figure(named: dict[str, str], translation: Translation) -> str:
    source = named.get("src", "")
    caption = named.get("caption") or named.get("title") or ""
    alt = re.sub(r"([\[\]\\])", r"\\\1", named.get("alt") or caption or "")
    title = ""
    if caption:
        quote_mark = '"' if '"' not in caption else "'"
        title = f" {quote_mark}{caption}{quote_mark}"
        translation.counts["figure captions"] += 1
    width = re.fullmatch(r"\s*(\d{1,4})(?:px)?\s*|\s*(\d{1,3})%\s*", named.get("width", ""))
    link = f"![{alt}]({source}{title})"
    if width:
        link = sized_image(link, width.group(1) or f"{width.group(2)}%")
        translation.counts["figures sized"] += 1
    if named.get("link"):
        link = f"[{link}]({named['link']})"
    return link
