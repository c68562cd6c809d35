"""An author writes every day in the admin: source beside the reader's view, keys for saving
and publishing, `[[` completion, pasted images, one tag field, and a name readers see."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from PIL import Image

from notes.models import Post, Tag
from tests.e2e.helpers import log_in, make_admin, wait_until
from tests.factories import make_post

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = os.environ.get("KB_E2E_SHOTS")  # a folder: save screenshots there to look at
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
PASTE_PNG = """bytes => {
    const file = new File([new Uint8Array(bytes)], "figure.png", {type: "image/png"});
    const data = new DataTransfer();
    data.items.add(file);
    const editor = document.querySelector("#id_body");
    editor.focus();
    editor.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true,
                                                      cancelable: true}));
}"""


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"))


def figure_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def preview(page):
    return page.frame_locator(".kb-editor-preview")


class Steps:
    """What the author does, one entry per action, so the journey's length is asserted."""

    def __init__(self) -> None:
        self.done: list[str] = []

    def __call__(self, what: str) -> None:
        self.done.append(what)


@pytest.fixture
def author(db):
    return make_admin()


def test_an_author_writes_links_illustrates_and_publishes_in_ten_steps(
    page, new_context, author, csp_violations, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    settings.KB_SERVE_MEDIA = True
    make_post("Counting attention", slug="counting-attention", days_ago=2)
    log_in(page)
    page.goto("/admin/notes/post/")
    step = Steps()

    step("open the editor")
    page.click("a.addlink")
    page.wait_for_url(re.compile(r"/admin/notes/post/add/$"))
    step("type the title")
    page.locator("#id_title").press_sequentially("Quadrature by hand")
    step("type the body")
    page.locator("#id_body").fill(
        "An exercise.\n\n## The integral\n\n$$\\int_0^1 x^2\\,dx = \\frac{1}{3}$$\n\n"
        "```python\ndef area(n):\n    return sum((i / n) ** 2 for i in range(n)) / n\n```\n\n"
        "The same bookkeeping as in "
    )
    step("type [[ and a few letters")
    page.locator("#id_body").press("End")
    page.keyboard.type("[[count")
    option = page.locator(".kb-complete [role=option]", has_text="Counting attention")
    option.wait_for()
    assert page.locator("#id_body").get_attribute("aria-activedescendant") == "kb-complete-0"
    step("press Enter to take the first match")
    page.keyboard.press("Enter")
    assert page.input_value("#id_body").endswith("[[counting-attention|Counting attention]]")
    page.keyboard.type(".\n\n")
    step("paste an image")
    page.evaluate(PASTE_PNG, list(figure_png()))
    wait_until(page, "() => document.querySelector('#id_body').value.includes('/media/uploads/')")
    assert re.search(
        r"!\[\]\(/media/uploads/[\d/]+[0-9a-f]{32}\.png\)", page.input_value("#id_body")
    )
    assert "Image uploaded." in page.locator(".kb-editor-status").inner_text()

    # Beside the source, the reader's view: typeset math, highlighted code, the link, the image.
    frame = preview(page)
    frame.locator(".prose img").wait_for()
    frame.locator(".prose .math-display math").wait_for()
    assert frame.locator(".prose pre span.k", has_text="def").count() == 1
    assert frame.locator(".prose a.wikilink").get_attribute("href") == "/posts/counting-attention/"
    assert frame.locator("#preview-title").inner_text() == "Quadrature by hand"
    shot(page, "journey-written")

    step("press Ctrl+S")
    page.keyboard.press("Control+s")
    page.wait_for_url(re.compile(r"/admin/notes/post/\d+/change/$"))
    post = Post.objects.get(slug="quadrature-by-hand")
    assert post.status == Post.Status.DRAFT and post.published_at is None
    assert page.locator(".kb-save-state").inner_text() == "Saved"
    assert "Saved the draft “Quadrature by hand”" in page.locator(".messagelist").inner_text()
    # Back where the author was typing: the caret at the end of the text.
    assert page.evaluate("document.activeElement.id") == "id_body"
    assert page.evaluate("document.activeElement.selectionStart") == len(
        page.input_value("#id_body")
    )

    step("click Publish in the action bar")
    page.once("dialog", lambda dialog: (step("confirm"), dialog.accept()))
    page.locator(".kb-action-bar button", has_text="Publish").click()
    page.wait_for_load_state("load")
    page.locator(".messagelist a", has_text="see it on the site").wait_for()
    post.refresh_from_db()
    assert post.status == Post.Status.PUBLISHED and post.published_at is not None

    step("follow the message's link to the live post")
    page.locator(".messagelist a", has_text="see it on the site").click()
    page.wait_for_url(f"**{post.get_absolute_url()}")
    assert len(step.done) <= 10, step.done

    anonymous = new_context("anonymous").new_page()
    assert anonymous.goto(post.get_absolute_url()).status == 200
    prose = anonymous.locator(".prose")
    prose.locator(".math-display math").wait_for()
    assert prose.locator("a.wikilink").get_attribute("href") == "/posts/counting-attention/"
    assert prose.locator("pre span.k", has_text="def").count() == 1
    assert prose.locator("img").evaluate("img => img.complete && img.naturalWidth") == 40
    assert csp_violations == []
    assert page.js_errors == []


def long_body(sections: int = 30) -> str:
    """Short lines, and a long paragraph on one line that the source wraps, in each section."""
    lines = "A line of prose that stays short.\n" * 6
    wrapped = "A paragraph written on one line, as most people write prose, " * 9
    return "\n".join(f"## Section {n}\n\n{lines}\n{wrapped}\n" for n in range(1, sections + 1))


# Where the browser itself puts a character of the source: a copy of the textarea's text up
# to it, laid out in a div with the textarea's font, width and wrapping (the test's own
# measurement, independent of the editor's arithmetic).
SOURCE_TOP = """([offset]) => {
    const area = document.querySelector('#id_body');
    const style = getComputedStyle(area);
    const copy = document.createElement('div');
    for (const p of ['font', 'padding', 'border', 'boxSizing', 'whiteSpace', 'overflowWrap',
                     'wordBreak', 'letterSpacing', 'tabSize']) copy.style[p] = style[p];
    copy.style.width = area.clientWidth + 'px';
    copy.style.position = 'absolute';
    copy.style.visibility = 'hidden';
    copy.textContent = area.value.slice(0, offset);
    const mark = document.createElement('span');
    mark.textContent = 'x';
    copy.appendChild(mark);
    document.body.appendChild(copy);
    const top = mark.offsetTop;
    copy.remove();
    return top;
}"""


def heading_top_in_preview(page, text: str) -> float:
    return (
        page.frame_locator(".kb-editor-preview")
        .locator("h2", has_text=text)
        .evaluate("h => h.getBoundingClientRect().top")
    )


def test_the_preview_stays_beside_the_source_and_follows_it_on_a_long_post(page, author):
    post = make_post("A long one", body=long_body(), author=author)
    log_in(page)
    page.goto(f"/admin/notes/post/{post.pk}/change/")
    frame = preview(page)
    frame.locator("h2", has_text="Section 30").wait_for()
    source = page.locator("#id_body").bounding_box()
    shown = page.locator(".kb-editor-preview").bounding_box()
    assert shown["x"] >= source["x"] + source["width"]  # beside, not under
    assert abs(shown["y"] - source["y"]) < 4 and abs(shown["height"] - source["height"]) < 4
    assert source["height"] > 0.6 * 900  # both fill most of the window
    assert page.locator(".kb-action-bar").bounding_box()["y"] < 900  # the bar is in view
    shot(page, "long-top")

    text = page.input_value("#id_body")

    def scroll_source_to(offset: int) -> None:
        page.evaluate(
            "([top]) => { const t = document.querySelector('#id_body'); t.scrollTop = top;"
            " t.dispatchEvent(new Event('scroll')); }",
            [page.evaluate(SOURCE_TOP, [offset])],
        )
        page.wait_for_timeout(150)

    for n in (12, 25):
        scroll_source_to(text.index(f"## Section {n}\n"))
        # The heading at the top of the source is at the top of the preview.
        assert -12 <= heading_top_in_preview(page, f"Section {n}") <= 40, n
    shot(page, "long-scrolled")
    # Halfway between two headings in the source, the preview is between them too.
    scroll_source_to((text.index("## Section 25\n") + text.index("## Section 26\n")) // 2)
    assert (
        heading_top_in_preview(page, "Section 25") < 0 < heading_top_in_preview(page, "Section 26")
    )


def test_below_1000_pixels_write_and_preview_take_turns(new_context, author):
    page = new_context("narrow", viewport={"width": 800, "height": 900}).new_page()
    log_in(page)
    page.goto("/admin/notes/post/add/")
    page.fill("#id_body", "Some *emphasis*.")
    assert page.locator(".kb-editor-preview").is_hidden()
    page.click("button.kb-show-preview")
    preview(page).locator("em", has_text="emphasis").wait_for()
    assert page.locator("#id_body").is_hidden()
    page.click("button.kb-show-source")
    assert page.locator("#id_body").is_visible()


def test_one_tag_field_completes_existing_tags_and_creates_new_ones(page, author):
    Tag.objects.create(name="diffusion")
    log_in(page)
    page.goto("/admin/notes/post/add/")
    page.fill("#id_title", "Tagged")
    page.fill("#id_body", "Text.")
    field = page.locator(".field-tags .select2-search__field")
    field.click()
    page.keyboard.type("diffu")
    page.locator(".select2-results__option", has_text="diffusion").first.wait_for()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.keyboard.type("score matching")
    page.locator(".select2-results__option", has_text="score matching").wait_for()
    shot(page, "tags")
    page.keyboard.press("Enter")
    page.keyboard.press("Control+s")
    page.wait_for_url(re.compile(r"/admin/notes/post/\d+/change/$"))
    post = Post.objects.get(title="Tagged")
    assert sorted(post.tags.values_list("name", flat=True)) == ["diffusion", "score matching"]
    assert Tag.objects.count() == 2
    chosen = page.locator(".field-tags .select2-selection__choice").all_inner_texts()
    assert sorted(c.strip("\u00d7").strip() for c in chosen) == ["diffusion", "score matching"]


def test_the_author_gives_a_name_and_readers_see_it_in_the_byline_and_bibtex(
    page, new_context, author
):
    log_in(page)
    page.goto("/admin/notes/post/add/")
    page.click("text=Give your name")
    page.fill("#id_display_name", "Ada Lovelace")
    page.click("input[name=_save]")
    page.goto("/admin/notes/post/add/")
    assert page.locator(".kb-author-note").count() == 0
    page.fill("#id_title", "Named")
    page.fill("#id_body", "Text.")
    page.once("dialog", lambda dialog: dialog.accept())
    page.keyboard.press("Control+Enter")
    page.locator(".messagelist a", has_text="see it on the site").wait_for()

    reader = new_context("reader").new_page()
    reader.goto(Post.objects.get(title="Named").get_absolute_url())
    assert reader.locator(".post-header .author").inner_text() == "Ada Lovelace"
    assert reader.locator(".citation .cite-as").inner_text().startswith("Ada Lovelace. (")
    bibtex = reader.locator(".citation pre.bibtex").inner_text()
    assert re.search(r"author\s+= \{Ada Lovelace\}", bibtex), bibtex
    assert "@misc{lovelace2" in bibtex


@pytest.mark.parametrize("where", ["add", "change"])
def test_axe_finds_nothing_of_kbs_making_on_the_editor(new_context, author, where):
    # The policy would refuse axe's injected script; this context alone is let through.
    page = new_context("axe", bypass_csp=True).new_page()
    post = make_post("Checked", body="## A heading\n\nSome $x^2$ text.", author=author)
    log_in(page)
    page.goto(
        "/admin/notes/post/add/" if where == "add" else f"/admin/notes/post/{post.pk}/change/"
    )
    page.wait_for_load_state("load")
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))"
    )
    ours = [v for v in found if not all(_django_own(n) for n in v["nodes"])]
    assert ours == [], ours


def _django_own(selector: str) -> bool:
    """Parts of the page Django's admin or select2 draw, not kb's templates: select2's
    comboboxes, the split date-time widget's unlabelled time box, the inlines' table cells."""
    return any(
        part in selector
        for part in (
            ".select2",
            "#select2-",
            "select2-id_",
            "#id_published_at_0",
            "#id_published_at_1",
            "#id_outgoing_links-",
            "> .original",
            "#id_update_notes-",
            "#nav-filter",
        )
    )


def test_lists_continue_indent_and_end_and_ctrl_k_makes_a_link(page, author):
    log_in(page)
    page.goto("/admin/notes/post/add/")
    body = page.locator("#id_body")
    body.click()
    page.keyboard.type("- one")
    page.keyboard.press("Enter")
    assert page.input_value("#id_body") == "- one\n- "
    page.keyboard.press("Tab")
    page.keyboard.type("nested")
    assert page.input_value("#id_body") == "- one\n  - nested"
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # Enter on an empty item ends the list
    assert page.input_value("#id_body") == "- one\n- nested\n"
    page.keyboard.type("1. first")
    page.keyboard.press("Enter")
    assert page.input_value("#id_body").endswith("1. first\n2. ")
    page.keyboard.press("Enter")
    page.keyboard.type("see kb")
    page.keyboard.press("Shift+Home")
    page.keyboard.press("Control+k")
    page.keyboard.type("https://example.org")
    assert page.input_value("#id_body").endswith("[see kb](https://example.org)")
    # Outside a list, Tab leaves the field as usual: the keyboard is never trapped.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") != "id_body"
