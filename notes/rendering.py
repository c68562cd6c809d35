"""Markdown to sanitized HTML: the one pipeline posts, imports and the preview use.

``render_markdown`` is a pure function: Markdown in, a ``Rendered`` out. The
only outside call is the wikilink resolver, made once with every target.

What authors can write (markdown-it-py, CommonMark with raw HTML off):

* GitHub extras: tables, ``~~strikethrough~~``, task lists (``- [x]``),
  footnotes (``[^1]``), ``<https://…>`` autolinks. Bare URLs are not linked.
* Definition lists (``Term`` then ``: definition``).
* Callouts in GitHub's alert syntax, which degrades to a plain blockquote
  anywhere else the Markdown is read::

      > [!NOTE]
      > Text of the note.

  Kinds: NOTE, TIP, IMPORTANT, WARNING, CAUTION. Admonitions as MkDocs and
  Python-Markdown write them (``!!! note "Title"`` and an indented body) work
  too, so notes brought from those tools keep their boxes.
* Math: ``$…$`` and ``\\(…\\)`` inline, ``$$…$$`` and ``\\[…\\]`` display,
  either on their own lines or inside a paragraph, plus ```` ```math ````
  fences. Formulas are recognised before any other inline syntax, so ``_``,
  ``*`` and ``\\\\`` inside them stay TeX. A single ``$`` must hug its
  formula (``$x$``, not ``$ x $``) and may not touch a digit outside, so
  "$5 and $10" stays prose. See notes/typesetting.py for the MathML choice.
* Wikilinks: ``[[Post title]]``, ``[[slug|label]]``, ``[[slug#heading]]``
  and ``[[#heading]]`` for this page. Not inside code or math.
* Raw HTML is shown as text, never interpreted and never dropped.

Headings get stable ids (``h-`` + slug, de-duplicated) and a ``#`` self-link;
h2 to h4 feed the table of contents. Footnote ids are ``fn-N``/``fnref-N``.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.admon import admon_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin

from notes.highlighting import highlight_code
from notes.sanitizing import EXTERNAL_LINK_REL, sanitize_html
from notes.typesetting import math_as_text, math_error, typeset

MAX_MARKDOWN_CHARS = 250_000
# markdown-it-py spends ~15 µs on each "[" it tries as a link, so a body
# made of brackets would take seconds; real posts use a few hundred.
MAX_SQUARE_BRACKETS = 10_000
# Typesetting costs ~0.5 ms per distinct formula; past this many, the rest
# are shown as TeX source and reported, so a render stays well under a second.
MAX_FORMULAS = 1_000
# Containers nested deeper than this (lists in lists in quotes...) are shown
# as plain text rather than silently dropped, as markdown-it would do.
MAX_NESTING = 24
SUMMARY_MAX_CHARS = 300
WORDS_PER_MINUTE = 230
TOC_MIN_HEADINGS = 3
TOC_LEVELS = range(2, 5)

# Reading-time weights, in words of prose: a line of code is read about as
# fast as four words, an inline formula as three, a display formula as twenty.
CODE_LINE_WORDS = 4
INLINE_FORMULA_WORDS = 3
DISPLAY_FORMULA_WORDS = 20


class MarkdownTooLarge(ValueError):
    def __init__(
        self, size: int, limit: int = MAX_MARKDOWN_CHARS, unit: str = "characters"
    ) -> None:
        super().__init__(f"This text has {size:,} {unit}; the limit is {limit:,}.")
        self.size = size
        self.limit = limit


@dataclass(frozen=True)
class WikiTarget:
    title: str
    url: str
    pk: int | None = None  # the post's id, so callers can record the link without a query


@dataclass(frozen=True)
class Rendered:
    html: str
    toc_html: str
    wikilinks: tuple[str, ...]
    broken_wikilinks: tuple[str, ...]
    word_count: int
    reading_time: int
    summary: str
    math_errors: tuple[str, ...]


Resolver = Callable[[Sequence[str]], Mapping[str, WikiTarget]]


def check_renderable(text: str) -> None:
    """Raise ``MarkdownTooLarge`` for a body the pipeline refuses; forms call it to say why."""
    if len(text) > MAX_MARKDOWN_CHARS:
        raise MarkdownTooLarge(len(text))
    brackets = text.count("[")
    if brackets > MAX_SQUARE_BRACKETS:
        raise MarkdownTooLarge(brackets, MAX_SQUARE_BRACKETS, "“[” characters")


def render_markdown(text: str, resolve_wikilinks: Resolver | None = None) -> Rendered:
    """Render a post body. Raises ``MarkdownTooLarge``; never raises on content."""
    check_renderable(text)
    env: dict[str, Any] = {"math_errors": [], "formulas": 0}
    tokens = _MARKDOWN.parse(text, env)

    targets = _wikilink_targets(tokens)
    resolved: Mapping[str, WikiTarget] = {}
    if targets and resolve_wikilinks is not None:
        resolved = resolve_wikilinks(targets)
    env["wikilinks"] = resolved

    body_html = _MARKDOWN.renderer.render(tokens, _MARKDOWN.options, env)
    counts = _count(tokens)
    return Rendered(
        html=sanitize_html(body_html),
        toc_html=sanitize_html(_toc_html(tokens, env)),
        wikilinks=targets,
        broken_wikilinks=tuple(t for t in targets if t not in resolved),
        word_count=counts.words,
        reading_time=counts.minutes if text.strip() else 0,
        summary=_summary(tokens, resolved),
        math_errors=tuple(dict.fromkeys(env["math_errors"])),
    )


def markdownify(text: str) -> str:
    """Admin preview: the stored rendering, with problems listed on top."""
    try:
        rendered = render_markdown(text, _preview_resolver())
    except MarkdownTooLarge as error:
        return _problem_list([str(error)])
    problems = [f"Math: {message}" for message in rendered.math_errors]
    problems += [f"No post called “{t}”" for t in rendered.broken_wikilinks]
    return (_problem_list(problems) if problems else "") + rendered.html


def _preview_resolver() -> Resolver | None:
    try:
        from notes.links import resolve_wikilinks
    except ImportError:  # notes.links is optional until the links app lands
        return None
    return resolve_wikilinks


def _problem_list(problems: Sequence[str]) -> str:
    items = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
    return f'<ul class="preview-problems" role="alert">{items}</ul>\n'


# --- Math syntax ---------------------------------------------------------

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


def _math_inline(state: StateInline, silent: bool) -> bool:
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


def _math_block(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
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


def _too_deep(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    if state.level < MAX_NESTING:
        return False
    if not silent:
        token = state.push("too_deep", "p", 0)
        token.block = True
        token.content = state.getLines(start_line, end_line, state.blkIndent, False)
        token.map = [start_line, end_line]
    state.line = end_line
    return True


def _render_math(tokens: Sequence[Token], idx: int, env: dict[str, Any]) -> str:
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


# --- Wikilinks -----------------------------------------------------------

_WIKILINK_MAX_CHARS = 300


def _wikilink(state: StateInline, silent: bool) -> bool:
    src, pos = state.src, state.pos
    if not src.startswith("[[", pos):
        return False
    end = src.find("]]", pos + 2, pos + 2 + _WIKILINK_MAX_CHARS)
    inner = src[pos + 2 : end]
    if end < 0 or not inner.strip() or any(c in inner for c in "[]\n"):
        return False
    reference, _, label = inner.partition("|")
    target, _, anchor = reference.partition("#")
    if not target.strip() and not anchor.strip():
        return False
    if not silent:
        token = state.push("wikilink", "a", 0)
        token.meta = {
            "target": target.strip(),
            "anchor": anchor.strip(),
            "label": label.strip(),
        }
        token.content = label.strip() or reference.strip()
    state.pos = end + 2
    return True


def _wikilink_targets(tokens: Sequence[Token]) -> tuple[str, ...]:
    found = (
        child.meta["target"]
        for token in tokens
        if token.type == "inline"
        for child in token.children or []
        if child.type == "wikilink" and child.meta["target"]
    )
    return tuple(dict.fromkeys(found))


def _render_wikilink(tokens: Sequence[Token], idx: int, env: dict[str, Any]) -> str:
    meta = tokens[idx].meta
    fragment = f"#{_heading_id(meta['anchor'])}" if meta["anchor"] else ""
    if not meta["target"]:
        label = html.escape(meta["label"] or meta["anchor"])
        return f'<a class="wikilink" href="{fragment}">{label}</a>'
    found = env.get("wikilinks", {}).get(meta["target"])
    if found is None:
        label = html.escape(meta["label"] or meta["target"])
        title = html.escape(f"No post called “{meta['target']}”")
        return f'<span class="wikilink-broken" title="{title}">{label}</span>'
    label = html.escape(meta["label"] or found.title)
    href = html.escape(found.url + fragment)
    return f'<a class="wikilink" href="{href}">{label}</a>'


# --- Headings and table of contents --------------------------------------


def _heading_id(text: str) -> str:
    normalized = unicodedata.normalize("NFKC", text).lower()
    slug = re.sub(r"[^\w\s-]", "", normalized)
    slug = re.sub(r"[\s_-]+", "-", slug).strip("-")
    return f"h-{slug[:80] or 'section'}"


def _assign_heading_ids(state: StateCore) -> None:
    seen: dict[str, int] = {}
    for index, token in enumerate(state.tokens):
        if token.type != "heading_open":
            continue
        inline = state.tokens[index + 1]
        base = _heading_id(_plain_text(inline.children or [], {}))
        seen[base] = seen.get(base, 0) + 1
        token.attrSet("id", base if seen[base] == 1 else f"{base}-{seen[base]}")


def _render_heading_close(tokens: Sequence[Token], idx: int) -> str:
    opening = tokens[idx - 2]
    anchor = html.escape(str(opening.attrGet("id")))
    return (
        f' <a class="anchor" href="#{anchor}" aria-label="Link to this section">#</a>'
        f"</{tokens[idx].tag}>\n"
    )


def _toc_html(tokens: Sequence[Token], env: dict[str, Any]) -> str:
    entries = [
        (int(token.tag[1]), str(token.attrGet("id")), tokens[index + 1])
        for index, token in enumerate(tokens)
        if token.type == "heading_open" and token.level == 0 and int(token.tag[1]) in TOC_LEVELS
    ]
    if len(entries) < TOC_MIN_HEADINGS:
        return ""
    parts = ['<ul class="toc">\n']
    stack = [entries[0][0]]
    for position, (level, anchor, inline) in enumerate(entries):
        if position:
            if level > stack[-1]:
                parts.append("\n<ul>\n")
                stack.append(level)
            else:
                parts.append("</li>\n")
                while len(stack) > 1 and level < stack[-1]:
                    stack.pop()
                    parts.append("</ul>\n</li>\n")
        label = _MARKDOWN.renderer.renderInline(
            _without_links(inline.children or []), _MARKDOWN.options, env
        )
        parts.append(f'<li><a href="#{html.escape(anchor)}">{label}</a>')
    parts.append("</li>\n" + "</ul>\n</li>\n" * (len(stack) - 1) + "</ul>\n")
    return "".join(parts)


def _without_links(children: Sequence[Token]) -> list[Token]:
    """Heading content for a TOC entry, which is itself a link."""
    kept = []
    for child in children:
        if child.type in ("link_open", "link_close", "footnote_ref"):
            continue
        if child.type == "wikilink":
            child = Token("text", "", 0, content=child.content)
        kept.append(child)
    return kept


# --- Plain text, counts, summary -----------------------------------------


def _plain_text(
    children: Sequence[Token],
    resolved: Mapping[str, WikiTarget],
    limit: int = MAX_MARKDOWN_CHARS,
) -> str:
    parts: list[str] = []
    length = 0
    for child in children:
        if length > limit:
            break  # a summary needs the start only; formulas cost time
        length += len(child.content)
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "math_inline":
            parts.append(math_as_text(child.content))
        elif child.type == "math_display":
            parts.append("…")
        elif child.type == "wikilink":
            found = resolved.get(child.meta["target"])
            parts.append(child.meta["label"] or (found.title if found else child.content))
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def _summary(tokens: Sequence[Token], resolved: Mapping[str, WikiTarget]) -> str:
    in_footnotes = False
    for index, token in enumerate(tokens):
        if token.type in ("footnote_block_open", "footnote_block_close"):
            in_footnotes = token.nesting == 1
        if token.type == "paragraph_open" and not in_footnotes:
            children = tokens[index + 1].children or []
            text = _plain_text(children, resolved, SUMMARY_MAX_CHARS)
            if text.strip(" …"):
                return _shorten(text, SUMMARY_MAX_CHARS)
    return ""


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.-\N{EN DASH}\N{EM DASH}") + "…"


@dataclass(frozen=True)
class _Counts:
    words: int
    minutes: int


_WORD = re.compile(r"\w+(?:['\N{RIGHT SINGLE QUOTATION MARK}.-]\w+)*")


def _count(tokens: Sequence[Token]) -> _Counts:
    words = code_lines = inline_formulas = display_formulas = 0
    for token in tokens:
        if token.type in ("fence", "code_block"):
            if token.info.strip().lower() == "math":
                display_formulas += 1
            else:
                code_lines += sum(1 for line in token.content.splitlines() if line.strip())
        elif token.type == "math_block":
            display_formulas += 1
        for child in token.children or []:
            if child.type in ("text", "code_inline", "wikilink"):
                words += len(_WORD.findall(child.content))
            elif child.type == "math_inline":
                inline_formulas += 1
            elif child.type == "math_display":
                display_formulas += 1
    weighted = (
        words
        + CODE_LINE_WORDS * code_lines
        + INLINE_FORMULA_WORDS * inline_formulas
        + DISPLAY_FORMULA_WORDS * display_formulas
    )
    return _Counts(words=words, minutes=max(1, math.ceil(weighted / WORDS_PER_MINUTE)))


# --- Parser set-up -------------------------------------------------------

_SCHEME = re.compile(r"^([^/?#]*):")
_ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})


def _validate_link(url: str) -> bool:
    """Only http(s), mailto and relative URLs become links; the rest stays text."""
    scheme = _SCHEME.match(url.strip())
    return scheme is None or scheme.group(1).lower() in _ALLOWED_SCHEMES


def _render_link_open(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    if str(token.attrGet("href") or "").lower().startswith(("http://", "https://")):
        token.attrSet("rel", EXTERNAL_LINK_REL)
    return str(self.renderToken(tokens, idx, options, env))


def _render_fence(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    if token.info.strip().lower() == "math":
        return _render_math(tokens, idx, env)
    return highlight_code(token.content, token.info)


def _table_alignment_as_class(state: StateCore) -> None:
    """markdown-it aligns cells with inline style, which the sanitizer drops."""
    for token in state.tokens:
        if token.type in ("th_open", "td_open"):
            style = str(token.attrGet("style") or "")
            if style.startswith("text-align:"):
                token.attrs.pop("style")
                token.attrSet("class", f"align-{style.removeprefix('text-align:')}")


def _footnote_anchor_name(
    self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any
) -> str:
    return f"-{tokens[idx].meta['id'] + 1}"


def _build_markdown() -> MarkdownIt:
    md = MarkdownIt(
        "commonmark",
        {"html": False, "linkify": False, "typographer": False},
    )
    md.options["tasklists"] = True
    md.options["alerts"] = True
    md.enable(["table", "strikethrough"])
    md.use(footnote_plugin, inline=False)
    md.use(deflist_plugin)
    md.use(admon_plugin)
    md.validateLink = _validate_link  # type: ignore[method-assign]

    md.options["maxNesting"] = MAX_NESTING + 4
    md.block.ruler.before("table", "too_deep", _too_deep)
    md.block.ruler.before(
        "fence",
        "math_block",
        _math_block,
        {"alt": ["paragraph", "reference", "blockquote", "list"]},
    )
    md.inline.ruler.before("escape", "math_inline", _math_inline)
    md.inline.ruler.before("link", "wikilink", _wikilink)
    md.core.ruler.push("heading_ids", _assign_heading_ids)
    md.core.ruler.push("table_alignment", _table_alignment_as_class)

    for kind in ("math_inline", "math_display", "math_block"):
        md.add_render_rule(kind, lambda self, t, i, o, env: _render_math(t, i, env))
    md.add_render_rule("wikilink", lambda self, t, i, o, env: _render_wikilink(t, i, env))
    md.add_render_rule("heading_close", lambda self, t, i, o, env: _render_heading_close(t, i))
    md.add_render_rule(
        "too_deep", lambda self, t, i, o, env: f"<p>{html.escape(t[i].content)}</p>\n"
    )
    md.add_render_rule("link_open", _render_link_open)
    md.add_render_rule("fence", _render_fence)
    md.add_render_rule("footnote_anchor_name", _footnote_anchor_name)
    return md


_MARKDOWN = _build_markdown()
