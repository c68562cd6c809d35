"""Citations in a real browser: the full reference on hover and on keyboard focus (CSS only),
a click that lands on the entry in References, and a reference page, under the strict CSP."""

import pytest

from notes.bibliography.importing import import_bibtex_file
from tests.factories import make_post
from tests.test_bibliography import MESSY

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def citing_post(db):
    import_bibtex_file(MESSY)
    return make_post(
        "Diffusion reading notes",
        body="Sampling follows @ho2020, refined later [@song2021; @ho2020, p. 4].\n",
    )


def test_a_citation_shows_its_reference_and_leads_to_it(page, citing_post, csp_violations):
    page.goto(citing_post.get_absolute_url())
    citation = page.locator("a.cite-ref").first
    assert citation.inner_text() == "Ho et al. (2020)"
    # Hover: the browser's own tooltip, from the title.
    assert citation.get_attribute("title").startswith("Ho, J., Jain, A., & Abbeel, P. (2020).")

    # Keyboard focus: the same text drawn by CSS, below the citation.
    page.keyboard.press("Tab")
    citation.focus()
    shown = page.evaluate(
        "getComputedStyle(document.querySelector('a.cite-ref'), '::after').content"
    )
    assert shown.startswith('"Ho, J., Jain, A., & Abbeel, P. (2020).')

    citation.click()
    assert page.url.endswith("#ref-ho2020")
    entry = page.locator("#ref-ho2020")
    assert entry.is_visible() and "Denoising Diffusion Probabilistic Models" in entry.inner_text()
    box = entry.bounding_box()
    assert 0 <= box["y"] < page.viewport_size["height"]  # scrolled into view

    page.goto("/references/ho2020/")
    assert "Diffusion reading notes" in page.locator("#cited-by").locator("..").inner_text()
    assert csp_violations == [] and page.js_errors == []
