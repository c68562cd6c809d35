"""A post brought over from a Jekyll blog, as a reader sees it: the figure at its size with its
caption under it, the raw HTML table as a table, inline formulas inside their sentence, and an
old #anchor landing on its heading."""

from pathlib import Path

import pytest

from notes.importing import import_markdown
from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)

SITE = Path(__file__).parents[1] / "fixtures" / "sites" / "jekyll"


@pytest.fixture
def migrated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.KB_SERVE_MEDIA = True
    settings.KB_PAGE_CACHE_SECONDS = 0
    import_markdown([SITE], author=make_user("ada", first_name="Ada", last_name="Lovelace"))
    return "/posts/diffusion-models/"


def box(page, selector: str) -> dict:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, selector
    return found


def test_figure_table_and_inline_formulas_look_right(page, migrated):
    page.goto(migrated)
    prose = box(page, ".prose")

    image = page.locator(".prose figure img").first
    assert image.evaluate("img => img.complete && img.naturalWidth") > 0  # the copied file loads
    shown = box(page, ".prose figure img")
    assert abs(shown["width"] - 0.8 * prose["width"]) < 0.05 * prose["width"]  # {: width 80%}
    caption = box(page, ".prose figure figcaption")
    assert caption["y"] >= shown["y"] + shown["height"] - 1  # under the image
    assert page.locator(".prose figcaption").inner_text().startswith("Fig. 1. The Markov chain")

    cells = page.locator(".prose table").nth(1).locator("td")
    assert cells.count() == 4
    first, second = box(page, ".prose table >> nth=1 >> td >> nth=0"), cells.nth(1).bounding_box()
    assert abs(first["y"] - second["y"]) < 2 and second["x"] > first["x"]  # a row of cells

    sentence = page.locator(".prose p", has_text="Given a data point").first
    formulas = sentence.locator(".math-inline math")
    assert formulas.count() == 2
    line = sentence.bounding_box()
    formula = formulas.first.bounding_box()
    assert formula["height"] < 40 and line["y"] <= formula["y"] <= line["y"] + line["height"]
    assert sentence.locator(".math-display").count() == 0

    text = page.locator("article.post").inner_text()
    for syntax in ("{:", "{%", "relative_url", "<table", "$$", "<!--more"):
        assert syntax not in text.replace("{% include footer.html %}", ""), syntax
    assert page.js_errors == []


def test_an_old_anchor_from_outside_lands_on_its_heading(page, migrated):
    page.goto(migrated + "#what-are-diffusion-models")
    page.wait_for_function("() => window.scrollY > 0")
    heading = box(page, "#h-what-are-diffusion-models")
    assert 0 <= heading["y"] < 200  # scrolled to the top of the window
