"""The two math designs of issue 14, measured in Chromium on the derivation fixture.

1. KaTeX's HTML (what kb stores), drawn by KaTeX's stylesheet and the generated layout classes.
2. MathML as kb stored it before: KaTeX's MathML output, drawn by Chromium's MathML layout with
   the Latin Modern Math font.

For each it prints how far apart the aligned relation signs of a derivation fall (px, worst
row), the gap after log/cos/sin (em, smallest) and how high primes rise (em). The scripts are
the browser tests' own (tests/e2e/test_reading_math.py).

    .venv/bin/python bench/math_layout.py [--font path/to/latinmodern-math.woff2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kb.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")

import django  # noqa: E402

django.setup()

from playwright.sync_api import sync_playwright  # noqa: E402

from notes.rendering import render_markdown  # noqa: E402
from notes.rendering.typesetting import mathml_only  # noqa: E402
from tests.e2e.test_reading_math import (  # noqa: E402
    DERIVATIONS,
    OPERATOR_GAPS,
    PREAMBLE,
    PRIME_RISES,
    RELATION_COLUMNS,
)

PAGE = """<!doctype html><meta charset="utf-8"><title>{title}</title>
<style>body {{ max-width: 42rem; margin: 2rem auto; font: 18px/1.6 serif; }}
.math-display {{ display: block; overflow-x: auto; }} {extra}</style>
{links}<body><main class="prose">{body}</main></body>"""


def katex_page(folder: Path) -> Path:
    rendered = render_markdown(DERIVATIONS, math_preamble=PREAMBLE)
    (folder / "layout.css").write_text(rendered.math_css)
    katex = ROOT / "static" / "katex" / "katex.css"
    links = (
        f'<link rel="stylesheet" href="{katex.as_uri()}"><link rel="stylesheet" href="layout.css">'
    )
    page = folder / "katex.html"
    page.write_text(PAGE.format(title="KaTeX HTML", extra="", links=links, body=rendered.html))
    return page


def mathml_page(folder: Path, font: Path | None) -> Path:
    """The same stored formulas with only their MathML kept (as the feeds carry them): the
    output kb stored before, laid out by Chromium's MathML engine."""
    rendered = render_markdown(DERIVATIONS, math_preamble=PREAMBLE)
    face = ""
    if font is not None:
        face = (
            f'@font-face {{ font-family: LMM; src: url("{font.as_uri()}"); }}'
            " math { font-family: LMM, math; }"
        )
    page = folder / "mathml.html"
    page.write_text(
        PAGE.format(title="MathML", extra=face, links="", body=mathml_only(rendered.html))
    )
    return page


def measure(page, url: str, drawn: str) -> dict[str, float]:
    page.goto(url)
    page.evaluate("document.fonts.ready")
    columns = page.evaluate(RELATION_COLUMNS, drawn)
    gaps = page.evaluate(OPERATOR_GAPS, drawn)
    primes = page.evaluate(PRIME_RISES, drawn)
    spreads = [max(c["xs"]) - min(c["xs"]) for c in columns if c["xs"]]
    return {
        "derivations": len(columns),
        "aligned (within 1 px)": sum(spread <= 1 for spread in spreads),
        "worst spread px": max(spreads, default=0),
        "spreads px": ", ".join(f"{spread:.0f}" for spread in spreads),
        "smallest operator gap em": min((g["gap"] for g in gaps), default=0),
        "operator gaps >= 0.12 em": f"{sum(g['gap'] >= 0.12 for g in gaps)}/{len(gaps)}",
        "prime rise em": max(primes, default=0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--font", type=Path, help="an OpenType math font for the MathML page")
    args = parser.parse_args()
    font = args.font
    if font is None:
        # The font kb shipped for MathML, from the history, if it is there.
        found = subprocess.run(
            ["git", "show", "3ee1bfa:static/fonts/latinmodern-math.woff2"],
            cwd=ROOT,
            capture_output=True,
        )
        if found.returncode == 0:
            font = Path(tempfile.mkdtemp()) / "latinmodern-math.woff2"
            font.write_bytes(found.stdout)
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox"]
        )
        page = browser.new_page(viewport={"width": 1000, "height": 900})
        katex, mathml = katex_page(Path(folder)), mathml_page(Path(folder), font)
        results = {
            "1. KaTeX HTML + generated classes": measure(page, katex.as_uri(), ".katex-html"),
            "2. MathML (Chromium's layout)": measure(page, mathml.as_uri(), "math"),
        }
        browser.close()
    for name, figures in results.items():
        print(name)
        for key, value in figures.items():
            print(f"  {key}: {value if isinstance(value, str) else round(value, 3)}")


if __name__ == "__main__":
    main()
