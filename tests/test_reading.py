"""What a reader sees on the public site: listings, posts, tags, and what they must never see."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from notes.models import Post
from tests.factories import link, make_draft, make_post, make_scheduled, make_tag, make_user

pytestmark = pytest.mark.django_db


def titles_on(response) -> list[str]:
    return re.findall(r'class="post-card-title"><a href="[^"]+">([^<]+)</a>', response.text)


class TestHomePage:
    def test_lists_published_posts_newest_first_with_their_details(self, client):
        tag = make_tag("diffusion")
        make_post("Older note", days_ago=10)
        make_post(
            "Newer note",
            days_ago=1,
            summary="A short summary for the listing.",
            body="word " * 2300,
            tags=[tag],
        )

        response = client.get("/")

        assert response.status_code == 200
        assert titles_on(response) == ["Newer note", "Older note"]
        assert "A short summary for the listing." in response.text
        assert "10 min read" in response.text
        assert "Grace Hopper" in response.text
        assert f'href="{tag.get_absolute_url()}"' in response.text
        yesterday = timezone.now() - datetime.timedelta(days=1)
        assert f"{yesterday:%B} {yesterday.day}, {yesterday:%Y}" in response.text

    def test_hides_drafts_and_scheduled_posts(self, client):
        make_post("Visible")
        make_draft("Secret draft")
        make_scheduled("Future post")

        response = client.get("/")

        assert titles_on(response) == ["Visible"]
        assert "Secret draft" not in response.text
        assert "Future post" not in response.text

    def test_paginates_ten_a_page_with_numbers(self, client):
        for i in range(23):
            make_post(f"Note {i:02d}", days_ago=i)

        first = client.get("/")
        third = client.get("/?page=3")

        assert titles_on(first) == [f"Note {i:02d}" for i in range(10)]
        assert titles_on(third) == ["Note 20", "Note 21", "Note 22"]
        assert 'href="?page=2"' in first.text and 'rel="next"' in first.text
        assert 'aria-current="page">3<' in third.text

    @pytest.mark.parametrize("page", ["abc", "0", "-1", "999999", "1.5", "2x"])
    def test_bad_page_numbers_are_404(self, client, page):
        make_post()
        assert client.get(f"/?page={page}").status_code == 404

    def test_empty_site_says_so(self, client):
        response = client.get("/")
        assert response.status_code == 200
        assert "Nothing published yet." in response.text


class TestPostPage:
    def test_shows_title_meta_tags_and_rendered_body(self, client):
        tag = make_tag("optimization")
        post = make_post(
            "Adam in one page", body="## Update rule\n\nMomentum *and* scale.", tags=[tag]
        )

        response = client.get(post.get_absolute_url())

        assert response.status_code == 200
        assert '<h1 class="post-title">Adam in one page</h1>' in response.text
        assert "<em>and</em>" in response.text
        assert "Grace Hopper" in response.text and "1 min read" in response.text
        assert f'href="{tag.get_absolute_url()}"' in response.text

    def test_summary_post_shows_its_source(self, client):
        post = make_post("CLIP, briefly", source_url="https://arxiv.org/abs/2103.00020")
        response = client.get(post.get_absolute_url())
        assert 'href="https://arxiv.org/abs/2103.00020"' in response.text
        assert "Paper summary" in response.text

    @pytest.mark.parametrize("factory", [make_draft, make_scheduled])
    def test_drafts_and_scheduled_posts_are_404_for_visitors(self, client, factory):
        post = factory("Not yet")
        assert client.get(post.get_absolute_url()).status_code == 404

    def test_drafts_are_404_for_logged_in_non_staff(self, client):
        post = make_draft("Not yet")
        client.force_login(make_user("reader"))
        assert client.get(post.get_absolute_url()).status_code == 404

    def test_staff_can_preview_a_draft_with_a_banner(self, staff_client):
        post = make_draft("Work in progress")
        response = staff_client.get(post.get_absolute_url())
        assert response.status_code == 200
        assert "draft-banner" in response.text and "only staff can see this page" in response.text

    def test_published_post_has_no_banner_for_staff(self, staff_client):
        post = make_post("Done")
        assert "draft-banner" not in staff_client.get(post.get_absolute_url()).text

    @pytest.mark.parametrize(
        "path", ["/posts/missing/", "/posts/../admin/", "/posts/%00/", "/posts/a%2Fb/"]
    )
    def test_unknown_addresses_are_404(self, client, path):
        assert client.get(path).status_code == 404

    def test_unicode_slug_is_reachable(self, client):
        post = make_post("日本語のノート")
        response = client.get(post.get_absolute_url())
        assert response.status_code == 200
        assert "日本語のノート" in response.text


class TestCrossLinks:
    def test_post_shows_outgoing_links_and_backlinks(self, client):
        a = make_post("Attention")
        b = make_post("Transformers")
        c = make_post("Vision transformers")
        link(b, a, note="the mechanism itself")
        link(c, b)

        response = client.get(b.get_absolute_url())

        see_also = response.text.split('id="see-also"')[1].split("</section>")[0]
        linked_from = response.text.split('id="backlinks"')[1].split("</section>")[0]
        assert "Attention" in see_also and "the mechanism itself" in see_also
        assert "Vision transformers" in linked_from

    def test_links_to_and_from_drafts_are_hidden(self, client):
        post = make_post("Public")
        draft = make_draft("Hidden draft")
        future = make_scheduled("Hidden future")
        link(post, draft)
        link(draft, post)
        link(future, post)

        response = client.get(post.get_absolute_url())

        assert "Hidden draft" not in response.text
        assert "Hidden future" not in response.text
        assert 'id="backlinks"' not in response.text


class TestTags:
    def test_tag_index_counts_only_published_posts_alphabetically(self, client):
        rl, cv, drafts_only = make_tag("rl"), make_tag("Computer vision"), make_tag("secret")
        make_post(tags=[rl])
        make_post(tags=[rl, cv])
        make_draft(tags=[rl, drafts_only])
        make_scheduled(tags=[cv])

        response = client.get(reverse("notes:tag-list"))

        entries = re.findall(
            r'<li><a href="[^"]+">([^<]+)</a> <span class="count">(\d+)', response.text
        )
        assert entries == [("Computer vision", "1"), ("rl", "2")]

    def test_tag_page_lists_its_published_posts_and_description(self, client):
        tag = make_tag("bayesian", description="Posts about **priors**.")
        make_post("With tag", tags=[tag])
        make_post("Without tag")
        make_draft("Draft with tag", tags=[tag])

        response = client.get(tag.get_absolute_url())

        assert response.status_code == 200
        assert titles_on(response) == ["With tag"]
        assert "<strong>priors</strong>" in response.text
        assert "1 post" in response.text
        assert 'type="application/atom+xml" title="bayesian' in response.text
        assert f'href="{tag.get_absolute_url()}feed/"' in response.text

    def test_tag_with_only_drafts_is_404(self, client):
        tag = make_tag("secret")
        make_draft(tags=[tag])
        assert client.get(tag.get_absolute_url()).status_code == 404

    def test_tag_pages_paginate(self, client):
        tag = make_tag("many")
        for i in range(12):
            make_post(f"Tagged {i:02d}", days_ago=i, tags=[tag])
        page2 = client.get(tag.get_absolute_url() + "?page=2")
        assert titles_on(page2) == ["Tagged 10", "Tagged 11"]
        assert client.get(tag.get_absolute_url() + "?page=3").status_code == 404


class TestSeries:
    def test_series_page_lists_published_parts_in_order(self, client):
        from notes.models import Series

        series = Series.objects.create(title="Diffusion from scratch", slug="diffusion")
        make_post("Part two", series=series, series_order=2)
        make_post("Part one", series=series, series_order=1)
        make_draft("Part three", series=series, series_order=3)

        response = client.get(series.get_absolute_url())

        assert titles_on(response) == ["Part one", "Part two"]


def _fill(n: int) -> None:
    tags = [make_tag() for _ in range(3)]
    for i in range(n):
        post = make_post(tags=tags)
        if i:
            link(post, Post.objects.exclude(pk=post.pk).first())


@pytest.mark.usefixtures("no_page_cache")
class TestQueryCounts:
    """Each page costs the same number of queries with 3 posts as with 30."""

    @pytest.mark.parametrize("rows", [3, 30])
    def test_home(self, client, django_assert_max_num_queries, rows):
        _fill(rows)
        with django_assert_max_num_queries(4):
            assert client.get("/").status_code == 200

    @pytest.mark.parametrize("rows", [3, 30])
    def test_post_detail(self, client, django_assert_max_num_queries, rows):
        _fill(rows)
        post = Post.objects.published().last()
        for other in Post.objects.exclude(pk=post.pk)[:rows]:
            if not other.outgoing_links.filter(target=post).exists():
                link(other, post)
        # The post, its tags and update notes, its links both ways (which also give related
        # posts the linked posts and the local graph its first hop), the site's state (the
        # page cache reads it in production), the site settings. The worker's catalogue
        # answers the rest: older/newer and related posts with their titles, and the local
        # graph's second hop, its links and the tags that colour it.
        first = client.get(Post.objects.published().first().get_absolute_url())
        assert first.status_code == 200  # this worker has built its catalogue since the change
        with django_assert_max_num_queries(6):
            assert client.get(post.get_absolute_url()).status_code == 200

    @pytest.mark.parametrize("rows", [3, 30])
    def test_post_detail_after_a_change(self, client, django_assert_max_num_queries, rows):
        _fill(rows)
        post = Post.objects.published().last()
        # The first page after a change also learns when the next scheduled post is due (two
        # queries, notes/site_state.py) and builds the worker's catalogue (four: the posts,
        # their tags, the tags' names, the links), however many posts there are.
        with django_assert_max_num_queries(12):
            assert client.get(post.get_absolute_url()).status_code == 200

    @pytest.mark.parametrize("rows", [3, 30])
    def test_tag_list(self, client, django_assert_max_num_queries, rows):
        _fill(rows)
        with django_assert_max_num_queries(2):
            assert client.get("/tags/").status_code == 200

    @pytest.mark.parametrize("rows", [3, 30])
    def test_tag_detail(self, client, django_assert_max_num_queries, rows):
        _fill(rows)
        tag = Post.objects.first().tags.first()
        with django_assert_max_num_queries(5):
            assert client.get(tag.get_absolute_url()).status_code == 200


class TestHomePageViews:
    def test_the_intro_from_the_site_settings_shows_above_the_first_page_only(self, client):
        from notes.models import SiteSettings

        settings_row = SiteSettings.objects.get_or_create(pk=1)[0]
        settings_row.intro = "Notes on *learning*, kept by one reader."
        settings_row.save()
        for i in range(12):
            make_post(f"Listed {i}", days_ago=i)

        first = client.get("/").text
        second = client.get("/?page=2").text

        assert '<div class="site-intro prose"><p>Notes on <em>learning</em>, kept' in first
        assert first.index("site-intro") < first.index("Listed 0")
        assert "site-intro" not in second

    def test_compact_view_lists_title_date_reading_time_and_one_line(self, client):
        make_post("Short and sweet", summary="One line about it.", days_ago=1)

        full = client.get("/").text
        compact = client.get("/?view=compact").text

        assert 'class="post-card"' in full and 'class="compact-item"' not in full
        item = compact.split('<li class="compact-item">')[1].split("</li>")[0]
        assert ">Short and sweet</a>" in item and "min</span>" in item
        assert '<span class="compact-line">One line about it.</span>' in item
        assert 'href="?view=compact" data-view="compact" aria-current="page"' in compact
        assert 'href="?view=full" data-view="full">' in compact

    def test_pages_of_the_compact_view_stay_compact(self, client):
        for i in range(12):
            make_post(f"Listed {i}", days_ago=i)

        compact = client.get("/?view=compact").text

        assert 'href="?view=compact&amp;page=2"' in compact
