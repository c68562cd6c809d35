"""A reader of a long derivation, in Chromium: what the typeset formulas look like on the page.

Everything here is measured on the rendered page (glyph positions, scroll boxes, focus), not
read from class names. The post is tests/rendering_fixtures/derivations.md with the site's
macro preamble defining \\E and \\KL."""

import io
from pathlib import Path

import pytest
from PIL import Image

from notes.models import SiteSettings
from tests.e2e.helpers import horizontal_overflow
from tests.factories import make_post

pytestmark = pytest.mark.django_db(transaction=True)

DERIVATIONS = (Path(__file__).parents[1] / "rendering_fixtures" / "derivations.md").read_text()
PREAMBLE = (
    r"\newcommand{\E}{\mathbb{E}}"
    r"\newcommand{\KL}[2]{D_{\mathrm{KL}}\left(#1 \,\|\, #2\right)}"
)

# For each display formula whose TeX aligns relations at "&": the x of the first full-size
# relation sign (=, ≥, ≤) in each row, found by walking the text the reader sees. Each script
# takes the selector of what is drawn (KaTeX's HTML here; bench/math_layout.py passes "math").
RELATION_COLUMNS = """(drawn) => [...document.querySelectorAll('.math-display')]
  .filter(box => /&\\s*(=|\\\\ge|\\\\le)/.test(box.querySelector('annotation').textContent))
  .map(box => {
    const visual = box.querySelector(drawn || '.katex-html');
    const base = parseFloat(getComputedStyle(visual).fontSize);
    const walker = document.createTreeWalker(visual, NodeFilter.SHOW_TEXT);
    const signs = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const size = parseFloat(getComputedStyle(node.parentElement).fontSize);
      for (let i = 0; i < node.data.length; i++) {
        if (!'=≥≤'.includes(node.data[i]) || size < base * 0.95) continue;
        const range = document.createRange();
        range.setStart(node, i); range.setEnd(node, i + 1);
        const rect = range.getBoundingClientRect();
        if (!rect.width) continue;  // not drawn (the TeX annotation of MathML)
        signs.push({x: rect.left, y: (rect.top + rect.bottom) / 2});
      }
    }
    const rows = [];
    for (const sign of signs.sort((a, b) => a.y - b.y || a.x - b.x)) {
      const row = rows.find(r => Math.abs(r.y - sign.y) < 4);
      if (row) row.x = Math.min(row.x, sign.x); else rows.push({...sign});
    }
    return {tex: box.querySelector('annotation').textContent.slice(0, 40), xs: rows.map(r => r.x)};
  })"""

# Gap, in em, between an operator name (log, cos, sin, exp) and the letter that follows it
# (TeX puts no space before an opening parenthesis: "exp(-x)").
OPERATOR_GAPS = """(drawn) => {
  const visual = [...document.querySelectorAll(drawn || '.katex-html')];
  const gaps = [];
  for (const root of visual) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    const nodes = [];
    for (let n = walker.nextNode(); n; n = walker.nextNode()) if (n.data.trim()) nodes.push(n);
    nodes.forEach((node, i) => {
      // KaTeX sets the g of "log" apart, to give it its italic correction.
      let first = node;
      if (node.data === 'g' && nodes[i - 1] && nodes[i - 1].data === 'lo') first = nodes[i - 1];
      const name = first === node ? node.data : 'log';
      if (!['log', 'cos', 'sin', 'exp'].includes(name) || !nodes[i + 1]) return;
      if (node.data === 'lo') return;
      const here = document.createRange();
      here.setStart(first, 0); here.setEnd(node, node.data.length);
      const next = document.createRange();
      next.setStart(nodes[i + 1], 0); next.setEnd(nodes[i + 1], 1);
      const em = parseFloat(getComputedStyle(node.parentElement).fontSize);
      const a = here.getBoundingClientRect(), b = next.getBoundingClientRect();
      if (Math.abs((a.top + a.bottom) / 2 - (b.top + b.bottom) / 2) > em) return;  // a script
      if ('([{|'.includes(nodes[i + 1].data[0])) return;
      gaps.push({op: name, next: nodes[i + 1].data[0], gap: (b.left - a.right) / em});
    });
  }
  return gaps;
}"""

# How far, in em, each prime's top rises above the top of the letter it marks ("s'").
PRIME_RISES = """(drawn) => [...document.querySelectorAll(drawn || '.katex-html')].flatMap(root => {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const nodes = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) if (n.data.trim()) nodes.push(n);
  return nodes.flatMap((node, i) => {
    if (!['\\u2032', "'"].includes(node.data) || !nodes[i - 1]) return [];
    const r = document.createRange(); r.selectNodeContents(node);
    const b = document.createRange(); b.selectNodeContents(nodes[i - 1]);
    const em = parseFloat(getComputedStyle(nodes[i - 1].parentElement).fontSize);
    return [(b.getBoundingClientRect().top - r.getBoundingClientRect().top) / em];
  });
})"""


@pytest.fixture
def derivation(db):
    settings = SiteSettings.current()
    settings.math_preamble = PREAMBLE
    settings.save()
    return make_post("A lower bound on the evidence", slug="evidence", body=DERIVATIONS)


def test_relation_signs_of_a_derivation_line_up(page, derivation):
    page.goto(derivation.get_absolute_url())
    page.evaluate("document.fonts.ready")
    columns = page.evaluate(RELATION_COLUMNS)
    rows = {column["tex"]: len(column["xs"]) for column in columns}
    # align (4 rows), the gap (3), the Bellman split (2) and the wide aligned (2).
    assert sorted(rows.values()) == [2, 2, 3, 4], rows
    for column in columns:
        assert max(column["xs"]) - min(column["xs"]) <= 1, column


def test_operator_names_are_followed_by_a_thin_space(page, derivation):
    page.goto(derivation.get_absolute_url())
    page.evaluate("document.fonts.ready")
    # The body's formulas: the contents repeat a heading's formula, folded away on this screen.
    gaps = page.evaluate(OPERATOR_GAPS, ".prose .katex-html")
    assert len(gaps) >= 8, gaps
    assert {g["op"] for g in gaps} >= {"log", "cos", "sin"}
    for gap in gaps:
        assert gap["gap"] >= 0.12, gap


def test_primes_sit_at_the_height_of_a_superscript(page, derivation):
    page.goto(derivation.get_absolute_url())
    page.evaluate("document.fonts.ready")
    # In "f'(x)": the prime's top is above the f's top, but by less than half an em.
    offsets = page.evaluate(PRIME_RISES, ".prose .katex-html")
    assert len(offsets) >= 4, offsets
    for offset in offsets:
        assert 0 <= offset < 0.5, offsets


def test_in_firefox_too_signs_line_up_operators_are_spaced_primes_sit_high(
    firefox, live_server, derivation
):
    """KaTeX's HTML is laid out by CSS alone, so Firefox must draw what Chromium does."""
    firefox.goto(live_server.url + derivation.get_absolute_url())
    columns = firefox.evaluate(RELATION_COLUMNS, ".katex-html")
    assert sorted(len(column["xs"]) for column in columns) == [2, 2, 3, 4], columns
    for column in columns:
        assert max(column["xs"]) - min(column["xs"]) <= 1, column
    gaps = firefox.evaluate(OPERATOR_GAPS, ".prose .katex-html")
    assert len(gaps) >= 8 and {g["op"] for g in gaps} >= {"log", "cos", "sin"}, gaps
    assert all(gap["gap"] >= 0.12 for gap in gaps), gaps
    rises = firefox.evaluate(PRIME_RISES, ".prose .katex-html")
    assert len(rises) >= 4 and all(0 <= rise < 0.5 for rise in rises), rises


def test_no_raw_tex_and_every_reference_is_a_link(page, derivation):
    page.goto(derivation.get_absolute_url())
    text = page.locator("article.post").inner_text()
    for raw in ("$$", "\\begin", "\\frac", "\\eqref", "\\label", "\\newcommand", "\\text", "??"):
        assert raw not in text, raw
    assert page.locator(".math-error").count() == 0
    elbo = page.get_by_role("link", name="(3)")
    assert elbo.count() == 1
    elbo.click()
    assert page.url.endswith("#eq-eq:elbo")
    target = page.locator("#eq-eq\\:elbo")
    assert target.evaluate("node => node.closest('.math-display') !== null")
    box = target.bounding_box()
    # Scrolled to the top of the window (to within a pixel's rounding), not past it.
    assert -1 <= box["y"] < 900
    assert page.js_errors == []


def test_a_wide_formula_scrolls_in_a_focusable_named_box_with_a_hint(page, derivation):
    page.set_viewport_size({"width": 700, "height": 900})
    page.goto(derivation.get_absolute_url())
    wide = page.locator(".prose .math-display").filter(has_text="regularisers")
    sizes = wide.evaluate("box => [box.scrollWidth, box.clientWidth]")
    assert sizes[0] > sizes[1] + 50, sizes
    assert wide.get_attribute("aria-label")
    wide.focus()
    assert wide.evaluate("box => document.activeElement === box")
    page.keyboard.press("End")
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(200)
    assert wide.evaluate("box => box.scrollLeft") > 0
    wide.evaluate("box => { box.scrollLeft = 0; box.blur(); }")
    # The hint: the right edge, where there is more, is shaded; the left edge is not.
    shot = Image.open(io.BytesIO(wide.screenshot())).convert("L")
    width, height = shot.size

    def darkness(left: int) -> float:
        strip = shot.crop((left, 0, left + 4, height)).tobytes()
        return 255 - sum(strip) / len(strip)

    assert darkness(width - 4) > darkness(0) + 5


def test_a_phone_never_scrolls_sideways(mobile_page, derivation):
    mobile_page.set_viewport_size({"width": 390, "height": 844})
    mobile_page.goto(derivation.get_absolute_url())
    mobile_page.evaluate("document.fonts.ready")
    assert horizontal_overflow(mobile_page) == 0
    # Equation numbers follow their formula instead of covering it when it is wider.
    covering = mobile_page.evaluate(
        """() => [...document.querySelectorAll('.katex-html > .tag')].filter(tag => {
          const number = tag.getBoundingClientRect();
          return [...tag.parentElement.children].some(part => part !== tag
            && part.getBoundingClientRect().right > number.left + 1);
        }).length"""
    )
    assert covering == 0


def test_math_in_a_heading_stays_on_one_line(page, derivation):
    page.goto(derivation.get_absolute_url())
    heading = page.locator(".prose h2").filter(has_text="Deriving it for")
    line = heading.evaluate("h => parseFloat(getComputedStyle(h).lineHeight)")
    assert heading.bounding_box()["height"] < 1.6 * line
    # On this desktop-sized page the contents stand in the side column.
    entry = page.locator("nav.post-toc-side a").filter(has_text="Deriving it for")
    assert entry.locator(".katex-html").count() == 1
    entry_line = entry.evaluate("a => parseFloat(getComputedStyle(a).lineHeight)")
    assert entry.bounding_box()["height"] < 1.6 * entry_line
