"""An author's images and footnotes as a reader gets them: captioned figures with sizes that
keep the page still while loading, smaller copies for phones, and footnotes as margin notes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image

from notes.images import variant_path
from notes.rendering import render_markdown
from tests.factories import make_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "uploads").mkdir()
    return tmp_path


def picture(media: Path, name: str, size: tuple[int, int]) -> str:
    Image.new("RGB", size, (200, 80, 40)).save(media / "uploads" / name)
    return f"/media/uploads/{name}"


def images_in(html: str) -> list[dict[str, str]]:
    return [dict(re.findall(r'(\w+)="([^"]*)"', tag)) for tag in re.findall(r"<img [^>]*>", html)]


class TestFigures:
    def test_a_titled_image_is_a_figure_with_its_caption(self):
        html = render_markdown('![A plot](https://example.org/p.png "Loss over steps")').html
        assert re.search(
            r'<figure class="figure">\s*<img src="https://example.org/p.png" alt="A plot">'
            r"\s*<figcaption>Loss over steps</figcaption>\s*</figure>",
            html,
        )

    @pytest.mark.parametrize(
        "text",
        [
            "![A plot](https://example.org/p.png)\n*The loss, $L$, falls.*",
            "![A plot](https://example.org/p.png)\n\n*The loss, $L$, falls.*",
        ],
        ids=["same paragraph", "next paragraph"],
    )
    def test_an_italic_line_after_an_image_is_its_caption(self, text):
        html = render_markdown(text).html
        caption = re.search(r"<figcaption>(.*?)</figcaption>", html, re.DOTALL).group(1)
        assert caption.startswith("The loss, ") and "<math" in caption
        assert "<em>" not in html and "<p>" not in html

    def test_an_image_in_a_sentence_stays_inline(self):
        html = render_markdown('Look: ![x](https://example.org/p.png "t") here.').html
        assert "<figure" not in html and 'title="t"' in html

    def test_widths_in_pixels_and_percent(self):
        html = render_markdown(
            "![Narrow|300](https://example.org/a.png)\n\n![Half|48%](https://example.org/b.png)"
        ).html
        narrow, half = images_in(html)
        assert narrow["alt"] == "Narrow" and narrow["width"] == "300"
        # Percentages round to tens, as a class: the CSP allows no style attribute.
        assert half["alt"] == "Half" and half["class"] == "w-50"
        assert "style" not in html

    def test_local_images_carry_their_size_and_lazy_load_after_the_first(self, media):
        first = picture(media, "first.png", (400, 300))
        second = picture(media, "second.png", (200, 100))
        post = make_post(body=f"![one]({first})\n\n![two|100]({second})\n\n![three]({first})")
        one, two, three = images_in(post.body_html)
        assert (one["width"], one["height"]) == ("400", "300") and "loading" not in one
        assert (two["width"], two["height"]) == ("100", "50") and two["loading"] == "lazy"
        assert three["loading"] == "lazy"

    def test_wide_images_get_smaller_copies_made_once(self, media):
        src = picture(media, "wide.jpg", (1600, 800))
        post = make_post(body=f'![wide]({src} "A wide figure")')
        [image] = images_in(post.body_html)
        assert image["srcset"] == (
            "/media/uploads/wide.w480.jpg 480w, /media/uploads/wide.w960.jpg 960w, "
            "/media/uploads/wide.jpg 1600w"
        )
        copy = variant_path(media / "uploads" / "wide.jpg", 480)
        with Image.open(copy) as made:
            assert made.size == (480, 240)
        stamp = copy.stat().st_mtime_ns
        make_post(body=f"![again]({src})")
        assert copy.stat().st_mtime_ns == stamp

    def test_a_missing_local_file_still_renders(self, media):
        post = make_post(body="![gone](/media/uploads/gone.png)")
        [image] = images_in(post.body_html)
        assert image["src"] == "/media/uploads/gone.png" and "width" not in image


class TestSidenotes:
    def test_each_reference_carries_its_note_and_the_list_stays(self):
        html = render_markdown(
            "A claim.[^a] Another.[^b]\n\n[^a]: The *source* of $x$.\n[^b]: Second note."
        ).html
        # Right after each reference, in the same line of text: the margin copy.
        assert (
            '<a href="#fn-1" id="fnref-1">[1]</a></sup><span class="sidenote" aria-hidden="true">'
            '<span class="sidenote-number">1</span> The <em>source</em> of <span class="math'
        ) in html
        assert (
            '<a href="#fn-2" id="fnref-2">[2]</a></sup><span class="sidenote" aria-hidden="true">'
            '<span class="sidenote-number">2</span> Second note.</span></p>'
        ) in html
        assert '<li id="fn-1" class="footnote-item">' in html
