"""The rules the data keeps on its own: slugs, visibility, constraints, derived fields."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from notes.models import Link, Post, Series, Tag, UpdateNote
from notes.slugs import slug_base, unique_slug
from tests.factories import make_draft, make_post, make_scheduled, make_tag

pytestmark = pytest.mark.django_db


class TestPublishedQuerySet:
    def test_published_is_status_and_date(self):
        visible = make_post("Visible")
        make_draft("Draft")
        make_scheduled("Scheduled")
        just_now = make_post(
            "Just now", published_at=timezone.now() - datetime.timedelta(seconds=1)
        )
        assert set(Post.objects.published()) == {visible, just_now}

    def test_a_scheduled_post_appears_when_its_time_comes(self):
        post = make_scheduled("Soon")
        Post.objects.filter(pk=post.pk).update(
            published_at=timezone.now() - datetime.timedelta(minutes=1)
        )
        assert list(Post.objects.published()) == [post]


class TestSlugs:
    def test_slug_comes_from_the_title(self):
        assert make_post("Attention Is All You Need!").slug == "attention-is-all-you-need"

    def test_duplicate_titles_get_numbered_slugs(self):
        slugs = [make_post("Same title").slug for _ in range(3)]
        assert slugs == ["same-title", "same-title-2", "same-title-3"]

    def test_title_without_ascii_letters_gets_a_readable_slug(self):
        assert make_post("日本語のノート").slug == "日本語のノート"
        assert make_post("Über Diffusion").slug == "uber-diffusion"

    def test_title_with_no_letters_at_all_still_gets_a_slug(self):
        assert make_post("🎉 🎉").slug == "post"
        assert make_post("!!!").slug == "post-2"

    def test_very_long_titles_are_cut_to_fit_and_stay_unique(self):
        title = "word " * 40
        first, second = make_post(title), make_post(title)
        assert len(first.slug) <= 120 and len(second.slug) <= 120
        assert first.slug != second.slug and second.slug.endswith("-2")
        assert not first.slug.endswith("-")

    def test_unique_slug_keeps_the_suffix_within_the_limit(self):
        taken = {"abcdefghij", "abcdefgh-2"}
        assert unique_slug("abcdefghij", 10, taken.__contains__) == "abcdefgh-3"

    def test_slug_base_never_empty(self):
        assert slug_base("", 50) == "post"

    def test_an_author_given_slug_is_kept(self):
        assert make_post("Anything", slug="my-own").slug == "my-own"

    def test_editing_the_title_keeps_the_slug(self):
        post = make_post("First title")
        post.title = "Second title"
        post.save()
        assert post.slug == "first-title"


class TestReadingTime:
    def test_minutes_from_word_count(self):
        assert make_post(body="word " * 2300).reading_time == 10

    def test_never_zero_for_a_short_post(self):
        assert make_post(body="Short.").reading_time == 1


class TestConstraints:
    def test_published_post_must_have_a_date(self):
        post = make_post()
        with pytest.raises(IntegrityError), transaction.atomic():
            Post.objects.filter(pk=post.pk).update(published_at=None)

    def test_unknown_status_is_refused_by_the_database(self):
        post = make_post()
        with pytest.raises(IntegrityError), transaction.atomic():
            Post.objects.filter(pk=post.pk).update(status="archived")

    def test_slugs_are_unique(self):
        post = make_post()
        other = make_post()
        with pytest.raises(IntegrityError), transaction.atomic():
            Post.objects.filter(pk=other.pk).update(slug=post.slug)

    def test_tag_names_are_unique_ignoring_case(self):
        make_tag("Diffusion")
        with pytest.raises(IntegrityError), transaction.atomic():
            Tag.objects.create(name="diffusion", slug="diffusion-2")

    def test_a_post_cannot_link_to_itself(self):
        post = make_post()
        with pytest.raises(IntegrityError), transaction.atomic():
            Link.objects.create(source=post, target=post)

    def test_a_link_pair_is_stored_once(self):
        a, b = make_post(), make_post()
        Link.objects.create(source=a, target=b)
        with pytest.raises(IntegrityError), transaction.atomic():
            Link.objects.create(source=a, target=b)

    def test_two_posts_cannot_be_the_same_part_of_a_series(self):
        series = Series.objects.create(title="S", slug="s")
        make_post(series=series, series_order=1)
        with pytest.raises(IntegrityError), transaction.atomic():
            make_post(series=series, series_order=1)


class TestNamesAndAddresses:
    def test_str_and_urls(self):
        tag = make_tag("Reinforcement learning")
        post = make_post("On-policy vs off-policy", tags=[tag])
        other = make_post("Q-learning")
        link = Link.objects.create(source=post, target=other)
        series = Series.objects.create(title="RL basics", slug="rl-basics")
        note = UpdateNote.objects.create(post=post, date=datetime.date(2024, 1, 2), text="typo")

        assert str(post) == "On-policy vs off-policy"
        assert post.get_absolute_url() == "/posts/on-policy-vs-off-policy/"
        assert str(tag) == "Reinforcement learning"
        assert tag.slug == "reinforcement-learning"
        assert tag.get_absolute_url() == "/tags/reinforcement-learning/"
        assert str(link) == "On-policy vs off-policy → Q-learning"
        assert link.get_absolute_url() == other.get_absolute_url()
        assert str(series) == "RL basics" and series.get_absolute_url() == "/series/rl-basics/"
        assert str(note) == "Updated on 2024-01-02: typo"
        assert note.get_absolute_url() == post.get_absolute_url()

    def test_tag_names_are_tidied(self):
        assert make_tag("  deep   learning ").name == "deep learning"
