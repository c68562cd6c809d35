"""The Markdown pipeline as an author and a reader meet it: no database needed."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path

import pytest

from notes.rendering import (
    MAX_MARKDOWN_CHARS,
    MarkdownTooLarge,
    Rendered,
    WikiTarget,
    markdownify,
    render_markdown,
)
from notes.rendering.sanitizing import ALLOWED_TAGS

FIXTURES = Path(__file__).parent / "rendering_fixtures"
SEED_MATH = (FIXTURES / "seed_math.md").read_text()
FEATURES = (FIXTURES / "features.md").read_text()

KNOWN = {
    "Diffusion models": WikiTarget("Diffusion models", "/posts/diffusion-models/"),
    "clip": WikiTarget("CLIP", "/posts/clip/"),
}


class Calls:
    """A resolver that remembers what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, ...]] = []

    def __call__(self, targets: Sequence[str]) -> dict[str, WikiTarget]:
        self.asked.append(tuple(targets))
        return {t: KNOWN[t] for t in targets if t in KNOWN}


class Elements(HTMLParser):
    """Every start tag with its attributes, as a browser would see them."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str]]] = []
        self.feed(markup)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {k: v or "" for k, v in attrs}))


def render(text: str) -> Rendered:
    return render_markdown(text, Calls())


def assert_inert(markup: str) -> None:
    for tag, attrs in Elements(markup).found:
        assert tag in ALLOWED_TAGS, tag
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            assert name not in {"style", "srcdoc", "formaction", "xlink:href"}, name
            if name in {"href", "src"}:
                scheme = re.match(r"\s*([a-zA-Z][\w+.-]*):", value)
                assert scheme is None or scheme.group(1).lower() in {
                    "http",
                    "https",
                    "mailto",
                }, value
            if name == "id":
                assert re.fullmatch(r"(h|fn|fnref|eq)-[\w:.-]+", value), value
    assert "<annotation-xml" not in markup


# --- Size and pathological input ------------------------------------------


def test_a_body_over_the_limit_is_refused_with_both_sizes_in_the_message():
    with pytest.raises(MarkdownTooLarge) as refused:
        render("a" * (MAX_MARKDOWN_CHARS + 1))
    assert "250,001" in str(refused.value)
    assert "250,000" in str(refused.value)


def test_a_body_at_the_limit_renders():
    assert render("word " * (MAX_MARKDOWN_CHARS // 5)).word_count == MAX_MARKDOWN_CHARS // 5


PROSE = "Attention weighs every token against every other token. " * 2_000

PATHOLOGICAL = {
    "unmatched brackets": "[" * 9_000 + PROSE,
    "cdata openers": "<![" * 3_000 + PROSE,
    "footnote refs": "[^x]" * 2_400 + PROSE,
    "list nested 300 deep": "".join("  " * i + f"- level {i}\n" for i in range(300)),
    "quotes nested 5000 deep": ">" * 5_000 + " deep\n",
    "unclosed inline math": "\\( " * 60_000,
    "unclosed display math lines": "$$ a\n" * 40_000,
    "dollar runs": "$$x$ " * 40_000,
    "unclosed wikilinks": "[[" * 4_000 + PROSE,
    "emphasis soup": "*a **b _c " * 20_000,
    "many distinct formulas": " ".join(f"$x_{{{i}}}^{{{i}}}$" for i in range(12_000)),
    "one huge formula": "$" + "x+" * 100_000 + "$",
    "unclosed comment": "<!--" * 50_000,
}


@pytest.mark.parametrize("text", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_pathological_input_renders_quickly(text):
    """A guard against quadratic parsing, not a speed target (bench/ measures those): each
    case costs at most two seconds of CPU on an idle machine, and a quadratic one would cost
    minutes. CPU time rather than wall time, and a bound well above the slowest case, so a
    busy machine (whose CPU time grows too) doesn't fail it."""
    text = text[:MAX_MARKDOWN_CHARS]
    started = time.process_time()
    rendered = render(text)
    assert time.process_time() - started < 6.0
    assert rendered.html


@pytest.mark.parametrize(
    "text",
    ["```\n" + "x = 1\n" * 170_000 + "```\n", "[" * 200_000, "[a](" * 50_000],
    ids=["1 MB code block", "200 KB of brackets", "unfinished links"],
)
def test_oversized_or_bracket_bombs_are_refused_quickly_with_a_reason(text):
    started = time.perf_counter()
    with pytest.raises(MarkdownTooLarge, match="the limit is"):
        render(text)
    assert time.perf_counter() - started < 2.0


def test_content_nested_too_deep_is_shown_not_dropped():
    text = "".join("  " * i + f"- level{i}\n" for i in range(300))
    html = render(text).html
    assert "level5" in html
    assert "level299" in html


# --- Math -----------------------------------------------------------------


def test_every_seed_formula_typesets_without_error():
    rendered = render(SEED_MATH)
    assert rendered.math_errors == ()
    assert "math-error" not in rendered.html
    formulas = SEED_MATH.count("\\(") + SEED_MATH.count("\\[") + SEED_MATH.count("$$") // 2
    assert rendered.html.count("<math") == formulas == 33


def test_tex_survives_markdown_untouched():
    html = render(r"Here \(a_1 * b_2 * c_1\) and $x_1 * y_2$ and \[ a \\ b_1 \]").html
    for source in (r"a_1 * b_2 * c_1", r"x_1 * y_2"):
        assert f'<annotation encoding="application/x-tex">{source}</annotation>' in html
    assert "<em>" not in html
    assert "\\\\ b_1" in html


def test_display_formula_with_line_breaks_is_set_as_separate_rows():
    html = render(r"\[ a = b \\ c = d \]").html
    assert html.count("<mtr>") == 2


def test_prices_are_not_math():
    html = render("It cost $5 and $10, or $ 3 $ at most.").html
    assert "<math" not in html
    assert "It cost $5 and $10, or $ 3 $ at most." in html


def test_display_math_inside_a_sentence_stays_in_the_sentence():
    html = render("we define $$ a = b $$ and move on").html
    assert re.search(
        r'<p>we define <span class="math math-display"[^>]*>.*</span> and move on</p>', html
    )
    assert 'display="block"' in html


def test_script_and_blackboard_letters_use_unicode_math_characters():
    html = render(r"$\mathcal{N}(0, 1)$ over $\mathbb{R}^n$ with $\mathbf{x}$").html
    assert "<mi>\N{MATHEMATICAL SCRIPT CAPITAL N}</mi>" in html
    assert "<mi>\N{DOUBLE-STRUCK CAPITAL R}</mi>" in html
    assert "<mi>\N{MATHEMATICAL BOLD SMALL X}</mi>" in html


def test_a_broken_formula_shows_its_source_and_reports_the_error():
    rendered = render(r"Before $\frac{a}{$ after.")
    assert rendered.math_errors and "end of input" in rendered.math_errors[0]
    assert re.search(r'<span class="math-error" title="[^"]*end of input[^"]*">', rendered.html)
    assert "\\frac{a}{</span>" in rendered.html
    assert "after." in rendered.html


@pytest.mark.parametrize(
    "formula",
    [
        r"\href{javascript:alert(1)}{click}",
        r"\url{javascript:alert(1)}",
        r"\htmlData{foo=bar}{x}",
        r"\htmlId{csrftoken}{x}",
        r"\includegraphics{https://example.com/x.png}",
    ],
)
def test_untrusted_tex_commands_are_inert_and_reported(formula):
    rendered = render(f"Before ${formula}$ after.")
    assert_inert(rendered.html)
    assert f">{formula}</span>" in rendered.html  # shown as its source
    assert rendered.math_errors
    assert "<a " not in rendered.html and "<img" not in rendered.html


def test_math_fence_is_typeset():
    html = render("```math\n\\int_0^1 x\\,dx\n```").html
    assert '<div class="math math-display" tabindex="0"' in html
    assert "<msubsup>" in html


# --- Code -----------------------------------------------------------------


def test_fenced_code_is_highlighted_with_classes_and_a_language_label():
    html = render("```python\ndef f():\n    return 1\n```").html
    assert '<pre class="highlight" data-lang="python"><code>' in html
    assert '<span class="k">def</span>' in html
    assert "style=" not in html


def test_unknown_language_is_plain_escaped_text():
    html = render("```nosuchlang\n<b>bold?</b>\n```").html
    assert "<code>&lt;b&gt;bold?&lt;/b&gt;\n</code>" in html


@pytest.mark.parametrize("language", ["", "python", "html"])
def test_code_cannot_close_its_own_block(language):
    html = render(f"```{language}\n</code></pre><script>alert(1)</script>\n```\nafter").html
    assert "<script" not in html
    assert html.count("</code></pre>") == 1
    assert "<p>after</p>" in html


def test_math_and_wikilinks_inside_code_stay_literal():
    calls = Calls()
    html = render_markdown("`$x$ [[Diffusion models]]`\n\n```\n\\(y\\) [[clip]]\n```", calls).html
    assert "<math" not in html
    assert "[[Diffusion models]]" in html and "[[clip]]" in html
    assert calls.asked == []


# --- Headings and table of contents ----------------------------------------


def test_headings_get_prefixed_unique_ids_and_a_self_link():
    html = render("## Results\n\n## Results\n\n### Zürich, too!").html
    assert '<h2 id="h-results">Results <a class="anchor" href="#h-results"' in html
    assert '<h2 id="h-results-2">' in html
    assert '<h3 id="h-zürich-too">' in html


def test_table_of_contents_nests_h2_to_h4():
    toc = render("# Title\n\n## One\n\n### One.a\n\n#### Deep\n\n##### Too deep\n\n## Two").toc_html
    assert toc.startswith('<ul class="toc">')
    links = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', toc)
    assert links == [("h-one", "One"), ("h-onea", "One.a"), ("h-deep", "Deep"), ("h-two", "Two")]
    assert toc.count("<ul") == 3
    assert [tag for tag, _ in Elements(toc).found].count("li") == 4


def test_no_table_of_contents_under_three_headings():
    assert render("## One\n\ntext\n\n## Two").toc_html == ""


def test_table_of_contents_keeps_math_but_not_links():
    toc = render("## About $x^2$\n\n## See [docs](/docs/)\n\n## Three").toc_html
    assert "<msup>" in toc
    assert "/docs/" not in toc and "See docs" in toc


# --- Wikilinks -------------------------------------------------------------


def test_wikilinks_are_resolved_in_one_call_with_unique_targets_in_order():
    calls = Calls()
    rendered = render_markdown(
        "[[Diffusion models]], [[ clip | the CLIP paper]], [[Missing one]], "
        "[[Diffusion models#Guided diffusion]] and [[clip]].",
        calls,
    )
    assert calls.asked == [("Diffusion models", "clip", "Missing one")]
    assert rendered.wikilinks == ("Diffusion models", "clip", "Missing one")
    assert rendered.broken_wikilinks == ("Missing one",)
    html = rendered.html
    assert '<a class="wikilink" href="/posts/diffusion-models/">Diffusion models</a>' in html
    assert '<a class="wikilink" href="/posts/clip/">the CLIP paper</a>' in html
    assert '<a class="wikilink" href="/posts/clip/">CLIP</a>' in html
    assert 'href="/posts/diffusion-models/#h-guided-diffusion"' in html
    assert (
        '<span class="wikilink-broken" title="No post called “Missing one”">Missing one</span>'
        in html
    )


def test_no_resolver_call_without_wikilinks():
    calls = Calls()
    render_markdown("Plain [link](/x/) only.", calls)
    assert calls.asked == []


def test_wikilinks_render_as_broken_without_a_resolver():
    rendered = render_markdown("See [[Anything]].")
    assert rendered.broken_wikilinks == ("Anything",)
    assert "wikilink-broken" in rendered.html


def test_same_page_wikilink_points_at_a_heading():
    html = render("## Setup\n\nBack to [[#Setup|the setup]].").html
    assert '<a class="wikilink" href="#h-setup">the setup</a>' in html


# --- Summary, counts -------------------------------------------------------


def test_summary_is_the_first_paragraph_as_plain_text():
    text = (
        "# Heading\n\n```\ncode\n```\n\n$$x^2$$\n\n"
        "The **first** [real](/x/) para with \\(y \\in Y\\) and \\(x_t^2\\).\n\nSecond."
    )
    assert render(text).summary == "The first real para with y∈Y and …."


def test_long_summary_is_cut_on_a_word_boundary_with_an_ellipsis():
    summary = render("lorem ipsum dolor " * 40).summary
    assert len(summary) <= 300
    assert summary.endswith("…")
    assert summary[:-1].split()[-1] in {"lorem", "ipsum", "dolor"}


def test_summary_of_the_seed_drops_tex_source():
    summary = render(SEED_MATH).summary
    assert summary.startswith("Guidance steers a sampler with a classifier … over labels y∈Y")
    assert "\\" not in summary and "_" not in summary


def test_reading_time_is_about_230_words_a_minute():
    rendered = render("word " * 1_500)
    assert rendered.word_count == 1_500
    assert rendered.reading_time == 7


def test_code_and_formulas_add_reading_time_but_not_words():
    code = "```python\n" + "x = compute(y)\n" * 100 + "```\n"
    rendered = render("word " * 200 + "\n\n" + code + "\n\n$$a^2$$\n")
    assert rendered.word_count == 200
    assert rendered.reading_time == 3  # 200 + 4 * 100 + 20 = 620 word-equivalents


def test_empty_body_has_no_reading_time():
    rendered = render("")
    assert (rendered.reading_time, rendered.word_count, rendered.summary) == (0, 0, "")


# --- Markdown features -----------------------------------------------------


def test_feature_tour_renders_each_construct():
    html = render(FEATURES).html
    checkboxes = [attrs for tag, attrs in Elements(html).found if tag == "input"]
    assert [("checked" in box, box["type"], "disabled" in box) for box in checkboxes] == [
        (True, "checkbox", True),
        (False, "checkbox", True),
    ]
    assert "<dl>\n<dt>Embedding</dt>" in html
    assert '<th class="align-center">Params</th>' in html
    assert '<td class="align-right">80.5</td>' in html
    assert '<div class="markdown-alert markdown-alert-warning">' in html
    assert "<s>struck</s>" in html
    assert '<pre class="highlight" data-lang="mermaid"><code>graph TD; A--&gt;B' in html
    assert "<pre><code>indented code stays plain" in html
    assert '<a href="#fn-1" id="fnref-1">[1]</a>' in html
    assert '<li id="fn-1" class="footnote-item">' in html
    assert '<a href="https://example.org/paper.pdf" rel="noopener">' in html
    assert_inert(html)


def test_mkdocs_admonitions_render_as_boxes_with_titles():
    html = render(
        '!!! note "Why it works"\n    The *noise* cancels.\n\n!!! danger\n    Careful.'
    ).html
    assert '<div class="admonition note">\n<p class="admonition-title">Why it works</p>' in html
    assert "<p>The <em>noise</em> cancels.</p>" in html
    assert '<div class="admonition danger">' in html


def test_unknown_admonition_kinds_keep_their_box_but_not_their_class():
    html = render("!!! skip-link\n    Text.").html
    assert '<div class="admonition">' in html and "skip-link" not in html.split(">", 1)[0]


def test_external_links_get_noopener_and_internal_ones_do_not():
    html = render("[a](https://example.com) [b](/posts/b/) [c](mailto:me@example.com)").html
    assert '<a href="https://example.com" rel="noopener">a</a>' in html
    assert '<a href="/posts/b/">b</a>' in html
    assert '<a href="mailto:me@example.com">c</a>' in html


@pytest.mark.parametrize("tag", ["<style>", "<textarea>", "<!--", "<script>", "<title>", "<xmp>"])
def test_raw_html_is_shown_as_text_and_does_not_swallow_prose(tag):
    html = render(f"Intro {tag} unclosed\n\nThe prose after it survives.").html
    assert "The prose after it survives." in html
    assert tag.replace("<", "&lt;").replace(">", "&gt;") in html


# --- XSS corpus ------------------------------------------------------------

XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](jav&#x61;script:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](<java\tscript:alert(1)>)",
    "[click](java%0ascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![img](data:image/svg+xml,<svg onload=alert(1)>)",
    "![img](javascript:alert(1))",
    "[ref][evil]\n\n[evil]: javascript:alert(1)",
    "<javascript:alert(1)>",
    '[x](https://example.com "title\\" onmouseover=\\"alert(1)")',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<math><annotation-xml encoding="text/html"><img src=x onerror=alert(1)></annotation-xml>',
    "$\\href{javascript:alert(1)}{x}$",
    '<a id="csrftoken" name="csrftoken">x</a>',
    "## csrftoken\n\n## csrftoken",
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<base href="https://evil.example/">',
    "# T {: onclick=alert(1) }",
    '<form action="https://evil.example"><input name="q"></form>',
    "<object data=javascript:alert(1)></object><embed src=javascript:alert(1)>",
    '<div style="position:fixed;inset:0">overlay</div>',
    "```\n</code></pre><img src=x onerror=alert(1)>\n```",
    '[[x" onmouseover="alert(1)]]',
    '[[Diffusion models#" onclick="alert(1)|y]]',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '[a](https://example.com/" onclick="alert(1))',
]


@pytest.mark.parametrize("payload", XSS)
def test_xss_payload_is_inert_and_surrounding_text_survives(payload):
    number = XSS.index(payload)
    html = render(f"before-{number}\n\n{payload}\n\nafter-{number}").html
    assert_inert(html)
    assert "<script" not in html and "onerror=" not in html.replace("onerror=alert", "")
    assert f"before-{number}" in html
    assert f"after-{number}" in html


def test_xss_corpus_is_large_enough():
    assert len(XSS) >= 25


def test_no_post_can_claim_an_arbitrary_id():
    html = render(
        '## csrftoken\n\n<a id="csrftoken">x</a>\n\nText[^csrftoken]\n\n[^csrftoken]: n'
    ).html
    ids = [attrs["id"] for _, attrs in Elements(html).found if "id" in attrs]
    assert "csrftoken" not in ids
    assert all(re.match(r"(h|fn|fnref)-", i) for i in ids)


# --- Admin preview ---------------------------------------------------------


def test_preview_is_the_stored_html_with_math_errors_listed_first():
    text = "Good $x$ and bad $\\frac{$."
    preview = markdownify(text)
    assert preview.startswith('<ul class="preview-problems"')
    assert "Math: " in preview
    assert preview.endswith(render_markdown(text).html)


def test_preview_of_an_oversized_body_explains_the_limit():
    preview = markdownify("a" * (MAX_MARKDOWN_CHARS + 5))
    assert "250,005" in preview and "250,000" in preview


def test_preview_without_problems_is_exactly_the_rendering():
    assert markdownify("Just *text*.") == render_markdown("Just *text*.").html


def test_formulas_typeset_in_any_thread():
    """A threaded server (runserver, gunicorn --threads) typesets from many threads; here, in a
    fresh interpreter, the main thread goes first. The interpreter must also exit: left to the
    garbage collector at exit, V8's clean-up would wait forever (the timeout fails the test)."""
    script = textwrap.dedent(
        """
        import threading
        from notes.rendering.typesetting import typeset
        errors = [typeset("x^{1}", display=True).error]
        again = lambda: errors.append(typeset("x^{2}", display=True).error)
        worker = threading.Thread(target=again)
        worker.start()
        worker.join()
        print(errors)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "[None, None]"
