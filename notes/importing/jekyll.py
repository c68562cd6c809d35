"""Jekyll posts (kramdown + Liquid + MathJax) translated into kb's Markdown.

Liquid links become cross-links, asset filters become paths, `{% highlight %}` becomes a
fence, kramdown's attribute lists become the figure's size and caption, and kramdown's `$$`
inside a sentence becomes inline math. What has no kb equivalent stays visible and is noted.
"""

from __future__ import annotations

import datetime
import re
from urllib.parse import quote

from notes.importing.files import FENCE
from notes.importing.translation import (
    Translation,
    blank,
    extract_updates,
    iframes_to_links,
    sized_image,
    split_excerpt,
    substitute,
)
from notes.slugs import slug_base

DATED_NAME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-(.+)$")

_RAW = re.compile(r"\{%-?\s*raw\s*-?%\}(.*?)\{%-?\s*endraw\s*-?%\}", re.DOTALL)
_HIGHLIGHT = re.compile(r"^([ \t]*)\{%-?\s*highlight\s+([\w+#.-]+)([^%]*)-?%\}[ \t]*(.*)$")
_END_HIGHLIGHT = re.compile(r"^(.*?)\{%-?\s*endhighlight\s*-?%\}[ \t]*$")
_BASEURL = re.compile(r"\{\{-?\s*site\.(?:baseurl|url)\s*-?\}\}")
_URL_FILTER = re.compile(
    r"""\{\{-?\s*(["'])([^"'{}\n]*)\1\s*\|\s*(?:relative_url|absolute_url)\s*-?\}\}"""
)
_POST_TAG = r"\{%-?\s*(post_url|link)\s+([^\s%]+)\s*-?%\}"
_LINKED_POST = re.compile(
    r"(?<!!)\[((?:[^\[\]\n]|\[[^\]\n]*\])*)\]\(\s*"
    + _POST_TAG
    + r"(#[^\s)]*)?(?:\s+\"[^\"\n]*\")?\s*\)"
)
_BARE_POST = re.compile(_POST_TAG + r"(#[^\s\"')]*)?")
_LIQUID = re.compile(r"\{%-?.*?-?%\}|\{\{-?.*?-?\}\}")
_IAL_LINE = re.compile(r"^[ \t]*\{:\s*(.*?)\s*\}[ \t]*$")
_EXTENSION = re.compile(r"^[ \t]*\{::(\w+)")
_IMAGE_LINE = re.compile(
    r"^[ \t]*(!\[[^\]\n]*\]\([^)\n]*\))(\{:[^}\n]*\})?(\{width=[^}\n]*\})?[ \t]*$"
)
_INLINE_IAL = re.compile(r"(!\[[^\]\n]*\]\([^)\n]*\))\{:([^}\n]*)\}")
_WIDTH = re.compile(r"""(?:width\s*:\s*|width\s*=\s*["']?)(\d{1,4}(?:\.\d+)?)\s*(%|px)?""")
_TOC_ITEM = re.compile(r"^[ \t]*(?:[*+-]|1\.)[ \t]+TOC[ \t]*$")
_DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
_PLACEHOLDER = "\ue000{}\ue001"


def post_name(reference: str) -> str:
    """The name kb links a post by, from a Jekyll file name or `post_url` argument."""
    stem = reference.rsplit("/", 1)[-1]
    stem = re.sub(r"\.(md|markdown|html)$", "", stem)
    dated = DATED_NAME.match(stem)
    return dated.group(4) if dated else stem


def translate(
    body: str, translation: Translation, *, baseurl: str = "", separator: str = ""
) -> str:
    raws: list[str] = []

    def keep_raw(match: re.Match[str]) -> str:
        raws.append(match.group(1))
        return _PLACEHOLDER.format(len(raws) - 1) + blank(match.group(0))

    body = _RAW.sub(keep_raw, body)
    body = _highlights(body, translation)
    body = split_excerpt(body, translation, separator)
    body = extract_updates(body, translation)
    body = iframes_to_links(body, translation)
    body = _links(body, translation, baseurl)
    body = _attribute_lists(body, translation)
    body = _math(body, translation)
    for number, raw in enumerate(raws):
        # The raw text is put back with the line breaks that stood in for it taken out again.
        marker = _PLACEHOLDER.format(number)
        body = body.replace(marker + "\n" * raw.count("\n"), raw, 1).replace(marker, raw)
    return body


def _highlights(body: str, translation: Translation) -> str:
    """`{% highlight python linenos %}` … `{% endhighlight %}` as a fenced block."""
    lines = body.splitlines(keepends=True)
    out: list[str] = []
    fence = None
    inside = False
    for number, line in enumerate(lines):
        text = line.rstrip("\r\n")
        opener = None if inside else _HIGHLIGHT.match(text)
        if opener:
            indent, language, _, rest = opener.groups()
            fence = "~~~" if any("```" in later for later in lines[number:]) else "```"
            out.append(f"{indent}{fence}{language.lower()}\n")
            end = _END_HIGHLIGHT.match(rest)
            if end:
                out.append(
                    f"{end.group(1)}\n{indent}{fence}\n" if end.group(1) else f"{indent}{fence}\n"
                )
            elif rest.strip():
                out.append(rest + "\n")
                inside = True
            else:
                inside = True
            translation.counts["code blocks"] += 1
            continue
        if inside:
            end = _END_HIGHLIGHT.match(text)
            if end:
                if end.group(1).strip():
                    out.append(end.group(1) + "\n")
                out.append(f"{fence}\n")
                inside = False
                continue
        out.append(line)
    if inside:
        translation.note(len(lines) - 1, "a {% highlight %} block is never closed")
        out.append(f"{fence}\n")
    return "".join(out)


def _links(body: str, translation: Translation, baseurl: str) -> str:
    def linked(match: re.Match[str], line: int) -> str:
        label, _, reference, fragment = match.groups()
        name = post_name(reference)
        translation.counts["links"] += 1
        anchor = (fragment or "").lstrip("#")
        if label and not any(c in label for c in "|[]"):
            return f"[[{name}{'#' + anchor if anchor else ''}|{label}]]"
        return f"[{label}](/posts/{quote(slug_base(name, 120))}/{fragment or ''})"

    def bare(match: re.Match[str], line: int) -> str:
        translation.counts["links"] += 1
        return f"/posts/{quote(slug_base(post_name(match.group(2)), 120))}/{match.group(3) or ''}"

    def url_filter(match: re.Match[str], line: int) -> str:
        return _without_base(match.group(2), baseurl)

    def left(match: re.Match[str], line: int) -> str:
        translation.note(line, f"Liquid {match.group(0)!r} has no kb equivalent; left as text")
        return match.group(0)

    body = substitute(body, _URL_FILTER, url_filter)
    body = substitute(body, _BASEURL, lambda match, line: "")
    body = substitute(body, _LINKED_POST, linked)
    body = substitute(body, _BARE_POST, bare)
    return substitute(body, _LIQUID, left)


def _without_base(path: str, baseurl: str) -> str:
    base = "/" + baseurl.strip("/") if baseurl.strip("/") else ""
    if base and (path == base or path.startswith(base + "/")):
        path = path[len(base) :] or "/"
    return path


def _attribute_lists(body: str, translation: Translation) -> str:
    """kramdown's `{: …}` lines: a width after an image sizes it, `{:.image-caption}` makes
    the paragraph above the caption of the image above it, `{:toc}` goes (kb makes its own
    table of contents), and any other is dropped and noted."""
    lines = body.splitlines(keepends=True)
    fence = None
    for number, line in enumerate(lines):
        text = line.rstrip("\r\n")
        opener = FENCE.match(text)
        if opener or fence:
            if fence is None:
                fence = opener.group(1)
            elif text.strip().startswith(fence) and not text.strip().strip(fence[0]):
                fence = None
            continue
        if _EXTENSION.match(text):
            translation.note(number, f"kramdown extension {text.strip()!r} left as text")
            continue
        image = _IMAGE_LINE.match(text)
        if image and image.group(2):
            lines[number] = _sized(image.group(1), image.group(2)[2:-1], translation, number) + "\n"
            continue
        ial = _IAL_LINE.match(text)
        if ial is None:
            if "{:" in text:
                lines[number] = _INLINE_IAL.sub(
                    lambda m, at=number: _sized(m.group(1), m.group(2), translation, at), line
                )
            continue
        content = ial.group(1)
        above = number - 1
        below = lines[number + 1 : number + 3]
        if len(below) == 2 and _TOC_ITEM.match(below[0]) and _IAL_LINE.match(below[1]):
            lines[number] = "\n"  # the attributes of the TOC list, which goes
        elif content.lower() == "toc":
            if above >= 0 and _TOC_ITEM.match(lines[above]):
                lines[above] = "\n"
            lines[number] = "\n"
            translation.counts["tables of contents"] += 1
        elif re.search(r"(?:^|\s)\.image-caption\b|class=[\"'][^\"']*image-caption", content):
            lines[number] = "\n"
            _caption(lines, above, translation, number)
        elif above >= 0 and _IMAGE_LINE.match(lines[above].rstrip("\r\n")):
            image_text = _IMAGE_LINE.match(lines[above].rstrip("\r\n")).group(1)
            lines[above] = _sized(image_text, content, translation, number) + "\n"
            lines[number] = "\n"
        else:
            translation.note(number, f"kramdown attribute list {{: {content}}} dropped")
            lines[number] = "\n"
    return "".join(lines)


def _sized(image: str, content: str, translation: Translation, line: int) -> str:
    width = _WIDTH.search(content)
    rest = _WIDTH.sub("", content)
    rest = re.sub(r"""style\s*=\s*["']\s*;?\s*["']|class\s*=\s*["'][^"']*["']|\.[\w-]+""", "", rest)
    if rest.strip(" ;:"):
        translation.note(line, f"kramdown attributes {content.strip()!r} dropped from an image")
    if width is None:
        return image
    translation.counts["figures sized"] += 1
    return sized_image(image, width.group(1) + ("%" if width.group(2) == "%" else ""))


def _caption(lines: list[str], last: int, translation: Translation, line: int) -> None:
    """The paragraph ending on `lines[last]` becomes the title (kb's caption) of the image
    paragraph just above it."""
    first = last
    while first > 0 and lines[first - 1].strip() and not _IMAGE_LINE.match(lines[first - 1]):
        first -= 1
    image_line = first - 1
    while image_line >= 0 and not lines[image_line].strip():
        image_line -= 1
    image = _IMAGE_LINE.match(lines[image_line].rstrip("\r\n")) if image_line >= 0 else None
    caption = " ".join("".join(lines[first : last + 1]).split())
    if image is None or not caption:
        translation.note(line, "an image caption with no image above it is kept as a paragraph")
        return
    caption = re.sub(r"^([*_])(.+)\1$", r"\2", caption)
    head, rest = image.group(1), image.group(3) or ""
    destination = head[head.rindex("](") + 2 : -1].split(' "', 1)[0].strip()
    alt = head[: head.rindex("](") + 1]
    lines[image_line] = f"{alt}({destination} {_title(caption)}){rest}\n"
    for index in range(first, last + 1):
        lines[index] = "\n"
    translation.counts["figure captions"] += 1


def _title(caption: str) -> str:
    """A link title that holds `caption` whatever quotes it uses."""
    if '"' not in caption:
        return f'"{caption}"'
    if "'" not in caption:
        return f"'{caption}'"
    return '"' + caption.replace('"', '\\"') + '"'


def _math(body: str, translation: Translation) -> str:
    """In kramdown, `$$…$$` is display math only as a paragraph of its own; inside a sentence
    it is inline. kb reads `$$` as display anywhere, so the inline ones are rewritten."""
    paragraphs = re.split(r"(\n[ \t]*\n)", body)
    out = []
    for paragraph in paragraphs:
        stripped = paragraph.strip()
        alone = stripped.startswith("$$") and stripped.endswith("$$") and stripped.count("$$") == 2
        if alone or "$$" not in paragraph:
            translation.counts["formulas"] += 1 if alone else 0
            out.append(paragraph)
            continue
        out.append(
            substitute(paragraph, _DISPLAY_MATH, lambda m, line: _inline(m.group(1), translation))
        )
    return "".join(out)


def _inline(tex: str, translation: Translation) -> str:
    translation.counts["formulas"] += 1
    tex = " ".join(tex.split())
    if "$" in tex:
        return f"\\({tex}\\)"
    return f"${tex}$"


def permalink_path(
    pattern: str,
    *,
    name: str,
    date: datetime.datetime | None,
    categories: list[str],
    baseurl: str,
) -> str | None:
    """The address Jekyll gave a post, for a redirect: `permalink` from the config or the
    post, with `baseurl` in front."""
    styles = {
        "date": "/:categories/:year/:month/:day/:title:output_ext",
        "pretty": "/:categories/:year/:month/:day/:title/",
        "ordinal": "/:categories/:year/:y_day/:title:output_ext",
        "none": "/:categories/:title:output_ext",
    }
    pattern = styles.get(pattern or "date", pattern or styles["date"])
    if date is None and re.search(r":(year|month|day|y_day|short_year|i_month|i_day)", pattern):
        return None
    values = {"title": name, "slug": name, "output_ext": ".html"}
    values["categories"] = "/".join(slug_base(c, 60) for c in categories)
    if date is not None:
        values |= {
            "year": f"{date.year:04d}",
            "month": f"{date.month:02d}",
            "day": f"{date.day:02d}",
            "i_month": str(date.month),
            "i_day": str(date.day),
            "short_year": f"{date.year % 100:02d}",
            "y_day": f"{date.timetuple().tm_yday:03d}",
        }
    path = re.sub(r":(\w+)", lambda m: values.get(m.group(1), m.group(0)), pattern)
    base = "/" + baseurl.strip("/") if baseurl.strip("/") else ""
    path = re.sub(r"/{2,}", "/", f"{base}/{path.lstrip('/')}")
    return path
