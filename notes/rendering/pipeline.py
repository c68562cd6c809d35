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
  "$5 and $10" stays prose. ``align``, ``equation``… may also stand bare, as
  in MathJax. See typesetting.py for how formulas are drawn.
* Wikilinks: ``[[Post title]]``, ``[[slug|label]]``, ``[[slug#heading]]``
  and ``[[#heading]]`` for this page. Not inside code or math.
* Citations in Pandoc's syntax, ``[@key]`` and ``@key`` (see ``citations``),
  resolved by a second resolver and listed under References at the end.
* Embeds ``![[note]]``/``![[note#heading]]`` (embeds.py), figures and image sizes
  (figures.py), footnotes repeated as margin notes (sidenotes.py).
* Raw HTML: a safe subset (tables, ``br``, ``span``, ``details``, ``a``,
  ``img``...) stays live; any other tag is shown as text and listed in the
  preview (raw_html.py). Headings also answer to the ids kramdown, GitHub and
  Hugo gave them (anchors.py).

Each concern has a module of its own: ``math`` (the syntax) and ``typesetting`` (KaTeX), with
``equations`` (numbers, ``\\label``/``\\eqref``), ``macros``, ``mathjax`` (MathJax-isms) and
``katex_styles`` (KaTeX's inline styles as classes of a generated stylesheet),
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

from notes.rendering import (
    anchors,
    citations,
    embeds,
    equations,
    figures,
    headings,
    katex_styles,
    macros,
    math,
    plaintext,
    raw_html,
    sidenotes,
    wikilinks,
)
from notes.rendering.highlighting import highlight_code
from notes.rendering.results import (
    MAX_MARKDOWN_CHARS,
    MAX_NESTING,
    MAX_SQUARE_BRACKETS,
    CitationResolver,
    EmbedResolver,
    EmbedSource,
    ImageResolver,
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


def render_markdown(
    text: str,
    resolve_wikilinks: Resolver | None = None,
    resolve_citations: CitationResolver | None = None,
    *,
    math_preamble: str = "",
    resolve_embeds: EmbedResolver | None = None,
    describe_images: ImageResolver | None = None,
    embedded_in: tuple[int, ...] = (),
) -> Rendered:
    """Render a post body. Raises ``MarkdownTooLarge``; never raises on content.

    ``math_preamble`` is the site's TeX macros (``SiteSettings.math_preamble``).
    `embedded_in` holds the ids of the posts being rendered around this one (the post itself
    first), so an embed that would contain itself is caught."""
    check_renderable(text)
    resolvers = (resolve_wikilinks, resolve_citations, resolve_embeds, describe_images)
    env = _new_env(math_preamble)
    tokens = _MARKDOWN.parse(text, env)
    body_html, resolved, failed_embeds = _render_tokens(tokens, env, resolvers, embedded_in)
    cited = env["cited"]
    body_html = sanitize_html(body_html + citations.references_html(cited, env["citations"]))
    toc_html = sanitize_html(headings.toc_html(_MARKDOWN, tokens, env))
    targets = wikilinks.targets(tokens)
    counts = plaintext.count(tokens)
    broken = [t for t in targets if t not in resolved] + failed_embeds
    labels = env["labels"]
    return Rendered(
        html=body_html,
        toc_html=toc_html,
        math_css=katex_styles.stylesheet((body_html, toc_html)),
        broken_labels=tuple(dict.fromkeys(labels.broken)),
        duplicated_labels=tuple(dict.fromkeys(labels.duplicated)),
        wikilinks=targets,
        broken_wikilinks=tuple(dict.fromkeys(broken)),
        word_count=counts.words,
        reading_time=counts.minutes if text.strip() else 0,
        summary=plaintext.summary(tokens, resolved),
        math_errors=tuple(dict.fromkeys(env["math_errors"])),
        citations=cited,
        unknown_citations=tuple(k for k in cited if k not in env["citations"]),
        embeds=embeds.targets(tokens),
        html_refused=tuple(dict.fromkeys(env.get("html_refused", ()))),
    )


def _render_tokens(tokens, env, resolvers, stack) -> tuple[str, Mapping[str, WikiTarget], list]:
    """Resolve what the tokens name (wikilinks, citations, embeds, images), then render them
    to HTML. An embedded post is rendered by this same function, inside its embedder."""
    resolve_wikilinks, resolve_citations, resolve_embeds, describe_images = resolvers
    targets = wikilinks.targets(tokens)
    resolved: Mapping[str, WikiTarget] = {}
    if targets and resolve_wikilinks is not None:
        resolved = resolve_wikilinks(targets)
    env["wikilinks"] = resolved
    cited = env["cited"] = citations.keys(tokens)
    env["citations"] = resolve_citations(cited) if cited and resolve_citations else {}
    citations.label_tokens(tokens, env["citations"])
    images = figures.sources(tokens)
    env["images"] = describe_images(images) if images and describe_images else {}

    def render_nested(source: EmbedSource, anchor: str) -> str | None:
        # The embedded post keeps the embedder's macros; its numbering and labels are its own.
        nested_env = _new_env("")
        nested_env["macros"] = dict(env["macros"])
        nested = _MARKDOWN.parse(source.body, nested_env)
        if anchor:
            nested = embeds.section(nested, anchor)
            if nested is None:
                return None
        nested_env["images_seen"] = env.get("images_seen", 0)
        markup = _render_tokens(nested, nested_env, resolvers, (*stack, source.pk))[0]
        env["images_seen"] = nested_env.get("images_seen", 0)
        env["math_errors"].extend(nested_env["math_errors"])
        return markup

    failed: list[str] = []
    wanted = embeds.targets(tokens)
    if wanted:
        found = resolve_embeds(wanted) if resolve_embeds is not None else {}
        failed = embeds.render_blocks(tokens, found, stack, render_nested)
    return _MARKDOWN.renderer.render(tokens, _MARKDOWN.options, env), resolved, failed


def markdownify(
    text: str,
    resolve_wikilinks: Resolver | None = None,
    resolve_citations: CitationResolver | None = None,
    *,
    math_preamble: str = "",
    resolve_embeds: EmbedResolver | None = None,
) -> str:
    """The editor's preview: the rendering as it will be stored, with problems listed on top."""
    return preview(
        text,
        resolve_wikilinks,
        resolve_citations,
        math_preamble=math_preamble,
        resolve_embeds=resolve_embeds,
    )[0]


def preview(
    text: str,
    resolve_wikilinks: Resolver | None = None,
    resolve_citations: CitationResolver | None = None,
    *,
    math_preamble: str = "",
    resolve_embeds: EmbedResolver | None = None,
) -> tuple[str, Rendered | None]:
    """The preview's HTML and the rendering it shows (None when the text was refused)."""
    try:
        rendered = render_markdown(
            text,
            resolve_wikilinks,
            resolve_citations,
            math_preamble=math_preamble,
            resolve_embeds=resolve_embeds,
        )
    except MarkdownTooLarge as error:
        return _problem_list([str(error)]), None
    problems = [f"Math: {message}" for message in rendered.math_errors]
    problems += [f"No equation labelled “{label}”" for label in rendered.broken_labels]
    problems += [f"Equation label “{label}” used twice" for label in rendered.duplicated_labels]
    problems += [f"No post called “{t}”" for t in rendered.broken_wikilinks]
    problems += [f"No reference with the key “{k}”" for k in rendered.unknown_citations]
    problems += [f"HTML {tag} is not kept live; it shows as text" for tag in rendered.html_refused]
    return (_problem_list(problems) if problems else "") + rendered.html, rendered


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
    md.inline.ruler.before("escape", "equation_ref", equations.inline_rule)
    md.core.ruler.push("math_prepare", math.prepare)
    md.inline.ruler.before("link", "citation", citations.bracket_rule)
    md.inline.ruler.push("citation_narrative", citations.narrative_rule)
    md.inline.ruler.before("image", "embed", embeds.inline_rule)
    md.core.ruler.push("embeds", embeds.to_blocks)
    md.core.ruler.push("figures", figures.apply)
    md.core.ruler.push("sidenotes", sidenotes.collect)
    md.core.ruler.push("heading_ids", headings.assign_ids)
    md.core.ruler.push("anchor_aliases", anchors.assign_aliases)
    md.core.ruler.push("anchor_links", anchors.point_links)
    md.core.ruler.push("table_alignment", _table_alignment_as_class)

    for kind in ("math_inline", "math_display", "math_block"):
        md.add_render_rule(kind, lambda self, t, i, o, env: math.render(t, i, env))
    md.add_render_rule("wikilink", lambda self, t, i, o, env: wikilinks.render(t, i, env))
    md.add_render_rule(
        "equation_ref", lambda self, t, i, o, env: equations.render_reference(t, i, env)
    )
    md.add_render_rule("citation", lambda self, t, i, o, env: citations.render(t, i, env))
    md.add_render_rule("heading_close", lambda self, t, i, o, env: headings.render_close(t, i))
    md.add_render_rule(
        "too_deep", lambda self, t, i, o, env: f"<p>{html.escape(t[i].content)}</p>\n"
    )
    md.add_render_rule("link_open", _render_link_open)
    md.add_render_rule("fence", _render_fence)
    md.add_render_rule("footnote_anchor_name", _footnote_anchor_name)
    md.add_render_rule("embed_block", lambda self, t, i, o, env: embeds.render(t, i, env))
    md.add_render_rule("figure_open", lambda self, t, i, o, env: figures.render_figure_open(t, i))
    md.add_render_rule(
        "image",
        lambda self, t, i, o, env: figures.render_image(
            t, i, self.renderInlineAsText(t[i].children or [], o, env), env
        ),
    )
    md.renderer.rules["footnote_ref_plain"] = md.renderer.rules["footnote_ref"]
    md.add_render_rule("footnote_ref", sidenotes.render_reference)
    for kind in ("html_block", "html_inline"):
        md.add_render_rule(kind, lambda self, t, i, o, env: raw_html.render(t, i, env))
    md.add_render_rule("heading_open", anchors.render_heading_open)
    return md


_MARKDOWN = _build_markdown()


def parse_markdown(text: str) -> list[Token]:
    """The token stream the pipeline renders from, for readers of the structure (search's
    plain text); nothing is typeset or resolved."""
    return _MARKDOWN.parse(text[:MAX_MARKDOWN_CHARS], _new_env(""))


def _new_env(math_preamble: str) -> dict[str, Any]:
    """What the parser's rules keep between them while reading one body."""
    return {
        "math_errors": [],
        "formulas": 0,
        "macros": dict(macros.parse_preamble(math_preamble)[0]) if math_preamble else {},
        "labels": equations.Labels(),
    }
