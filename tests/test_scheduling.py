"""A post scheduled for later comes out on time everywhere it is shown, embeds included, with no
one saving anything; and not a word of it shows before."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command
from django.test import Client

from notes import scheduling, services, site_state
from notes.models import Link, Post, SiteState
from tests.factories import make_post

pytestmark = pytest.mark.django_db

SECRET = "The result nobody may read before Friday."


@pytest.fixture
def scheduled(clock):
    return make_post(
        "Friday results",
        body=f"{SECRET}\n\n## Method\n\nThe method section.",
        published_at=clock.now() + datetime.timedelta(hours=1),
    )


def reader_sees(client: Client, post: Post, *paths: str) -> list[str]:
    base = post.get_absolute_url()
    pages = [client.get(base + path) for path in ("", *paths)]
    assert all(page.status_code == 200 for page in pages)
    return [page.text for page in pages]


class TestBeforeItsTime:
    def test_nothing_of_a_scheduled_post_shows_in_a_post_embedding_it(
        self, client, clock, scheduled
    ):
        host = make_post("Weekly notes", body="This week:\n\n![[Friday results]]")
        wiki = make_post("Index", body="See [[friday-results]].")

        for html in [host.body_html, *reader_sees(client, host, "preview/")]:
            assert SECRET not in html
            assert "The method section." not in html
        # Twice: the second page comes from the cache, which holds no more than the first.
        assert SECRET not in client.get(host.get_absolute_url()).text
        assert client.get(scheduled.get_absolute_url()).status_code == 404
        # A wikilink would show its title: it stays the words written until the post is out.
        assert f'href="{scheduled.get_absolute_url()}"' not in wiki.body_html
        assert "Friday results" not in client.get(wiki.get_absolute_url()).text
        assert not Link.objects.filter(source=host, target=scheduled).exists()

        clock.go(minutes=59)
        assert SECRET not in client.get(host.get_absolute_url()).text


class TestWhenItsTimeComes:
    def test_the_embedding_page_shows_the_embed_without_a_save(self, client, clock, scheduled):
        host = make_post("Weekly notes", body="This week:\n\n![[Friday results]]")
        section = make_post("Methods digest", body="![[friday-results#Method]]")
        index_post = make_post("Index", body="See [[friday-results]].")
        reader_sees(client, host)  # cached, and the schedule looked up
        version = Post.objects.get(pk=host.pk).version

        clock.go(hours=2)

        page, preview = reader_sees(client, host, "preview/")
        assert SECRET in page and SECRET in preview
        assert f'href="{scheduled.get_absolute_url()}"' in page
        assert "The method section." in reader_sees(client, section)[0]
        assert SECRET not in reader_sees(client, section)[0]
        index = reader_sees(client, index_post)[0]
        assert f'<a href="{scheduled.get_absolute_url()}"' in index and "Friday results" in index
        host.refresh_from_db()
        assert host.broken_wikilink_list == [] and host.version == version  # no save
        assert Link.objects.get(source=host, target=scheduled).from_embed
        # The post's page itself, and the link in the embed's frame, work as for any post.
        assert SECRET in client.get(scheduled.get_absolute_url()).text

    def test_a_post_embedding_the_embedding_post_follows(self, client, clock, scheduled):
        middle = make_post("Weekly notes", body="![[Friday results]]")
        outer = make_post("Monthly notes", body="Month.\n\n![[Weekly notes]]")
        assert SECRET not in reader_sees(client, outer)[0]

        clock.go(hours=2)

        assert SECRET in reader_sees(client, middle)[0]
        assert SECRET in reader_sees(client, outer)[0]

    def test_an_embed_naming_it_by_an_alias_fills_in_too(self, client, clock, scheduled):
        Post.objects.filter(pk=scheduled.pk).update(aliases="Results of the week")
        host = make_post("Weekly notes", body="![[results of the week]]")
        assert SECRET not in reader_sees(client, host)[0]

        clock.go(hours=2)

        assert SECRET in reader_sees(client, host)[0]

    def test_a_change_after_its_time_but_before_any_reader_still_fills_it_in(
        self, client, clock, scheduled
    ):
        host = make_post("Weekly notes", body="![[Friday results]]")
        reader_sees(client, host)
        clock.go(hours=2)
        # The write forgets the schedule the readers had learned; the embed must not be lost.
        make_post("Something else")

        assert SECRET in reader_sees(client, host)[0]

    def test_editing_it_after_its_time_but_before_any_reader_fills_it_in(
        self, client, clock, scheduled
    ):
        host = make_post("Weekly notes", body="![[Friday results]]")
        clock.go(hours=2)
        scheduled.body += "\n\nA late correction."
        services.save_post(scheduled)

        assert "A late correction." in Post.objects.get(pk=host.pk).body_html
        assert SECRET in reader_sees(client, host)[0]

    def test_one_worker_fills_it_in_and_the_next_reader_pays_one_query(
        self, client, clock, scheduled, django_assert_num_queries, monkeypatch
    ):
        make_post("Weekly notes", body="![[Friday results]]")
        site_state.current()
        clock.go(hours=2)
        rendered = []
        original = services.rerender_post
        monkeypatch.setattr(
            services, "rerender_post", lambda post, **kw: rendered.append(post.pk) or original(post)
        )

        first = site_state.current()
        with django_assert_num_queries(1):
            second = site_state.current()

        assert first == second
        assert len(rendered) == 1
        assert first.changed_at == scheduled.published_at
        assert SiteState.objects.get().due_checked_at == clock.now()

    def test_a_worker_that_lost_the_race_leaves_the_work_to_the_winner(self, clock, scheduled):
        host = make_post("Weekly notes", body="![[Friday results]]")
        state = site_state.current()
        clock.go(hours=2)
        # Another worker replaced the token between this one's read and its lock.
        SiteState.objects.update(token="someone-else")

        assert site_state._catch_up(state.token, clock.now(), state.changed_at) is None
        assert SECRET not in Post.objects.get(pk=host.pk).body_html

    def test_a_reader_fills_in_a_few_and_the_cron_command_the_rest(
        self, client, clock, scheduled, monkeypatch
    ):
        monkeypatch.setattr(scheduling, "READER_LIMIT", 2)
        hosts = [make_post(f"Host {n}", body="![[Friday results]]") for n in range(5)]
        site_state.current()
        clock.go(hours=2)

        site_state.current()
        filled = [h for h in hosts if SECRET in Post.objects.get(pk=h.pk).body_html]
        assert len(filled) == 2

        out = io.StringIO()
        call_command("publish_due", stdout=out)

        assert "Re-rendered 3 posts" in out.getvalue()
        for host in hosts:
            assert SECRET in reader_sees(client, host)[0]
        call_command("publish_due", stdout=out)
        assert "Re-rendered 0 posts" in out.getvalue()

    def test_the_command_can_look_further_back(self, client, clock, scheduled):
        host = make_post("Weekly notes", body="![[Friday results]]")
        # As if every check since the post came out, days ago, had missed this embed.
        clock.go(days=3)
        SiteState.objects.update(
            due_checked_at=clock.now() - datetime.timedelta(hours=1), schedule_known=True
        )

        call_command("publish_due", stdout=io.StringIO())
        assert SECRET not in Post.objects.get(pk=host.pk).body_html  # looked only since then

        call_command("publish_due", "--days=4", stdout=io.StringIO())
        assert SECRET in reader_sees(client, host)[0]
