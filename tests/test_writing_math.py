"""An author writing formulas: numbers and references, macros, MathJax habits, and what the
stored page, its stylesheet and the feeds then carry."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from notes import services
from notes.models import MathStylesheet, Post, SiteSettings
from notes.rendering import markdownify, render_markdown
from notes.rendering.katex_styles import class_for, declaration_for, stylesheet
from notes.rendering.sanitizing import sanitize_html
from notes.rendering.typesetting import mathml_only
from tests.factories import make_post
from tests.test_rendering import Elements, assert_inert

FIXTURES = Path(__file__).parent / "rendering_fixtures"
DERIVATIONS = (FIXTURES / "derivations.md").read_text()
PREAMBLE = (
    r"\newcommand{\E}{\mathbb{E}}"
    r"\newcommand{\KL}[2]{D_{\mathrm{KL}}\left(#1 \,\|\, #2\right)}"
)

REALS = "\N{DOUBLE-STRUCK CAPITAL R}"
RATIONALS = "\N{DOUBLE-STRUCK CAPITAL Q}"
EXPECTATION = "\N{MATHEMATICAL DOUBLE-STRUCK CAPITAL E}"


def numbers_shown(html: str) -> list[str]:
    """The equation numbers a reader sees, in order: the text of KaTeX's tag boxes (one box
    holds the column of numbers of an align)."""
    numbers = []
    for start in re.finditer(r'<span class="tag">', html):
        depth, text, position = 1, [], start.end()
        for piece in re.finditer(r"<span\b[^>]*>|</span>|[^<]+", html[position:]):
            token = piece.group(0)
            depth += 1 if token.startswith("<span") else -1 if token == "</span>" else 0
            if depth == 0:
                break
            if not token.startswith("<"):
                text.append(token)
        numbers.extend(re.findall(r"\([^()]*\)", "".join(text)))
    return numbers


def visual(html: str) -> str:
    """KaTeX's visual HTML only, without the TeX annotation (which repeats the source)."""
    return "".join(re.findall(r'<span class="katex-html".*', html, re.DOTALL))


# --- Equation numbers --------------------------------------------------------------------


def test_align_rows_are_numbered_in_order_except_notag_and_starred():
    html = render_markdown(
        "$$\\begin{align} a &= b \\\\ c &= d \\notag \\\\ e &= f \\end{align}$$\n\n"
        "$$\\begin{align*} g &= h \\end{align*}$$\n\n"
        "$$\\begin{equation} x = y \\end{equation}$$\n\n"
        "$$\\begin{gather} p \\\\ q \\tag{$\\star$} \\end{gather}$$"
    ).html
    assert numbers_shown(html) == ["(1)", "(2)", "(3)", "(4)", "(⋆)"]


def test_a_label_on_a_plain_display_formula_gives_it_a_number():
    html = render_markdown("$$ E = mc^2 \\label{eq:energy} $$\n\n$$ F = ma $$").html
    assert numbers_shown(html) == ["(1)"]
    assert 'id="eq-eq:energy"' in html


def test_eqref_links_to_the_labelled_equation_even_before_it():
    rendered = render_markdown(
        "As \\eqref{eq:sum} shows, and (\\ref{eq:sum}) again, and $\\eqref{eq:sum}$.\n\n"
        "$$\\begin{align} s &= \\sum_i x_i \\label{eq:sum} \\end{align}$$"
    )
    links = re.findall(r'<a class="eqref" href="#(eq-[^"]+)">([^<]+)</a>', rendered.html)
    assert links == [("eq-eq:sum", "(1)"), ("eq-eq:sum", "1"), ("eq-eq:sum", "(1)")]
    assert re.search(r'<div class="math math-display" id="eq-eq:sum"', rendered.html)
    assert rendered.summary.startswith("As (1) shows, and (1) again")
    assert rendered.broken_labels == ()


def test_an_eqref_inside_a_formula_shows_the_number():
    html = render_markdown("$$ a = b \\tag{7}\\label{x} $$\n\n$$ \\text{by } \\eqref{x} $$").html
    assert "(7)" in re.sub(r"<[^>]+>", "", visual(html.split("</div>", 1)[1]))


def test_an_unknown_label_is_marked_and_listed_in_the_preview():
    text = "See \\eqref{missing} and $$ x \\label{a} $$ $$ y \\label{a} $$"
    rendered = render_markdown(text)
    assert rendered.broken_labels == ("missing",)
    assert rendered.duplicated_labels == ("a",)
    assert '<span class="eqref-broken" title="No equation labelled “missing”">(??)</span>' in (
        rendered.html
    )
    preview = markdownify(text)
    assert "No equation labelled “missing”" in preview
    assert "Equation label “a” used twice" in preview


# --- Macros ------------------------------------------------------------------------------


def test_a_posts_macros_apply_to_the_rest_of_the_post():
    rendered = render_markdown(
        "Before: $\\RR$.\n\n"
        "$\\newcommand{\\RR}{\\mathbb{R}}\\def\\pair#1#2{\\langle #1, #2 \\rangle}$\n\n"
        "$x \\in \\RR^n$, $\\pair{a}{b}$, $\\DeclareMathOperator{\\tr}{tr} \\tr A$, $\\tr B$."
        "\n\n$\\renewcommand{\\RR}{\\mathbb{Q}} \\RR$"
    )
    assert len(rendered.math_errors) == 1 and "\\RR" in rendered.math_errors[0]
    assert f"<mi>{REALS}</mi>" in rendered.html and f"<mi>{RATIONALS}</mi>" in rendered.html
    assert "⟨" in rendered.html and ">tr<" in rendered.html
    # The annotation keeps what the author wrote, not the definitions put in front.
    assert '<annotation encoding="application/x-tex">x \\in \\RR^n</annotation>' in rendered.html
    # The paragraph that only defined macros leaves no empty paragraph behind.
    assert "<p></p>" not in rendered.html


def test_the_site_preamble_applies_and_a_post_may_override_it():
    rendered = render_markdown("$\\E[X]$ and $\\KL{p}{q}$", math_preamble=PREAMBLE)
    assert rendered.math_errors == ()
    assert f"<mi>{EXPECTATION}</mi>" in rendered.html and "KL" in rendered.html
    overridden = render_markdown(
        "$\\renewcommand{\\E}{\\mathrm{E}}$ $\\E[X]$", math_preamble=PREAMBLE
    )
    assert f"<mi>{EXPECTATION}</mi>" not in overridden.html
    assert '<mi mathvariant="normal">E</mi>' in overridden.html


def test_a_preamble_that_is_not_definitions_is_refused():
    settings = SiteSettings(math_preamble="\\newcommand{\\R}{\\mathbb{R}} oops")
    with pytest.raises(ValidationError) as refused:
        settings.clean()
    assert "oops" in str(refused.value)


@pytest.mark.django_db
def test_changing_the_preamble_rerenders_only_the_posts_that_use_it():
    settings = SiteSettings.current()
    settings.math_preamble = PREAMBLE
    services.save_site_settings(settings)
    user = make_post("Uses E", body="Expectation $\\E[X]$.")
    other = make_post("Plain", body="Just $x$.")
    untouched = Post.objects.get(pk=other.pk).body_html
    assert EXPECTATION in user.body_html

    settings.math_preamble = r"\newcommand{\E}{\operatorname{E}}" + PREAMBLE[28:]
    assert services.save_site_settings(settings) == 1
    assert EXPECTATION not in Post.objects.get(pk=user.pk).body_html
    assert Post.objects.get(pk=other.pk).body_html == untouched


# --- MathJax-compatible input ------------------------------------------------------------

MATHJAX_ISMS = {
    "underscore in text": ("\\text{style_fwd}", "\\text{style\\_fwd}"),
    "operator as a bare subscript": ("t_\\max + \\tau_\\min", "t_{\\max} + \\tau_{\\min}"),
    "accent as a bare superscript": ("Q^\\vec{\\mu}", "Q^{\\vec{\\mu}}"),
    "ampersand in text in aligned": (
        "\\begin{aligned} a &= \\text{x & y} \\end{aligned}",
        "\\begin{aligned} a &= \\text{x \\& y} \\end{aligned}",
    ),
    "mathbbm": ("\\mathbbm{1}_A", "\\mathbb{1}_A"),
    "require": ("\\require{cancel} \\cancel{x}", "\\cancel{x}"),
    "class and style": ("\\class{big}{x} + \\style{color:red}{y}", "{x} + {y}"),
    "textsc": ("\\textsc{Adam}", "\\text{Adam}"),
    "eqnarray": (
        "\\begin{eqnarray*} a &=& b \\\\ c &\\le& d \\end{eqnarray*}",
        "\\begin{align*} a &= b \\\\ c &\\le d \\end{align*}",
    ),
}


@pytest.mark.parametrize("mathjax, katex", MATHJAX_ISMS.values(), ids=MATHJAX_ISMS.keys())
def test_a_mathjax_ism_renders_as_what_mathjax_shows(mathjax, katex):
    written = render_markdown(f"$${mathjax}$$")
    expected = render_markdown(f"$${katex}$$")
    assert written.math_errors == () and expected.math_errors == ()
    assert visual(written.html) == visual(expected.html)


def test_align_inside_inline_math_becomes_aligned():
    assert render_markdown("$\\begin{align} a &= b \\end{align}$").math_errors == ()


def test_an_environment_written_without_dollars_is_math():
    rendered = render_markdown(
        "Text.\n\n\\begin{align}\na &= b \\label{e} \\\\\nc &= d\n\\end{align}"
    )
    assert numbers_shown(rendered.html) == ["(1)", "(2)"]
    assert "\\begin" not in re.sub(r"<annotation.*?</annotation>", "", rendered.html, flags=re.S)
    assert "\\label{e}" in rendered.html  # the annotation: the TeX as the author wrote it


def test_a_formula_that_still_fails_keeps_its_source_and_message():
    rendered = render_markdown("Broken $\\frac{a$ here.")
    assert '<span class="math-error" title="' in rendered.html
    assert ">\\frac{a</span>" in rendered.html
    assert rendered.math_errors and "end of input" in rendered.math_errors[0]


def test_the_seed_like_fixture_typesets_with_no_error():
    rendered = render_markdown(DERIVATIONS, math_preamble=PREAMBLE)
    assert rendered.math_errors == () and rendered.broken_labels == ()
    assert "math-error" not in rendered.html
    assert numbers_shown(rendered.html) == ["(1)", "(2)", "(3)", "(4)", "(5)", "(CDF)", "(6)"]


# --- What is stored: no style attributes, a stylesheet that is only KaTeX's layout --------


def test_stored_html_has_no_style_attribute_and_its_stylesheet_covers_every_class():
    rendered = render_markdown(DERIVATIONS, math_preamble=PREAMBLE)
    assert " style=" not in rendered.html
    used = {
        name
        for value in re.findall(r'class="([^"]*)"', rendered.html + rendered.toc_html)
        for name in value.split()
        if declaration_for(name)
    }
    rules = re.findall(r"^\.([\w-]+)\{([a-z-]+:[^;{}!]+)!important\}$", rendered.math_css, re.M)
    assert len(rules) == rendered.math_css.count("\n") == len(used) > 50
    assert {name for name, _ in rules} == used
    # The same formulas give the same stylesheet, byte for byte.
    again = render_markdown(DERIVATIONS, math_preamble=PREAMBLE).math_css
    assert again == rendered.math_css


@pytest.mark.parametrize(
    "declaration",
    [
        "color:red;background:url(javascript:alert(1))",
        "background-image:url(x)",
        "height:calc(1em + 1px)",
        "color:expression(alert(1))",
        "top:1em}body{display:none",
    ],
)
def test_a_declaration_outside_katexs_grammar_never_reaches_the_stylesheet(declaration):
    assert class_for(declaration) is None
    html = sanitize_html(f'<span class="katex kh-0d5 modal" style="{declaration}">x</span>')
    assert html == '<span class="katex kh-0d5">x</span>'
    assert stylesheet(html) == ".kh-0d5{height:0.5em!important}\n"


def test_a_colour_an_author_writes_is_checked_before_it_becomes_a_rule():
    rendered = render_markdown("$\\color{#1a2b3c}{x} \\color{teal}{y}$")
    assert ".kc-x1a2b3c{color:#1a2b3c!important}" in rendered.math_css
    assert ".kc-teal{color:teal!important}" in rendered.math_css
    refused = render_markdown("$\\color{red;x:url(a)}{x}$")
    assert "url" not in refused.math_css


@pytest.mark.django_db
def test_the_post_page_links_its_stylesheet_which_is_cached_for_good(client):
    post = make_post("Derivation", body=DERIVATIONS)
    page = client.get(post.get_absolute_url()).content.decode()
    url = MathStylesheet.objects.get(digest=post.math_stylesheet).get_absolute_url()
    assert f'<link rel="stylesheet" href="{url}">' in page
    assert "katex/katex." in page
    assert " style=" not in page.split('<div class="prose">', 1)[1].split("</article>", 1)[0]

    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/css; charset=utf-8"
    assert "immutable" in response["Cache-Control"]
    assert response.content.decode() == render_markdown(DERIVATIONS).math_css
    assert client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    assert client.get("/math/" + "0" * 20 + ".css").status_code == 404


@pytest.mark.django_db
def test_rerender_moves_posts_to_the_new_output_and_drops_unused_stylesheets(capsys):
    post = make_post("Derivation", body="$$ a = b $$")
    old = MathStylesheet.objects.create(digest="f" * 20, css=".kh-1{height:1em!important}\n")
    MathStylesheet.objects.filter(pk=old.pk).update(created_at=old.created_at.replace(year=2020))
    Post.objects.filter(pk=post.pk).update(body_html="<p>old</p>", math_stylesheet="")
    call_command("rerender")
    post.refresh_from_db()
    assert "katex-html" in post.body_html and post.math_stylesheet
    assert list(MathStylesheet.objects.values_list("digest", flat=True)) == [post.math_stylesheet]
    assert "Rendered 1/1 posts" in capsys.readouterr().out


@pytest.mark.django_db
def test_feeds_carry_mathml_not_katexs_visual_html(client):
    make_post("Derivation", body="Inline $x^2$ and $$ \\sum_i y_i $$")
    feed = client.get("/feed/").content.decode()
    assert "<math" in feed or "&lt;math" in feed
    assert "katex-html" not in feed
    stored = Post.objects.get().body_html
    assert mathml_only(stored).count("<math") == 2 and "katex-html" not in mathml_only(stored)


@pytest.mark.parametrize(
    "text",
    [
        '$$ x \\label{"><img src=x onerror=alert(1)>} $$ \\eqref{"><img src=x onerror=alert(1)>}',
        "See \\eqref{<script>alert(1)</script>} and \\ref{' onmouseover='alert(1)}",
        "$$ x \\tag{<img src=x onerror=alert(1)>} $$",
        "$\\newcommand{\\x}{\\href{javascript:alert(1)}{y}} \\x$",
        "$$\\begin{align} a &= \\text{</span><script>alert(1)</script>} \\end{align}$$",
        '$\\color{red" onmouseover="alert(1)}{x}$',
    ],
)
def test_labels_tags_and_macros_cannot_smuggle_markup(text):
    rendered = render_markdown(text)
    assert_inert(rendered.html)
    assert [tag for tag, _ in Elements(rendered.html).found if tag in ("img", "script")] == []
    assert sanitize_html(rendered.html) == rendered.html


@pytest.mark.django_db
def test_the_site_intro_keeps_its_formulas_as_mathml():
    """The intro is shown where no formula stylesheet is linked, so it keeps only MathML."""
    settings = SiteSettings.current()
    settings.math_preamble = PREAMBLE
    settings.intro = "Notes on $\\E[X]$."
    services.save_site_settings(settings)
    intro = SiteSettings.current().intro_html
    assert f"<mi>{EXPECTATION}</mi>" in intro
    assert "katex-html" not in intro and "math-error" not in intro


class TestTheTypesettingEngine:
    """KaTeX runs in V8, a post's formulas in one batch: one bad formula, one that runs out of
    time, or a forked worker must not cost the others their output."""

    def test_a_batch_with_a_broken_formula_keeps_the_rest(self):
        html = markdownify(r"$a^2$, then $\frac{1}{$, then $\sqrt{b}$ and $$c_{n+1}$$")
        assert html.count('class="katex"') == 3
        assert 'class="math-error"' in html and "\\frac{1}{" in html

    def test_a_formula_that_runs_out_of_time_is_refused_and_the_engine_recovers(self, monkeypatch):
        from notes.rendering import katex_engine, typesetting

        monkeypatch.setattr(katex_engine, "MIN_SECONDS", 0.000_001)
        monkeypatch.setattr(katex_engine, "SECONDS_PER_FORMULA", 0.000_001)
        long_sum = " + ".join(rf"\frac{{x_{{{i}}}}}{{\sqrt{{y_{{{i}}}}}}}" for i in range(300))
        refused = typesetting.typeset(long_sum, display=True)
        assert refused.error == "this formula takes too long or too much memory"
        monkeypatch.undo()
        assert typesetting.typeset(r"e^{i\pi} + 1 = 0", display=False).error is None

    def test_a_forked_worker_typesets_with_an_engine_of_its_own_and_exits(self):
        """As a gunicorn worker forked from a process that has typeset: the child's formulas
        are typeset, and the child and the parent both exit (nothing waits on the parent's V8
        threads, which the child doesn't have)."""
        script = textwrap.dedent(
            """
            import os, sys
            from notes.rendering.typesetting import typeset
            print(typeset(r"\\alpha_1", display=False).error is None, flush=True)
            child = os.fork()
            if child == 0:
                print("β" in typeset(r"\\beta_{2}", display=False).html, flush=True)
                sys.exit(0)
            print(os.waitpid(child, 0)[1] == 0, flush=True)
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
        assert result.stdout.split() == ["True", "True", "True"]
