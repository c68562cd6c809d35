"""Seeing how notes connect without leaving the page: link previews, the graph of the notes,
embedded notes, and the navigation at the foot of a post listing each post once."""

from __future__ import annotations

import math
import random
import re
import statistics
import xml.etree.ElementTree as ET
from itertools import pairwise

import pytest

from notes import graph, services
from notes.models import Link, Post
from tests.factories import link, make_draft, make_post, make_scheduled, make_tag

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"


def preview_url(post: Post) -> str:
    return post.get_absolute_url() + "preview/"


class TestPreviewFragment:
    def test_shows_title_date_reading_time_summary_and_opening(self, client):
        post = make_post(
            "Adam in one page",
            body="First paragraph about $x^2$ moments.\n\n"
            + "".join(f"Paragraph {n} has a few words more.\n\n" for n in range(2, 60)),
            summary="How Adam scales steps.",
        )
        response = client.get(preview_url(post))
        assert response.status_code == 200
        text = response.text
        assert "Adam in one page" in text and "How Adam scales steps." in text
        assert f"{post.reading_time} min read" in text
        assert "First paragraph about" in text
        # Formulas come typeset, from the stored HTML.
        assert "<math" in text
        # Only the opening: not the whole post, and not a page with the site around it.
        assert "Paragraph 59" not in text and "<html" not in text

    def test_a_section_link_previews_that_section(self, client):
        post = make_post(
            "Sections",
            body="Intro text.\n\n## Method\n\nThe method text.\n\n## Results\n\nResult text.",
        )
        text = client.get(preview_url(post) + "?section=h-method").text
        assert "The method text." in text
        assert "Result text." not in text and "Intro text." not in text

    @pytest.mark.parametrize("make", [make_draft, make_scheduled])
    def test_unpublished_posts_have_no_preview_even_for_staff(self, make, client, staff_client):
        post = make("Secret plans")
        assert client.get(preview_url(post)).status_code == 404
        assert staff_client.get(preview_url(post)).status_code == 404

    def test_is_served_from_the_page_cache(self, client, django_assert_num_queries):
        post = make_post("Cached")
        client.get(preview_url(post))
        # Only the site's change token is read: the fragment itself comes from the cache.
        with django_assert_num_queries(1):
            assert "Cached" in client.get(preview_url(post)).text

    @pytest.mark.parametrize("links", [1, 20])
    def test_query_count_is_flat(self, links, client, no_page_cache, django_assert_max_num_queries):
        post = make_post("Target", tags=[make_tag("t1"), make_tag("t2")])
        for n in range(links):
            link(make_post(f"Source {n}"), post)
        with django_assert_max_num_queries(2):
            assert client.get(preview_url(post)).status_code == 200


class TestTagPreview:
    def test_shows_the_tag_its_count_and_newest_posts_but_no_drafts(self, client):
        tag = make_tag("optimizers", description="Ways to *step*.")
        make_post("Adam notes", tags=[tag], days_ago=2)
        make_post("SGD notes", tags=[tag], days_ago=1)
        make_draft("Draft notes", tags=[tag])
        text = client.get("/tags/optimizers/preview/").text
        assert "optimizers" in text and "2 posts" in text and "<em>step</em>" in text
        assert text.index("SGD notes") < text.index("Adam notes")
        assert "Draft notes" not in text

    def test_a_tag_only_drafts_carry_has_none(self, client):
        make_draft("Hidden", tags=[make_tag("secret")])
        assert client.get("/tags/secret/preview/").status_code == 404


def svg_of(response) -> ET.Element:
    markup = re.search(r"<svg class=\"graph-svg.*?</svg>", response.text, re.DOTALL).group(0)
    return ET.fromstring(markup)


def node_titles(svg: ET.Element) -> set[str]:
    return {a.find(f"{SVG}title").text for a in svg.iter(f"{SVG}a")}


class TestGraph:
    def test_nodes_and_edges_are_the_published_posts_and_links(self, client):
        a, b, c = make_post("Alpha"), make_post("Beta"), make_post("Gamma")
        draft = make_draft("Draft idea")
        scheduled = make_scheduled("Later idea")
        link(a, b)
        link(b, c)
        link(c, a)
        link(a, draft)
        link(scheduled, b)
        svg = svg_of(client.get("/graph/"))

        assert node_titles(svg) == {"Alpha", "Beta", "Gamma"}
        hrefs = {a.get("href") for a in svg.iter(f"{SVG}a")}
        assert hrefs == {p.get_absolute_url() for p in (a, b, c)}
        edges = {(line.get("data-s"), line.get("data-t")) for line in svg.iter(f"{SVG}line")}
        assert edges == {(str(s.pk), str(t.pk)) for s, t in [(a, b), (b, c), (c, a)]}

    def test_readable_without_javascript(self, client):
        hub = make_post("Hub note")
        for n in range(3):
            link(make_post(f"Leaf {n}"), hub)
        svg = svg_of(client.get("/graph/"))
        # Every dot is a link with the post's title; the most linked carry a visible label.
        labels = [t.text for t in svg.iter(f"{SVG}text")]
        assert "Hub note" in labels
        circles = {
            a.find(f"{SVG}title").text: float(a.find(f"{SVG}circle").get("r"))
            for a in svg.iter(f"{SVG}a")
        }
        assert circles["Hub note"] > circles["Leaf 0"]

    def test_layout_is_stable_between_renders(self, client, settings):
        posts = [make_post(f"P{n}") for n in range(6)]
        for left, right in pairwise(posts):
            link(left, right)
        ids = [p.pk for p in posts]
        edges = sorted(Link.objects.values_list("source_id", "target_id"))
        assert graph.layout(ids, edges, 1000) == graph.layout(ids, edges, 1000)

    def test_a_small_graph_draws_linked_posts_near_and_keeps_every_dot_apart(self):
        # Two clusters of six, each a ring, joined by one link: what a local graph looks like.
        ids = list(range(1, 13))
        edges = sorted(
            {(a, b) for group in (ids[:6], ids[6:]) for a, b in pairwise(group + group[:1])}
            | {(6, 7)}
        )
        positions = graph.layout(ids, edges, 600)

        def far(a: int, b: int) -> float:
            (x1, y1), (x2, y2) = positions[a], positions[b]
            return math.hypot(x1 - x2, y1 - y2)

        linked = [far(a, b) for a, b in edges]
        apart = [far(a, b) for a in ids[:6] for b in ids[6:] if (a, b) != (6, 7)]
        assert sum(linked) / len(linked) < 0.6 * sum(apart) / len(apart)
        assert min(far(a, b) for a in ids for b in ids if a < b) > 15  # dots have radii of 4 to 10
        assert all(0 <= x <= 600 and 0 <= y <= 600 for x, y in positions.values())

    def test_groups_with_no_link_between_them_sit_side_by_side(self):
        # Two rings of six with nothing between them: drawn together, they used to end in
        # opposite corners with the middle of the drawing empty.
        ids = list(range(1, 13))
        edges = sorted(
            (a, b) for group in (ids[:6], ids[6:]) for a, b in pairwise(group + group[:1])
        )
        positions = graph.layout(ids, edges, graph.SIZE)

        def box(group):
            xs, ys = zip(*(positions[pk] for pk in group), strict=True)
            return min(xs), min(ys), max(xs), max(ys)

        (l1, t1, r1, b1), (l2, t2, r2, b2) = box(ids[:6]), box(ids[6:])
        apart_x = max(l2 - r1, l1 - r2)
        apart_y = max(t2 - b1, t1 - b2)
        assert max(apart_x, apart_y) > 0  # the rings do not overlap
        assert max(apart_x, apart_y) < 0.5 * max(r1 - l1, b1 - t1)  # nor stand far apart

    def test_a_large_graph_spreads_its_posts_and_keeps_linked_ones_near(self):
        # 3,500 notes on 40 topics, linked mostly to notes near them, as the benchmark's are.
        rng = random.Random(1)
        ids = list(range(1, 3501))
        edges = set()
        while len(edges) < 17_500:
            a = rng.randrange(3500)
            b = int(abs(rng.gauss(a, 3500 / 40))) % 3500
            if a != b:
                edges.add((ids[a], ids[b]))
        edges = sorted(edges)

        positions = graph.layout(ids, edges, graph.SIZE)

        assert positions == graph.layout(ids, edges, graph.SIZE)
        points = [positions[pk] for pk in ids]
        assert all(0 <= x <= graph.SIZE and 0 <= y <= graph.SIZE for x, y in points)
        # Dots a reader can tell apart: few sit within 3 units (a small dot's radius) of
        # another. The spectral layout alone put 92% of them so.
        cell = {}
        for x, y in points:
            cell.setdefault((int(x // 3), int(y // 3)), []).append((x, y))
        crowded = sum(
            any(
                (x - u) ** 2 + (y - v) ** 2 < 9 and (u, v) != (x, y)
                for dx in (-1, 0, 1)
                for dy in (-1, 0, 1)
                for u, v in cell.get((int(x // 3) + dx, int(y // 3) + dy), [])
            )
            for x, y in points
        )
        assert crowded / len(points) < 0.4
        # Linked posts sit much nearer each other than any two posts do.
        linked = statistics.mean(math.dist(positions[s], positions[t]) for s, t in edges)
        anyhow = statistics.mean(math.dist(*rng.sample(points, 2)) for _ in range(5000))
        assert linked < 0.2 * anyhow

    def test_tag_filter(self, client):
        ml = make_tag("ml")
        a, b = make_post("Tagged A", tags=[ml]), make_post("Tagged B", tags=[ml])
        other = make_post("Untagged")
        link(a, b)
        link(a, other)
        svg = svg_of(client.get("/graph/?tag=ml"))
        assert node_titles(svg) == {"Tagged A", "Tagged B"}
        assert client.get("/graph/?tag=nope").status_code == 404
        make_draft("Draft only", tags=[make_tag("hidden")])
        assert client.get("/graph/?tag=hidden").status_code == 404

    @pytest.mark.parametrize("rows", [3, 30])
    def test_query_count_is_flat(self, rows, client, no_page_cache, django_assert_max_num_queries):
        tag = make_tag("q")
        posts = [make_post(f"Q{n}", tags=[tag]) for n in range(rows)]
        for left, right in pairwise(posts):
            link(left, right)
        with django_assert_max_num_queries(5):
            assert client.get("/graph/").status_code == 200


class TestLocalGraph:
    def test_shows_two_hops_and_no_drafts(self, client):
        centre = make_post("Centre")
        near = make_post("One hop")
        far = make_post("Two hops")
        beyond = make_post("Three hops")
        link(centre, near)
        link(far, near)
        link(far, beyond)
        link(centre, make_draft("Hidden draft"))
        svg = svg_of(client.get(centre.get_absolute_url()))
        assert node_titles(svg) == {"Centre", "One hop", "Two hops"}

    def test_is_capped(self, client):
        centre = make_post("Crowded")
        for n in range(10):
            middle = make_post(f"Hop one {n}")
            link(centre, middle)
            for m in range(4):
                link(middle, make_post(f"Hop two {n}.{m}"))
        svg = svg_of(client.get(centre.get_absolute_url()))
        titles = node_titles(svg)
        assert len(titles) == graph.LOCAL_CAP
        # The whole first hop is kept before any of the second.
        assert {f"Hop one {n}" for n in range(10)} <= titles

    def test_a_post_without_links_has_none(self, client):
        assert "Nearby notes" not in client.get(make_post("Lonely").get_absolute_url()).text

    def test_drawn_anew_when_a_post_on_it_changes(self, client):
        """The drawing is cached, and must never outlive what it shows: a neighbour's new
        title, its first tag's colour, its unpublishing."""
        centre = make_post("Centre")
        near = make_post("Old name")
        link(centre, near)
        assert node_titles(svg_of(client.get(centre.get_absolute_url()))) == {"Centre", "Old name"}
        near.title = "New name"
        near.save()
        svg = svg_of(client.get(centre.get_absolute_url()))
        assert node_titles(svg) == {"Centre", "New name"}
        assert not [n for n in svg.iter(f"{SVG}a") if "g-c" in n.get("class")]
        tag = make_tag("colour")
        near.tags.add(tag)
        svg = svg_of(client.get(centre.get_absolute_url()))
        coloured = [
            n for n in svg.iter(f"{SVG}a") if f"g-c{tag.pk % graph.COLOURS}" in n.get("class")
        ]
        assert [n.find(f"{SVG}title").text for n in coloured] == ["New name"]
        near.status = Post.Status.DRAFT
        near.save()
        assert "Nearby notes" not in client.get(centre.get_absolute_url()).text

    def test_the_second_hop_follows_edits_and_a_draft_preview_draws_the_same(
        self, client, staff_client
    ):
        """A published post's graph comes from the worker's catalogue, a staff preview of a
        draft's from the database: both show the same posts, and an edit at once."""
        centre = make_post("Centre")
        near, far = make_post("One hop"), make_post("Two hops")
        link(centre, near)
        link(far, near)
        draft = make_draft("Draft centre")
        link(draft, near)

        def drawn(viewer, post):
            return node_titles(svg_of(viewer.get(post.get_absolute_url())))

        assert drawn(client, centre) == {"Centre", "One hop", "Two hops"}
        far.title = "Two hops, renamed"
        far.save()
        assert drawn(client, centre) == {"Centre", "One hop", "Two hops, renamed"}
        assert drawn(staff_client, draft) == {
            "Draft centre",
            "One hop",
            "Centre",
            "Two hops, renamed",
        }
        Link.objects.filter(source=far, target=near).delete()
        assert drawn(client, centre) == {"Centre", "One hop"}
        assert drawn(staff_client, draft) == {"Draft centre", "One hop", "Centre"}

    def test_a_post_takes_the_colour_of_its_first_tag_by_name_ignoring_case(
        self, client, staff_client
    ):
        centre = make_post("Centre")
        zeta, alpha = make_tag("Zeta"), make_tag("alpha")
        near = make_post("Near", tags=[zeta, alpha])
        staff_draft = make_draft("Draft centre")
        link(centre, near)
        link(staff_draft, near)
        svg = svg_of(client.get(centre.get_absolute_url()))

        def coloured(svg, tag):
            return [
                n.find(f"{SVG}title").text
                for n in svg.iter(f"{SVG}a")
                if f"g-c{tag.pk % graph.COLOURS}" in n.get("class")
            ]

        assert coloured(svg, alpha) == ["Near"]
        assert coloured(svg, zeta) == []
        # A draft's preview is drawn without the catalogue (it is in none): the same colour.
        preview = svg_of(staff_client.get(staff_draft.get_absolute_url()))
        assert coloured(preview, alpha) == ["Near"]


class TestEmbeds:
    def test_embeds_a_post_and_a_section_framed_with_their_source(self, client):
        source = make_post(
            "Source note",
            body="Opening words.\n\n## Key idea\n\nThe key idea.\n\n## Aside\n\nAside text.",
        )
        post = make_post("Host", body="Before.\n\n![[Source note]]\n\n![[source-note#Key idea]]")
        html = client.get(post.get_absolute_url()).text
        whole, section = re.findall(r'<div class="embed">(.*?)\n</div>', html, re.DOTALL)[:2]
        assert "Opening words." in whole and "Aside text." in whole
        assert "The key idea." in section and "Aside text." not in section
        assert f'href="{source.get_absolute_url()}"' in whole
        assert f'href="{source.get_absolute_url()}#h-key-idea"' in section
        assert Link.objects.get(source=post, target=source).from_embed

    def test_nested_embeds_render_and_follow_changes(self, client):
        inner = make_post("Inner", body="Inner text v1.")
        middle = make_post("Middle", body="Middle text.\n\n![[Inner]]")
        outer = make_post("Outer", body="Outer text.\n\n![[Middle]]")
        assert "Inner text v1." in client.get(outer.get_absolute_url()).text

        inner.body = "Inner text v2."
        services.save_post(inner)

        outer.refresh_from_db()
        middle.refresh_from_db()
        assert "Inner text v2." in middle.body_html
        assert "Inner text v2." in outer.body_html
        assert "Inner text v1." not in client.get(outer.get_absolute_url()).text

    @pytest.mark.parametrize("remove", ["trash", "delete"])
    def test_removing_an_embedded_post_updates_every_post_showing_it(self, remove):
        from notes import trash

        inner = make_post("Gone soon", body="Soon gone text.")
        middle = make_post("Shows it", body="![[Gone soon]]")
        outer = make_post("Shows that", body="![[Shows it]]")
        assert "Soon gone text." in Post.objects.get(pk=outer.pk).body_html
        if remove == "trash":
            trash.move_to_trash(inner)
        else:
            services.delete_post(inner)
        for post in (middle, outer):
            html = Post.objects.get(pk=post.pk).body_html
            assert "Soon gone text." not in html and "No post called" in html

    def test_a_cycle_is_shown_and_reported(self):
        a = make_post("Cycle A", body="A text.")
        b = make_post("Cycle B", body="B text.\n\n![[Cycle A]]")
        a.body = "A text.\n\n![[Cycle B]]"
        services.save_post(a)
        a.refresh_from_db()
        b.refresh_from_db()
        assert "B text." in a.body_html
        assert "would contain itself" in a.body_html
        assert "A text." in b.body_html and "would contain itself" in b.body_html

    def test_a_missing_or_unpublished_target_is_listed_like_a_broken_wikilink(self):
        make_draft("Not yet", body="Draft words.")
        make_scheduled("Later on", body="Scheduled words.")
        post = make_post("Asks", body="![[Nowhere]]\n\n![[Not yet]]\n\n![[Later on]]")
        assert post.broken_wikilink_list == ["Nowhere", "Not yet", "Later on"]
        assert "No post called “Nowhere” to embed." in post.body_html
        assert "Draft words." not in post.body_html
        assert "Scheduled words." not in post.body_html

    def test_publishing_the_target_fills_the_embed_in(self):
        draft = make_draft("Coming soon", body="Now written.")
        post = make_post("Waits", body="![[Coming soon]]")
        services.publish([draft])
        post.refresh_from_db()
        assert "Now written." in post.body_html and post.broken_wikilink_list == []

    def test_an_embed_inside_a_sentence_is_a_link(self):
        target = make_post("Inline target", body="Body.")
        post = make_post("Sentence", body="See ![[Inline target]] for more.")
        assert f'<a class="wikilink" href="{target.get_absolute_url()}">' in post.body_html
        assert 'class="embed' not in post.body_html


class TestNavigationListsEachPostOnce:
    def test_no_post_appears_twice(self, client):
        tag = make_tag("shared")
        older = make_post("Older neighbour", days_ago=20, tags=[tag])
        post = make_post("Subject", days_ago=10, tags=[tag])
        newer = make_post("Newer neighbour", days_ago=5, tags=[tag])
        both_ways = make_post("Both ways", days_ago=30, tags=[tag])
        back = make_post("Backlinker", days_ago=31, tags=[tag])
        make_post("Only related", days_ago=32, tags=[tag])
        link(post, both_ways)
        link(both_ways, post)
        link(back, post)
        link(post, older)
        link(newer, post)
        html = client.get(post.get_absolute_url()).text
        foot = html[html.index('class="prose"') :]
        foot = foot[foot.index("</div>") :]
        titles = re.findall(
            r'<a href="/posts/[^"]+/">(?:<span[^>]*>[^<]*</span> )?([^<]+)</a>', foot
        )
        listed = [t for t in titles if t.strip() != "The whole graph"]
        assert len(listed) == len(set(listed)), listed
        assert {"Both ways", "Backlinker", "Older neighbour", "Newer neighbour"} <= set(listed)
        assert "Only related" in listed


class TestUnlinkedMentions:
    @pytest.fixture
    def target(self):
        return make_post("Weight decay", body="About decay.")

    def change_page(self, staff_client, post):
        return staff_client.get(f"/admin/notes/post/{post.pk}/change/").text

    def test_the_admin_page_lists_posts_that_name_the_post_without_linking(
        self, staff_client, target
    ):
        make_post("Mentions it", body="Here weight decay matters, and WEIGHT DECAY again.")
        make_post("Links it", body="See [[Weight decay]] for weight decay.")
        make_post("In code only", body="Run `weight decay` or\n\n```\nweight decay\n```")
        make_post("In a longer word", body="Weight decaying slowly.")
        make_draft("Draft mentions", body="weight decay in a draft")
        page = self.change_page(staff_client, target)
        listed = page[page.index('id="unlinked-mentions"') :]
        assert "Mentions it" in listed
        assert "<mark>weight decay</mark>" in listed
        for absent in ("Links it", "In code only", "In a longer word", "Draft mentions"):
            assert absent not in listed

    def test_link_it_turns_the_first_mention_into_a_wikilink_with_a_revision(
        self, staff_client, staff_user, target
    ):
        source = make_post(
            "Mentions it", body="Use `weight decay`; weight decay helps. Weight decay."
        )
        revisions_before = source.revisions.count()
        response = staff_client.post(
            f"/admin/notes/post/{target.pk}/mentions/{source.pk}/link/", follow=True
        )
        assert "now links to" in response.text
        source.refresh_from_db()
        assert source.body == "Use `weight decay`; [[weight decay]] helps. Weight decay."
        assert Link.objects.filter(source=source, target=target, from_wikilink=True).exists()
        latest = source.revisions.first()
        assert source.revisions.count() == revisions_before + 1
        assert latest.saved_by == staff_user and "Weight decay" in latest.note
        assert (
            "Mentions it"
            not in self.change_page(staff_client, target).split('id="unlinked-mentions"')[1]
        )

    def test_link_it_needs_a_post_and_staff(self, client, staff_client, target):
        source = make_post("Mentions it", body="weight decay")
        url = f"/admin/notes/post/{target.pk}/mentions/{source.pk}/link/"
        assert client.post(url).status_code == 302  # to the login page
        source.refresh_from_db()
        assert source.body == "weight decay"
        assert staff_client.get(url).status_code == 405
        assert (
            staff_client.post(f"/admin/notes/post/{target.pk}/mentions/999999/link/").status_code
            == 404
        )


def test_the_editor_preview_shows_embeds_as_they_will_be_saved(staff_client):
    make_post("Embedded one", body="The embedded words.")
    response = staff_client.post(
        "/admin/markdownx/markdownify/", {"content": "![[Embedded one]]\n\n![[Nothing here]]"}
    )
    assert "The embedded words." in response.text
    assert "No post called “Nothing here”" in response.text
