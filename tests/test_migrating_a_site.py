"""Moving a blog into kb: a Jekyll site, a Hugo site and an Obsidian vault imported from their
root, translated into kb's Markdown, reported line by line, with old addresses kept working."""

from __future__ import annotations

import datetime
import io
import re
import shutil
import time
import zipfile
from datetime import UTC
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from notes import services
from notes.exporters import export_to_directory
from notes.importing import InvalidImport, import_feed, import_markdown
from notes.models import Link, Post, Redirect
from notes.rendering import markdownify, render_markdown
from notes.views import admin_import
from tests.factories import make_post, make_user
from tests.test_import_export import empty_the_database

SITES = Path(__file__).parent / "fixtures" / "sites"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.KB_PAGE_CACHE_SECONDS = 0
    return settings.MEDIA_ROOT


@pytest.fixture
def author(db):
    return make_user("importer", first_name="Ida", last_name="Porter")


@pytest.fixture
def ada(db):
    """The Jekyll site's `author: Ada Lovelace` has an account here, found by full name."""
    return make_user("ada", first_name="Ada", last_name="Lovelace")


def lines(report) -> list[str]:
    return [str(problem) for problem in report.warnings]


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


class TestJekyll:
    @pytest.fixture
    def report(self, author, ada):
        return import_markdown([SITES / "jekyll"], author=author)

    def test_the_posts_and_drafts_come_in_but_not_pages_layouts_or_the_readme(self, report):
        assert sorted(report.created) == [
            "diffusion-models",
            "policy-gradient-algorithms",
            "scaling-laws",
        ]
        assert report.site == "jekyll"
        draft = Post.objects.get(slug="scaling-laws")
        assert draft.status == Post.Status.DRAFT  # from _drafts/
        post = Post.objects.get(slug="diffusion-models")
        assert post.title == "What are Diffusion Models?"
        assert post.published_at == datetime.datetime(2021, 7, 11, 12, 0, tzinfo=UTC)

    def test_space_separated_tags_and_categories_and_no_colour_or_anchor_tags(self, report):
        diffusion = Post.objects.get(slug="diffusion-models")
        policy = Post.objects.get(slug="policy-gradient-algorithms")
        assert sorted(t.name for t in diffusion.tags.all()) == ["generative-model", "math-heavy"]
        assert sorted(t.name for t in policy.tags.all()) == [
            "long-read",
            "reinforcement-learning",
            "rl",
        ]

    def test_the_sites_author_is_matched_to_an_account_by_full_name(self, report, ada):
        assert Post.objects.get(slug="diffusion-models").author == ada

    def test_nothing_of_the_source_syntax_is_left_in_the_body(self, report):
        body = Post.objects.get(slug="diffusion-models").body
        for syntax in ("{:", "{%", "* TOC", "relative_url", "site.baseurl", "<!--more-->"):
            assert syntax not in body.replace("{% include footer.html %}", "")
        assert "[Updated on" not in body and "<iframe" not in body

    def test_images_are_copied_and_the_figure_has_its_size_and_caption(self, report):
        html = Post.objects.get(slug="diffusion-models").body_html
        # 80% of the column, as the kramdown IAL said; captioned by the next paragraph.
        assert re.search(
            r'<figure class="figure w-80">\s*<img src="/media/imports/[^"]+" '
            r'alt="Forward diffusion"[^>]*><figcaption>Fig. 1. The Markov chain',
            html,
        )
        assert '(Image source: <a href="https://arxiv.org/abs/2006.11239"' in html
        policy = Post.objects.get(slug="policy-gradient-algorithms").body_html
        assert re.search(r'<img [^>]*alt="REINFORCE"[^>]* class="w-50"', policy)

    def test_post_url_and_link_become_cross_links_with_their_anchor(self, report):
        diffusion = Post.objects.get(slug="diffusion-models")
        policy = Post.objects.get(slug="policy-gradient-algorithms")
        assert Link.objects.filter(source=diffusion, target=policy, from_wikilink=True).exists()
        assert '<a class="wikilink" href="/posts/policy-gradient-algorithms/#h-reinforce">' in (
            diffusion.body_html
        )
        assert 'id="h-reinforce"' in policy.body_html  # where the anchor lands
        assert '">whole post</a>' in diffusion.body_html

    def test_highlight_blocks_are_code_and_their_comments_no_headings(self, report):
        html = Post.objects.get(slug="diffusion-models").body_html
        assert '<pre class="highlight" data-lang="python">' in html
        assert "<h1" not in html and "sample pure noise first" in html

    def test_inline_dollars_stay_in_the_sentence_and_a_block_stays_display(self, report):
        post = Post.objects.get(slug="diffusion-models")
        assert "distribution $\\mathbf{x}_0 \\sim q(\\mathbf{x})$, let us" in post.body
        sentence = post.body_html.split("Given a data point")[1].split("</p>")[0]
        assert sentence.count('class="math math-inline"') == 2
        assert "math-display" not in sentence
        assert post.body_html.count('<div class="math math-display"') == 1

    def test_raw_html_table_is_live_and_update_notes_are_data(self, report):
        post = Post.objects.get(slug="diffusion-models")
        assert "<td>NCSN</td>" in post.body_html and "&lt;table" not in post.body_html
        assert sorted((n.date, n.text) for n in post.update_notes.all()) == [
            (
                datetime.date(2021, 9, 19),
                "Highly recommend this blog post on score-based generative modeling "
                "(https://yang-song.github.io/blog/2021/score/) by Yang Song.",
            ),
            (datetime.date(2022, 8, 27), "Added classifier-free guidance."),
        ]

    def test_the_excerpt_separator_ends_the_summary(self, report):
        post = Post.objects.get(slug="diffusion-models")
        assert post.summary == "Diffusion models are inspired by non-equilibrium thermodynamics."
        assert "more--" not in post.body_html

    def test_in_page_anchors_keep_landing(self, report):
        html = Post.objects.get(slug="diffusion-models").body_html
        assert '<a href="#h-reverse-diffusion-process">below</a>' in html
        assert '<span data-anchor="forward-diffusion-process"></span><h3' in html
        assert '<a data-anchor="reverse"></a>' in html  # <a name="reverse">

    def test_a_youtube_iframe_becomes_a_link_to_the_video(self, report):
        html = Post.objects.get(slug="diffusion-models").body_html
        assert (
            '<a href="https://www.youtube.com/watch?v=fbLgFrlTnGU" rel="noopener">'
            "▶ Diffusion models explained</a>"
        ) in html

    def test_the_report_names_each_construct_left_behind_by_file_and_line(self, report):
        diffusion = "_posts/2021-07-11-diffusion-models.md"
        assert lines(report) == [
            "_posts/2018-04-08-policy-gradient-algorithms.md:31: HTML <center> is not kept live; "
            "it shows as text",
            f"{diffusion}:66: Liquid '{{% include footer.html %}}' has no kb equivalent; "
            "left as text",
            f"{diffusion}:68: /assets/images/logo.svg: SVG files are refused "
            "(they can carry scripts)",
            f"{diffusion}:69: /assets/images/nowhere.png: file not found",
        ]
        totals = report.totals()
        assert totals.startswith("Jekyll site: 3 posts, ")
        for part in ("5 formulas", "2 images", "2 links", "2 update notes", "1 figure captions"):
            assert part in totals

    def test_old_permalinks_under_the_baseurl_redirect_to_the_post(self, report, client):
        response = client.get("/blog/2021/07/11/diffusion-models.html")
        assert response.status_code == 301
        assert response["Location"] == "/posts/diffusion-models/"
        assert client.get("/blog/2018/04/08/policy-gradient-algorithms.html").status_code == 301
        # A draft's old address stays a 404 until the draft is published.
        assert not Redirect.objects.filter(post__slug="scaling-laws", old_path__contains="20")

    def test_export_then_import_then_export_is_byte_identical(self, report, tmp_path):
        export_to_directory(tmp_path / "first")
        authors = set(Post.objects.values_list("author__username", flat=True))
        empty_the_database()
        for username in authors:
            make_user(username)
        again = import_markdown([tmp_path / "first"], author=None)
        export_to_directory(tmp_path / "second")
        assert len(again.created) == 3
        assert files_of(tmp_path / "first") == files_of(tmp_path / "second")

    def test_importing_the_site_again_changes_nothing(self, report, author, ada):
        again = import_markdown([SITES / "jekyll"], author=author)
        assert sorted(again.unchanged) == sorted(report.created)


class TestHugo:
    @pytest.fixture
    def report(self, author):
        return import_markdown([SITES / "hugo"], author=author)

    def test_content_pages_and_bundles_come_in_but_not_section_lists(self, report):
        assert sorted(report.created) == ["attention-sinks", "rope"]
        sinks = Post.objects.get(slug="attention-sinks")
        assert sinks.published_at == datetime.datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
        assert sinks.updated_at == datetime.datetime(2024, 3, 5, 8, 0, tzinfo=UTC)
        assert sorted(t.name for t in sinks.tags.all()) == ["inference", "notes", "transformers"]
        assert sinks.series.title == "Transformer details"
        assert (
            sinks.summary == "The first token soaks up attention mass even when it means nothing."
        )

    def test_figure_shortcode_with_a_bundle_resource_and_a_static_image(self, report):
        html = Post.objects.get(slug="attention-sinks").body_html
        assert re.search(
            r'<figure class="figure w-60">\s*<img [^>]*alt="A bar chart"[^>]*>'
            r"<figcaption>Attention mass on the first token",
            html,
        )
        assert html.count('src="/media/imports/') == 2  # sink.png beside it, /images/rope.png

    def test_ref_and_relref_become_cross_links(self, report):
        sinks = Post.objects.get(slug="attention-sinks")
        rope = Post.objects.get(slug="rope")
        assert Link.objects.filter(source=sinks, target=rope, from_wikilink=True).exists()
        assert 'href="/posts/rope/#h-frequencies">the RoPE note</a>' in sinks.body_html

    def test_highlight_and_youtube_translate_and_unknown_shortcodes_are_reported(self, report):
        html = Post.objects.get(slug="attention-sinks").body_html
        assert '<pre class="highlight" data-lang="go">' in html
        assert 'href="https://www.youtube.com/watch?v=dQw4w9WgXcQ"' in html
        assert "{{&lt; tweet" in html  # left visible
        assert lines(report) == [
            "content/posts/attention-sinks/index.md:30: Hugo shortcode "
            '\'{{< tweet user="someone" id="1234567890" >}}\' has no kb equivalent; left as text',
            "content/posts/rope.md:12: Hugo shortcode '{{% notice info %}}' has no kb "
            "equivalent; left as text",
            "content/posts/rope.md:14: Hugo shortcode '{{% /notice %}}' has no kb equivalent; "
            "left as text",
        ]

    def test_aliases_and_section_paths_redirect(self, report, client):
        for old in (
            "/2024/03/attention-sinks/",
            "/old/sinks.html",
            "/notes/posts/attention-sinks/",
        ):
            response = client.get(old)
            assert (response.status_code, response["Location"]) == (301, "/posts/attention-sinks/")
        assert client.get("/notes/posts/rope/")["Location"] == "/posts/rope/"

    def test_export_round_trip_is_byte_identical(self, report, tmp_path, author):
        export_to_directory(tmp_path / "first")
        empty_the_database()
        owner = make_user("importer")
        import_markdown([tmp_path / "first"], author=owner)
        export_to_directory(tmp_path / "second")
        assert files_of(tmp_path / "first") == files_of(tmp_path / "second")


class TestObsidian:
    @pytest.fixture
    def report(self, author):
        return import_markdown([SITES / "obsidian"], author=author)

    def test_notes_come_in_under_their_file_names(self, report):
        assert sorted(report.created) == ["dense-attention", "longformer-paper", "sparse-attention"]
        assert Post.objects.get(slug="dense-attention").title == "Dense attention"
        sparse = Post.objects.get(slug="sparse-attention")
        assert sparse.published_at == datetime.datetime(2023, 5, 2, tzinfo=UTC)  # `created`

    def test_nested_inline_tags_but_never_colours_anchors_or_code(self, report):
        sparse = Post.objects.get(slug="sparse-attention")
        assert sorted(t.name for t in sparse.tags.all()) == [
            "efficiency/memory",
            "ml",
            "transformers",
        ]
        paper = Post.objects.get(slug="longformer-paper")
        assert sorted(t.name for t in paper.tags.all()) == ["paper", "transformers/long-context"]

    def test_sized_image_embeds_heading_links_labels_callouts_and_highlights(self, report):
        html = Post.objects.get(slug="sparse-attention").body_html
        # |300 asks for 300 px; the fixture's file is 64 px wide, and images are never upscaled.
        assert re.search(r'<img [^>]*alt="grid" width="64" height="32"', html)
        assert "|300" not in html
        assert (
            '<a class="wikilink" href="/posts/dense-attention/#h-cost">Dense attention</a>' in html
        )
        assert ">the dense note</a>" in html
        assert '<div class="markdown-alert markdown-alert-warning">' in html
        assert "<strong>Mind the cost</strong>" in html
        assert '<div class="markdown-alert markdown-alert-tip">' in html  # [!faq]
        assert "<mark>only local and a few global tokens</mark>" in html
        assert "Longformer numbers" not in html  # %%comments%% are private
        assert '<a href="#h-cost">below</a>' not in html  # another note's heading: left alone

    def test_a_note_embed_becomes_a_link_and_is_reported(self, report):
        assert lines(report) == [
            "Reading/Longformer paper.md:3: missing.png: file not found",
            "Sparse attention.md:25: the embedded note 'Dense attention' is shown as a link",
        ]

    def test_an_alias_resolves_a_link(self, report):
        dense = Post.objects.get(slug="dense-attention")
        assert 'href="/posts/sparse-attention/">BigBird</a>' in dense.body_html


class TestSafetyOfTheImporter:
    def test_a_yaml_alias_bomb_is_refused_within_a_second(self, author, tmp_path):
        levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
        for n in range(1, 9):
            previous = chr(ord("a") + n - 1)
            levels.append(
                f"{chr(ord('a') + n)}: &{chr(ord('a') + n)} ["
                + f"*{previous}, " * 9
                + f"*{previous}]"
            )
        (tmp_path / "bomb.md").write_text("---\n" + "\n".join(levels) + "\n---\nBody.\n")
        started = time.perf_counter()
        with pytest.raises(InvalidImport) as refused:
            import_markdown([tmp_path], author=author)
        assert time.perf_counter() - started < 1.0
        assert str(refused.value.problems[0]).startswith("bomb.md:2: the front matter expands")
        assert not Post.objects.exists()

    def test_a_markdown_symlink_out_of_the_folder_is_skipped_and_reported(self, author, tmp_path):
        site = tmp_path / "site"
        shutil.copytree(SITES / "jekyll", site)
        secret = tmp_path / "secret.md"
        secret.write_text("---\ntitle: Secret\n---\nThe server's private notes.\n")
        (site / "_posts" / "2020-01-01-secret.md").symlink_to(secret)
        report = import_markdown([site], author=author)
        assert "_posts/2020-01-01-secret.md: a link to a file outside the imported folder" in (
            lines(report)
        )
        assert not Post.objects.filter(title="Secret").exists()
        assert len(report.created) == 3

    def test_a_tag_longer_than_kb_allows_is_refused_with_its_line(self, author, tmp_path):
        (tmp_path / "long.md").write_text(f"---\ntitle: Long\ntags:\n  - {'x' * 90}\n---\nBody\n")
        with pytest.raises(InvalidImport) as refused:
            import_markdown([tmp_path], author=author)
        assert str(refused.value.problems[0]).startswith("long.md:3: the tag 'xxx")

    @pytest.mark.parametrize(
        ("front", "reason"),
        [
            ("series: " + "s" * 201, "2: the series title is longer than 200"),
            ("see_also:\n  - {slug: a, note: " + "n" * 201 + "}", "2: a see_also note is longer"),
        ],
    )
    def test_what_postgresql_would_refuse_is_refused_by_the_dry_run(
        self, author, tmp_path, front, reason
    ):
        (tmp_path / "p.md").write_text(f"---\n{front}\n---\nBody\n")
        with pytest.raises(InvalidImport) as refused:
            import_markdown([tmp_path], author=author, dry_run=True)
        assert str(refused.value.problems[0]).startswith(f"p.md:{reason}")

    def test_a_feed_category_too_long_for_a_tag_is_reported_by_the_dry_run(self, author):
        long = "c" * 80
        feed = (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>F</title><item>'
            "<title>Paper</title><link>https://example.org/paper</link>"
            f"<category>{long}</category><category>ml</category></item></channel></rss>"
        ).encode()
        dry = import_feed(feed, label="feed.xml", author=author, dry_run=True)
        assert [str(w) for w in dry.warnings] == [
            f"feed.xml entry 1: the category {long[:60]!r}… is longer than a tag may be"
        ]
        real = import_feed(feed, label="feed.xml", author=author)
        assert real.created and [t.name for t in Post.objects.get().tags.all()] == ["ml"]

    def test_an_unknown_author_is_reported_never_made_into_an_account(self, author, tmp_path):
        (tmp_path / "a.md").write_text("---\ntitle: A\nauthor: Nobody Here\n---\nBody\n")
        report = import_markdown([tmp_path], author=author)
        assert lines(report) == ["a.md: no user is called 'Nobody Here'; the post is importer's"]
        assert Post.objects.get().author == author
        assert get_user_model().objects.count() == 1
        with pytest.raises(InvalidImport):
            import_markdown([tmp_path], author=None)

    def test_an_image_that_is_not_one_is_refused_and_reported(self, author, tmp_path, media_root):
        (tmp_path / "page.png").write_text("<html><script>alert(1)</script></html>")
        (tmp_path / "p.md").write_text("---\ntitle: P\n---\n![chart](page.png)\n")
        report = import_markdown([tmp_path], author=author)
        assert lines(report) == [
            "p.md:4: page.png: This file is not an image kb accepts; use PNG, JPEG, GIF or WebP."
        ]
        assert not Path(media_root).exists() or not any(Path(media_root).rglob("*.png"))

    def test_a_formula_that_fails_to_typeset_is_reported_by_the_dry_run_too(self, author, tmp_path):
        (tmp_path / "m.md").write_text("---\ntitle: M\n---\nBad $\\frac{1}{$ here, $x^2$ fine.\n")
        rehearsal = import_markdown([tmp_path], author=author, dry_run=True)
        assert not Post.objects.exists()
        report = import_markdown([tmp_path], author=author)
        warned = [w for w in lines(report) if w.startswith("m.md: a formula can't be typeset:")]
        assert len(warned) == 1 and "Unexpected end of input" in warned[0]
        assert [w for w in lines(rehearsal) if "formula" in w] == warned

    def test_the_command_prints_the_report_and_totals(self, author, ada, capsys):
        call_command("import_markdown", str(SITES / "jekyll"), "--author", "importer")
        out, err = capsys.readouterr()
        assert "Jekyll site: 3 posts," in out and "3 created" in out
        assert "warning _posts/2021-07-11-diffusion-models.md:69:" in err


class TestRenames:
    def test_an_earlier_slug_redirects_after_a_rename(self, db, client):
        post = make_post("Notes on attention", slug="attention")
        post.slug = "attention-notes"
        services.save_post(post)
        response = client.get("/posts/attention/")
        assert (response.status_code, response["Location"]) == (301, "/posts/attention-notes/")


class TestImportPage:
    @pytest.fixture(autouse=True)
    def staging(self, monkeypatch, tmp_path):
        monkeypatch.setattr(admin_import, "STAGING_DIR", tmp_path / "staging")

    def zip_of(self, folder: Path, inside: str = "") -> SimpleUploadedFile:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, inside + path.relative_to(folder).as_posix())
        return SimpleUploadedFile("site.zip", buffer.getvalue(), "application/zip")

    def post(self, client, upload, **fields):
        return client.post("/admin/notes/post/import/", {"upload": upload, **fields})

    def test_a_zipped_site_folder_is_recognised_reported_and_imported_as_the_chosen_author(
        self, staff_client, ada
    ):
        writer = make_user("writer", staff=True)
        checked = self.post(
            staff_client, self.zip_of(SITES / "hugo", inside="my-site/"), author=writer.pk
        )
        page = checked.content.decode()
        assert "2 would be created" in page
        assert "Hugo site: 2 posts," in page
        assert "content/posts/attention-sinks/index.md:30: Hugo shortcode" in page
        assert not Post.objects.exists()

        token = checked.context["confirm"].initial["token"]
        staff_client.post(
            "/admin/notes/post/import/", {"token": token, "author": writer.pk}, follow=True
        )
        assert {p.author for p in Post.objects.all()} == {writer}

    def test_a_member_with_a_bad_checksum_is_a_message_without_server_paths(self, staff_client):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr("note.md", "---\ntitle: Fine\n---\nAll good here.\n")
        data = bytearray(buffer.getvalue())
        data[data.index(b"All good") : data.index(b"All good") + 3] = b"BAD"
        upload = SimpleUploadedFile("broken.zip", bytes(data))
        response = self.post(staff_client, upload)
        page = response.content.decode()
        assert response.status_code == 200
        assert "note.md can&#x27;t be read: Bad CRC-32" in page
        assert str(admin_import.STAGING_DIR) not in page and "/tmp" not in page
        assert not any(admin_import.STAGING_DIR.iterdir())  # the staged upload is gone

    @pytest.mark.parametrize(
        ("name", "message"),
        [
            ("x" * 300 + ".md", "name is too long"),
            ("notes/" + "deep/" * 90 + "a.md", "name is too long"),
            ("bad\x01name.md", "control characters"),
        ],
    )
    def test_unsafe_member_names_are_a_message(self, staff_client, name, message):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(zipfile.ZipInfo(name), "---\ntitle: X\n---\n")
        response = self.post(staff_client, SimpleUploadedFile("n.zip", buffer.getvalue()))
        assert response.status_code == 200 and message in response.content.decode()
        assert not Post.objects.exists()

    def test_a_nul_byte_in_a_member_name_never_reaches_the_disk(self, staff_client):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("good.md", "---\ntitle: Good\n---\nText.\n")
        data = buffer.getvalue().replace(b"good.md", b"go\x00d.md")
        response = self.post(staff_client, SimpleUploadedFile("n.zip", data))
        assert response.status_code == 200
        assert not Post.objects.exists()

    def test_an_archive_too_large_for_one_request_points_to_the_command(
        self, staff_client, monkeypatch
    ):
        monkeypatch.setattr(admin_import, "MAX_POSTS_PER_REQUEST", 2)
        response = self.post(staff_client, self.zip_of(SITES / "jekyll"))
        assert "manage.py import_markdown" in response.content.decode()
        assert not any(admin_import.STAGING_DIR.iterdir())

    def test_uploads_never_confirmed_are_removed(self, staff_client):
        checked = self.post(staff_client, self.zip_of(SITES / "obsidian"))
        token = checked.context["confirm"].initial["token"]
        staged = admin_import.STAGING_DIR / token
        assert staged.is_dir()
        admin_import.remove_stale_uploads(time.time() + admin_import.STAGING_MAX_AGE_SECONDS + 60)
        assert not staged.exists()


class TestRawHtmlInTheEditor:
    def test_the_preview_names_html_that_is_not_kept_live(self, staff_client):
        preview = markdownify('<span>kept</span> <script>alert(1)</script> <font size="7">f</font>')
        assert "HTML &lt;script&gt; is not kept live; it shows as text" in preview
        assert "HTML &lt;font&gt; is not kept live" in preview
        assert "<span>kept</span>" in preview and "&lt;script&gt;alert(1)" in preview

    def test_the_safe_subset_is_live_without_style(self):
        html = render_markdown(
            "<details><summary>Proof</summary>\n\nBy <kbd>Ctrl</kbd> and H<sub>2</sub>O.\n\n"
            '</details>\n\n<div style="color: red" class="x">plain</div>\n\n'
            '<a href="javascript:alert(1)" onclick="x()">no</a> <abbr title="Kullback">KL</abbr>'
        ).html
        assert "<details><summary>Proof</summary>" in html
        assert "<kbd>Ctrl</kbd>" in html and "<sub>2</sub>" in html
        assert "<div>plain</div>" in html
        assert "javascript" not in html and "onclick" not in html
        assert '<abbr title="Kullback">KL</abbr>' in html

    def test_redirects_are_listed_and_editable_in_the_admin(self, staff_client, client):
        post = make_post("Kernel trick", slug="kernel-trick")
        redirect = Redirect.objects.create(old_path="/2020/01/kernels.html", post=post)
        listing = staff_client.get("/admin/notes/redirect/")
        assert "/2020/01/kernels.html" in listing.content.decode()
        staff_client.post(
            f"/admin/notes/redirect/{redirect.pk}/change/",
            {"old_path": "/old/kernels/", "post": post.pk},
        )
        assert client.get("/old/kernels/")["Location"] == "/posts/kernel-trick/"
        assert client.get("/2020/01/kernels.html").status_code == 404
