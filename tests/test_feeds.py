"""What a feed reader sees at /feed/ (Atom), /index.xml (RSS) and /tags/<slug>/feed/."""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import pytest

from notes.feeds import FEED_ITEMS
from notes.models import UpdateNote
from tests.factories import make_draft, make_post, make_scheduled, make_tag

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
DC = "{http://purl.org/dc/elements/1.1/}"


def atom_entries(client, path: str = "/feed/") -> list[ET.Element]:
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    return root.findall(f"{ATOM}entry")


def rss_items(client) -> list[ET.Element]:
    response = client.get("/index.xml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    root = ET.fromstring(response.content)
    assert root.tag == "rss" and root.get("version") == "2.0"
    return root.findall("channel/item")


def rfc3339(text: str) -> datetime.datetime:
    value = datetime.datetime.fromisoformat(text)
    assert value.tzinfo is not None, f"{text} has no time zone"
    return value


def assert_is_post_address(client, url: str, post) -> None:
    parts = urlsplit(url)
    assert parts.scheme == "http" and parts.netloc == "testserver"
    assert parts.path == post.get_absolute_url()
    assert client.get(parts.path).status_code == 200


@pytest.fixture
def posts():
    """Two published posts, one with tags and an update note, and two that must stay hidden."""
    rl, bandits = make_tag("reinforcement learning"), make_tag("bandits")
    older = make_post("Exploration, briefly", days_ago=20, body="Plain *text* here.")
    newer = make_post(
        "Thompson sampling & friends",
        days_ago=5,
        summary="Posterior sampling as an exploration strategy, with <regret> bounds.",
        body="## Idea\n\nSample a model, act *greedily*.\n\n$$x^2$$",
        tags=[rl, bandits],
    )
    UpdateNote.objects.create(post=newer, date=datetime.date.today(), text="added regret bounds")
    make_draft("Unfinished draft", tags=[rl])
    make_scheduled("Tomorrow's post", tags=[rl])
    return newer, older


class TestAtomFeed:
    def test_lists_published_posts_newest_first_with_valid_links(self, client, posts):
        newer, older = posts

        entries = atom_entries(client)

        assert [e.findtext(f"{ATOM}title") for e in entries] == [newer.title, older.title]
        for entry, post in zip(entries, posts, strict=True):
            link = entry.find(f"{ATOM}link[@rel='alternate']")
            assert_is_post_address(client, link.get("href"), post)

    def test_entry_carries_dates_author_tags_summary_and_full_body(self, client, posts):
        newer, _ = posts

        entry = atom_entries(client)[0]

        assert rfc3339(entry.findtext(f"{ATOM}published")) == newer.published_at
        updated = rfc3339(entry.findtext(f"{ATOM}updated"))
        assert updated.date() == datetime.date.today() and updated > newer.published_at
        assert entry.findtext(f"{ATOM}author/{ATOM}name") == "Grace Hopper"
        terms = {c.get("term") for c in entry.findall(f"{ATOM}category")}
        assert terms == {"reinforcement learning", "bandits"}
        summary = entry.find(f"{ATOM}summary")
        assert summary.get("type") == "html"
        # Plain text sent as HTML: the reader must show "<regret>", not swallow it as a tag.
        assert "&lt;regret&gt;" in summary.text
        content = entry.find(f"{ATOM}content")
        assert content.get("type") == "html"
        assert "<em>greedily</em>" in content.text and "<math" in content.text

    def test_entry_without_update_notes_is_updated_when_published(self, client, posts):
        _, older = posts
        entry = atom_entries(client)[1]
        assert rfc3339(entry.findtext(f"{ATOM}updated")) == older.published_at

    def test_titles_with_markup_characters_arrive_as_written(self, client, posts):
        assert atom_entries(client)[0].findtext(f"{ATOM}title") == "Thompson sampling & friends"

    def test_drafts_and_scheduled_posts_never_appear(self, client, posts):
        text = client.get("/feed/").text
        assert "Unfinished draft" not in text and "Tomorrow" not in text

    def test_feed_has_self_link_and_updated_date(self, client, posts):
        root = ET.fromstring(client.get("/feed/").content)
        assert root.find(f"{ATOM}link[@rel='self']").get("href") == "http://testserver/feed/"
        assert rfc3339(root.findtext(f"{ATOM}updated")).date() == datetime.date.today()

    def test_keeps_only_the_newest_posts(self, client):
        for i in range(FEED_ITEMS + 3):
            make_post(f"Note {i:02d}", days_ago=i)
        titles = [e.findtext(f"{ATOM}title") for e in atom_entries(client)]
        assert titles == [f"Note {i:02d}" for i in range(FEED_ITEMS)]


class TestRssFeed:
    def test_items_carry_link_dates_author_categories_and_body(self, client, posts):
        newer, older = posts

        items = rss_items(client)

        assert [i.findtext("title") for i in items] == [newer.title, older.title]
        first = items[0]
        assert_is_post_address(client, first.findtext("link"), newer)
        assert parsedate_to_datetime(first.findtext("pubDate")) == newer.published_at.replace(
            microsecond=0
        )
        assert first.findtext(f"{DC}creator") == "Grace Hopper"
        assert {c.text for c in first.findall("category")} == {"reinforcement learning", "bandits"}
        assert "<em>greedily</em>" in first.findtext(f"{CONTENT}encoded")
        assert "&lt;regret&gt;" in first.findtext("description")

    def test_drafts_never_appear(self, client, posts):
        text = client.get("/index.xml").text
        assert "Unfinished draft" not in text and "Tomorrow" not in text


class TestTagFeed:
    def test_lists_only_that_tags_published_posts(self, client, posts):
        newer, _ = posts
        tag = newer.tags.get(name="bandits")

        entries = atom_entries(client, f"{tag.get_absolute_url()}feed/")

        assert [e.findtext(f"{ATOM}title") for e in entries] == [newer.title]

    def test_drafts_with_the_tag_stay_out(self, client, posts):
        newer, _ = posts
        tag = newer.tags.get(name="reinforcement learning")
        text = client.get(f"{tag.get_absolute_url()}feed/").text
        assert "Unfinished draft" not in text and "Tomorrow" not in text

    def test_tag_only_drafts_carry_has_no_feed(self, client):
        secret = make_tag("secret")
        make_draft(tags=[secret])
        assert client.get(f"{secret.get_absolute_url()}feed/").status_code == 404
        assert client.get("/tags/no-such-tag/feed/").status_code == 404


class TestFeedDiscovery:
    def test_every_page_advertises_both_feeds(self, client):
        text = client.get("/").text
        assert 'type="application/atom+xml"' in text and 'href="/feed/"' in text
        assert 'type="application/rss+xml"' in text and 'href="/index.xml"' in text


@pytest.mark.parametrize("path", ["/feed/", "/index.xml", "/tags/shared/feed/"])
@pytest.mark.parametrize("rows", [3, 15])
@pytest.mark.usefixtures("no_page_cache")
def test_feed_queries_stay_flat(client, django_assert_max_num_queries, path, rows):
    tags = [make_tag("shared"), make_tag("other")]
    for i in range(rows):
        post = make_post(tags=tags)
        UpdateNote.objects.create(post=post, date=datetime.date.today(), text=f"note {i}")
    # The tag lookup, the posts with their authors, their tags, their update notes.
    with django_assert_max_num_queries(5):
        assert client.get(path).status_code == 200


class TestTextThatXmlCannotCarry:
    """A form feed pasted from a PDF once made every feed answer 500 while its post was new."""

    def test_a_post_pasted_from_a_pdf_leaves_every_feed_working(self, client):
        tag = make_tag("pdf")
        make_post("Page\x0cbreak", body="One\x0btwo\x0cthree.", summary="A\x1b summary", tags=[tag])

        [entry] = atom_entries(client)
        assert entry.find(f"{ATOM}title").text == "Page break"
        [item] = rss_items(client)
        assert "One\ntwo\nthree." in item.find(f"{CONTENT}encoded").text
        assert len(atom_entries(client, "/tags/pdf/feed/")) == 1

    def test_a_control_character_already_stored_is_dropped_from_feeds_and_sitemap(self, client):
        post = make_post("Clean", slug="clean", tags=[make_tag("pdf")])
        # Written before text was cleaned on the way in (or by hand in the database).
        type(post).objects.filter(pk=post.pk).update(
            title="Dirty\x0btitle", excerpt="An\x0c excerpt", body_html="<p>Body\x01</p>"
        )
        post.author.__class__.objects.filter(pk=post.author_id).update(first_name="Ann\x08")
        post.tags.update(name="pd\x0cf")

        for path in ["/feed/", "/index.xml", "/tags/pdf/feed/", "/sitemap.xml"]:
            response = client.get(path)
            assert response.status_code == 200, path
            ET.fromstring(response.content)  # well-formed XML
        [entry] = atom_entries(client)
        assert entry.find(f"{ATOM}title").text == "Dirtytitle"
