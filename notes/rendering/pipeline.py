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
  "$5 and $10" stays prose. See typesetting.py for the MathML choice.
* Wikilinks: ``[[Post title]]``, ``[[slug|label]]``, ``[[slug#heading]]``
  and ``[[#heading]]`` for this page. Not inside code or math.
* Figures: an image alone in its paragraph with a title is a figure captioned
  by the title; ``{width=80%}`` after an image sizes it (figures.py).
* Raw HTML: a safe subset (tables, ``br``, ``span``, ``details``, ``a``,
  ``img``...) stays live; any other tag is shown as text and listed in the
  preview (raw_html.py). Headings also answer to the ids kramdown, GitHub and
  Hugo gave them (anchors.py).

Each concern has a module of its own: ``math`` (the syntax) and ``typesetting`` (KaTeX),
``wikilinks``, ``headings`` (ids and the TOC), ``plaintext`` (summary and reading time),
``highlighting`` (Pygments) and ``sanitizing`` (the nh3 allow-list, applied last).

Footnote ids are ``fn-N``/``fnref-N``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.admon import admon_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin

from notes.rendering import anchors, figures, headings, math, plaintext, raw_html, wikilinks
from notes.rendering.highlighting import highlight_code
from notes.rendering.results import (
    MAX_MARKDOWN_CHARS,
    MAX_NESTING,
    MAX_SQUARE_BRACKETS,
    MarkdownTooLarge,
    Rendered,
    Resolver,
    WikiTarget,
)
from notes.rendering.sanitizing import EXTERNAL_LINK_REL, sanitize_html


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

    targets = wikilinks.targets(tokens)
    resolved: Mapping[str, WikiTarget] = {}
    if targets and resolve_wikilinks is not None:
        resolved = resolve_wikilinks(targets)
    env["wikilinks"] = resolved

    body_html = _MARKDOWN.renderer.render(tokens, _MARKDOWN.options, env)
    counts = plaintext.count(tokens)
    return Rendered(
        html=sanitize_html(body_html),
        toc_html=sanitize_html(headings.toc_html(_MARKDOWN, tokens, env)),
        wikilinks=targets,
        broken_wikilinks=tuple(t for t in targets if t not in resolved),
        word_count=counts.words,
        reading_time=counts.minutes if text.strip() else 0,
        summary=plaintext.summary(tokens, resolved),
        math_errors=tuple(dict.fromkeys(env["math_errors"])),
        html_refused=tuple(dict.fromkeys(env.get("html_refused", ()))),
    )


def markdownify(text: str, resolve_wikilinks: Resolver | None = None) -> str:
    """The editor's preview: the rendering as it will be stored, with problems listed on top."""
    try:
        rendered = render_markdown(text, resolve_wikilinks)
    except MarkdownTooLarge as error:
        return _problem_list([str(error)])
    problems = [f"Math: {message}" for message in rendered.math_errors]
    problems += [f"No post called “{t}”" for t in rendered.broken_wikilinks]
    problems += [f"HTML {tag} is not kept live; it shows as text" for tag in rendered.html_refused]
    return (_problem_list(problems) if problems else "") + rendered.html


def _problem_list(problems: Sequence[str]) -> str:
    items = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
    return f'<ul class="preview-problems" role="alert">{items}</ul>\n'


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
        return math.render(tokens, idx, env)
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


def _build_markdown() -> MarkdownIt:
    md = MarkdownIt(
        "commonmark",
        {"html": True, "linkify": False, "typographer": False},
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
        math.block_rule,
        {"alt": ["paragraph", "reference", "blockquote", "list"]},
    )
    md.inline.ruler.before("escape", "math_inline", math.inline_rule)
    md.inline.ruler.before("link", "wikilink", wikilinks.inline_rule)
    md.inline.ruler.before("text", "image_size", figures.size_rule)
    md.core.ruler.push("heading_ids", headings.assign_ids)
    md.core.ruler.push("anchor_aliases", anchors.assign_aliases)
    md.core.ruler.push("anchor_links", anchors.point_links)
    md.core.ruler.push("figures", figures.make_figures)
    md.core.ruler.push("table_alignment", _table_alignment_as_class)

    for kind in ("math_inline", "math_display", "math_block"):
        md.add_render_rule(kind, lambda self, t, i, o, env: math.render(t, i, env))
    md.add_render_rule("wikilink", lambda self, t, i, o, env: wikilinks.render(t, i, env))
    md.add_render_rule("heading_close", lambda self, t, i, o, env: headings.render_close(t, i))
    md.add_render_rule(
        "too_deep", lambda self, t, i, o, env: f"<p>{html.escape(t[i].content)}</p>\n"
    )
    md.add_render_rule("link_open", _render_link_open)
    md.add_render_rule("fence", _render_fence)
    md.add_render_rule("footnote_anchor_name", _footnote_anchor_name)
    for kind in ("html_block", "html_inline"):
        md.add_render_rule(kind, lambda self, t, i, o, env: raw_html.render(t, i, env))
    md.add_render_rule("heading_open", anchors.render_heading_open)
    md.add_render_rule("image", lambda self, t, i, o, env: figures.render_image(md, t, i, o, env))
    return md


_MARKDOWN = _build_markdown()
