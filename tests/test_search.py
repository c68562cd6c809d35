"""Finding a note: the search box, its query language, ranking, snippets, facets and tag pages.

Every test here runs on SQLite and on PostgreSQL and expects the same posts in the same order.
"""

import datetime
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from notes import search, search_postgres, services
from notes.search_query import SearchQuery, Term, parse
from notes.search_ranking import find
from tests.factories import make_draft, make_post, make_scheduled, make_tag

pytestmark = pytest.mark.django_db


def titles_on(response) -> list[str]:
    return re.findall(r'class="post-card-title"><a href="[^"]+">([^<]+)</a>', response.text)


def search_for(client, q: str = "", **params):
    response = client.get(reverse("notes:search"), {"q": q, **params})
    assert response.status_code == 200
    return response


def found(client, q: str, **params) -> list[str]:
    return titles_on(search_for(client, q, **params))


def suggested_titles(response) -> list[str]:
    return re.findall(r'<li><a href="/posts/[^"]+/">([^<]+)</a></li>', response.text)


def at(year: int, month: int = 6) -> datetime.datetime:
    return datetime.datetime(year, month, 1, 12, tzinfo=datetime.UTC)


class TestQueryLanguage:
    def test_words_phrases_exclusions_tags_and_or_become_a_tree(self):
        query = parse('diffusion "noise schedule" -gan tag:sampling #math score OR energy')

        assert query == SearchQuery(
            clauses=(
                (Term(("diffusion",)),),
                (Term(("noise", "schedule")),),
                (Term(("score",)), Term(("energy",))),
            ),
            excluded=(Term(("gan",)),),
            tags=("sampling", "math"),
        )

    def test_quoted_tag_names_and_excluded_tags(self):
        query = parse('tag:"machine learning" -tag:draft-ideas -#old')

        assert query.tags == ("machine learning",)
        assert query.excluded_tags == ("draft-ideas", "old")
        assert not query.has_text

    def test_or_at_the_edges_or_beside_a_tag_joins_nothing(self):
        assert parse("OR adam OR").clauses == ((Term(("adam",)),),)
        assert parse("adam tag:x OR sgd").clauses == ((Term(("adam",)),), (Term(("sgd",)),))

    def test_only_letters_and_digits_survive_as_words(self):
        assert parse("ABL1(E255K):*").clauses == ((Term(("abl1", "e255k")),),)
        assert parse("' OR 1=1 --").clauses == ((Term(("1", "1")),),)
        assert parse("% _ \\ * & |").is_empty
        assert parse('"unclosed phrase').clauses == ((Term(("unclosed", "phrase")),),)

    def test_accents_and_case_do_not_matter(self):
        assert parse("Schrödinger CAFÉ") == parse("schrodinger cafe")


class TestFindingPosts:
    def test_every_word_must_match(self, client):
        make_post("Adam optimizer", body="Adaptive moments for stochastic gradients.")
        make_post("Plain SGD", body="Stochastic gradient descent without moments.")

        assert found(client, "stochastic moments") == ["Adam optimizer", "Plain SGD"]
        assert found(client, "adaptive stochastic") == ["Adam optimizer"]

    def test_stemming_finds_other_forms_of_a_word(self, client):
        make_post("Score models", body="Several diffusions were compared.")
        make_post("Pretraining", body="We train the network for a week.")

        assert found(client, "diffusion") == ["Score models"]
        assert found(client, "training") == ["Pretraining"]

    def test_a_phrase_needs_its_words_together_and_in_order(self, client):
        make_post("Together", body="A cosine noise schedule works well.")
        make_post("Apart", body="The schedule of the noise was linear.")

        assert found(client, '"noise schedule"') == ["Together"]
        assert sorted(found(client, "noise schedule")) == ["Apart", "Together"]

    def test_a_minus_excludes_a_word_or_phrase(self, client):
        make_post("GAN survey", body="Generators and discriminators, adversarial training.")
        make_post("Diffusion survey", body="Generators that denoise step by step.")

        assert found(client, "generators -adversarial") == ["Diffusion survey"]
        assert found(client, 'generators -"step by step"') == ["GAN survey"]
        assert found(client, "-adversarial") == ["Diffusion survey"]

    def test_an_excluded_word_removes_a_post_whose_title_matches(self, client):
        make_post("Generators, adversarial", body="Two networks compete.", days_ago=1)
        make_post("Generators that denoise", body="Step by step.", days_ago=3)
        make_post("Sampling notes", body="Generators again.", days_ago=2)

        # The title match comes first although it is older; the excluded one is in no tier.
        assert found(client, "generators -adversarial") == [
            "Generators that denoise",
            "Sampling notes",
        ]

    def test_or_lets_either_term_match(self, client):
        make_post("Adam", body="Adaptive moment estimation.", days_ago=1)
        make_post("Lion", body="Sign-based momentum updates.", days_ago=2)
        make_post("Kernels", body="Gaussian process regression.", days_ago=3)

        assert found(client, "adaptive OR sign") == ["Adam", "Lion"]

    def test_hyphens_and_punctuation_split_words_alike_on_both_engines(self, client):
        make_post("AdamW", body="Decoupled weight-decay regularization (Loshchilov, 2019).")

        assert found(client, "weight decay") == ["AdamW"]
        assert found(client, '"weight decay"') == ["AdamW"]
        assert found(client, "loshchilov 2019") == ["AdamW"]

    def test_finds_words_in_tags_and_accented_words_without_accents(self, client):
        make_post("Wave equation", body="Schrödinger wrote it down.", tags=[make_tag("physics")])

        assert found(client, "physics") == ["Wave equation"]
        assert found(client, "schrodinger") == ["Wave equation"]


class TestTagFilters:
    @pytest.fixture
    def posts(self):
        diffusion, sampling = make_tag("diffusion"), make_tag("Machine Learning")
        make_post("Both tags", body="Score matching.", tags=[diffusion, sampling], days_ago=1)
        make_post("Diffusion only", body="Score matching.", tags=[diffusion], days_ago=2)
        make_post("Untagged", body="Score matching.", days_ago=3)

    def test_tag_and_hash_filters_keep_posts_carrying_the_tag(self, client, posts):
        assert found(client, "tag:diffusion") == ["Both tags", "Diffusion only"]
        # Same words, but the post with more tags is longer: relevance, not date, orders them.
        assert sorted(found(client, "score #DIFFUSION")) == ["Both tags", "Diffusion only"]

    def test_several_tags_combine_with_and(self, client, posts):
        assert found(client, 'tag:diffusion tag:"machine learning"') == ["Both tags"]
        assert found(client, "score", tag=["diffusion", "machine-learning"]) == ["Both tags"]

    def test_an_excluded_tag_removes_its_posts(self, client, posts):
        assert found(client, "score -tag:diffusion") == ["Untagged"]

    def test_a_tag_that_does_not_exist_finds_nothing_and_says_so(self, client, posts):
        response = search_for(client, "score tag:nonexistent")

        assert titles_on(response) == []
        assert "No tag is named “nonexistent”." in response.text
        assert "No published posts match." in response.text


class TestRanking:
    def test_title_beats_summary_beats_body_whatever_the_dates(self, client):
        make_post("Notes on optimizers", body="About kernels.", days_ago=1)
        make_post("Plain", summary="About kernels.", body="Mentions kernels.", days_ago=2)
        make_post("Kernel methods", body="Nothing else.", days_ago=30)
        make_post("Tagged", body="Nothing.", tags=[make_tag("kernels")], days_ago=3)

        assert found(client, "kernels") == [
            "Kernel methods",
            "Plain",
            "Tagged",
            "Notes on optimizers",
        ]

    def test_released_matches_keep_the_page_and_counts_they_gave(self):
        tag = make_tag("svm")
        for days in (1, 2):
            make_post(f"Kernels {days}", body="Words.", tags=[tag], days_ago=days)
        make_post("Body only", body="About kernels.", days_ago=3)
        matches = find(parse("kernels"))
        page = matches.ids[:2]

        matches.release()

        assert page == [matches.ids[0], matches.ids[1]]
        assert len(matches.ids) == 3
        assert [(f.label, f.count) for f in matches.tag_facets()] == [("svm", 2)]
        with pytest.raises(RuntimeError):
            matches.ids[2]  # the body tier was never ranked, and its ids are gone

    def test_ties_go_to_the_newer_post(self, client):
        for days in (5, 1, 3):
            make_post(f"Transformer {days}", body="Attention.", days_ago=days)

        assert found(client, "transformer") == ["Transformer 1", "Transformer 3", "Transformer 5"]

    def test_with_only_tag_filters_the_newest_come_first(self, client):
        tag = make_tag("rl")
        make_post("Older", tags=[tag], days_ago=9)
        make_post("Newer", tags=[tag], days_ago=1)

        assert found(client, "tag:rl") == ["Newer", "Older"]


FILLER = (
    "Estimators trade bias for variance and careful readers check both before trusting a "
    "result from a single run of an experiment on a small benchmark. "
)


def _body(mentions: int, sentences: int = 12) -> str:
    """`sentences` sentences of filler, `mentions` of them naming the KL divergence."""
    parts = [
        "The KL divergence between the posterior and the prior appears here. "
        if i < mentions
        else FILLER
        for i in range(sentences)
    ]
    return "".join(parts)


class TestRelevance:
    """A fixture written so that any sensible relevance score, bm25 or ts_rank_cd, orders it
    the same: the engines must agree on the top results, not on the scores."""

    @pytest.fixture
    def corpus(self):
        make_post("Information theory notes", body=_body(8), days_ago=300)
        make_post("Variational autoencoders", body=_body(1), days_ago=1)
        make_post("Mutual information", body=_body(3), days_ago=100)
        make_post("Unrelated", body=_body(0), days_ago=2)
        make_post("Divergence in passing", body=_body(1), days_ago=3)
        make_post("Divergence measures", body=_body(6), days_ago=400)

    def test_within_a_tier_a_post_that_discusses_the_term_comes_first(self, client, corpus):
        assert found(client, "KL divergence") == [
            "Divergence measures",  # the title tier, discussed at length: first though oldest
            "Divergence in passing",
            "Information theory notes",  # then the bodies, by how much they say
            "Mutual information",
            "Variational autoencoders",
        ]

    def test_a_phrase_ranks_by_how_often_the_phrase_occurs(self, client, corpus):
        # No title holds the phrase, so every match is in the body tier.
        assert found(client, '"KL divergence"')[:3] == [
            "Information theory notes",
            "Divergence measures",
            "Mutual information",
        ]
        assert found(client, "posterior")[:2] == ["Information theory notes", "Divergence measures"]

    def test_a_page_that_spans_two_tiers_ranks_both(self, client):
        # Eight title matches fill most of page one; the body matches follow by relevance,
        # the best two ending page one and the other three on page two.
        for n in range(8):
            make_post(f"Divergence note {n}", body=_body(1), days_ago=n + 1)
        for mentions, days in ((1, 10), (12, 500), (3, 20), (8, 400), (5, 30)):
            make_post(f"Body {mentions}", body=_body(mentions, sentences=14), days_ago=days)

        first, second = (titles_on(search_for(client, "divergence", page=p)) for p in (1, 2))

        assert first[:8] == [f"Divergence note {n}" for n in range(8)]
        assert first[8:] == ["Body 12", "Body 8"]
        assert second == ["Body 5", "Body 3", "Body 1"]

    def test_equal_posts_are_listed_newest_first(self, client):
        for days in (30, 2, 9):
            make_post(f"Copy {days}", body=_body(2), days_ago=days)

        assert found(client, "divergence") == ["Copy 2", "Copy 9", "Copy 30"]


class TestResultsPage:
    def test_each_result_shows_title_date_tags_and_a_highlighted_snippet(self, client):
        tag = make_tag("generative")
        post = make_post(
            "Score models",
            body="Intro words. " * 40 + "The reverse process removes **noise** gradually.",
            tags=[tag],
            published_at=at(2023, 3),
        )

        response = search_for(client, "noise")

        assert titles_on(response) == ["Score models"]
        assert f'href="{post.get_absolute_url()}"' in response.text
        assert "March 1, 2023" in response.text
        assert f'href="{tag.get_absolute_url()}"' in response.text
        snippet = re.search(r'class="search-snippet">(.*?)</p>', response.text, re.S).group(1)
        assert "<mark>noise</mark>" in snippet
        assert "removes" in snippet and "**" not in snippet
        assert "1 result for “noise”" in response.text

    def test_each_result_shows_its_own_tags_by_name(self, client):
        tags = [make_tag(name) for name in ("zeta", "Alpha", "mid")]
        make_post("Kernels", body="A needle.", tags=tags, days_ago=1)
        make_post("Other", body="A needle.", tags=[make_tag("other")], days_ago=2)

        response = search_for(client, "needle")

        cards = re.findall(
            r'<article class="post-card search-result">(.*?)</article>', response.text, re.S
        )
        title = r'<h2 class="post-card-title"><a href="[^"]+">([^<]+)<'
        tags_of = {
            re.search(title, card).group(1): re.findall(r'class="tag" href="[^"]+">([^<]+)<', card)
            for card in cards
        }
        assert tags_of == {"Kernels": ["Alpha", "mid", "zeta"], "Other": ["other"]}

    def test_snippets_read_as_prose_with_formulas_as_a_token(self, client):
        make_post(
            "Divergences",
            body=(
                "## Definition {#def}\n\n"
                "The divergence $D_{\\mathcal{KL}}(p \\| q) = \\sum_x p(x) \\log p(x)$ is "
                "never negative.\n{: .lead}\n\n"
                "$$\n\\int p \\log \\frac{p}{q}\n$$\n\n"
                "- first item about the divergence\n- second item\n\n"
                "| measure | symmetric |\n| --- | --- |\n| divergence | no |\n\n"
                "{% include note.html %} A closing word on [the divergence](https://x.test/)."
            ),
        )

        make_post("Short", body="A bound $\\mathcal{O}(n^2)$ on the runtime, $$x$$ and $y$.")

        snippet = self.snippet(search_for(client, "divergence"))
        short = self.snippet(search_for(client, "runtime"))

        assert short == (
            'A bound <span class="snippet-formula">formula</span> on the <mark>runtime</mark>, '
            '<span class="snippet-formula">formula</span> and '
            '<span class="snippet-formula">formula</span>.'
        )
        assert snippet.count("<mark>divergence</mark>") >= 2
        for source in ("$", "\\mathcal", "mathcal", "|", "---", "{:", "{%", "- first", "##"):
            assert source not in snippet, source
        assert "Definition. The <mark>divergence</mark>" in snippet or "Definition" not in snippet
        assert "<mark>divergence</mark>. second item" in snippet

    def test_tex_command_names_are_not_searchable_words(self, client):
        make_post("Sets", body="Let $\\mathcal{X}$ be a set of outcomes.")

        assert found(client, "mathcal") == []
        assert found(client, "outcomes") == ["Sets"]

    @staticmethod
    def snippet(response) -> str:
        return re.search(r'class="search-snippet">(.*?)</p>', response.text, re.S).group(1)

    def test_snippets_escape_the_authors_html(self, client):
        make_post("Escaping", body="A sentence with <script>alert(1)</script> and a needle.")

        response = search_for(client, "needle")

        assert "<mark>needle</mark>" in response.text
        assert "<script>alert(1)</script>" not in response.text

    def test_a_match_deep_in_a_long_post_gets_a_snippet_around_it(self, client):
        filler = " ".join(f"filler{n}" for n in range(2_500))  # some 25,000 characters
        make_post(
            "Long", summary="What it is about.", body=f"{filler}. The quasar finally appears."
        )

        snippet = self.snippet(search_for(client, "quasar"))

        assert "The <mark>quasar</mark> finally appears." in snippet

    def test_a_phrase_deep_in_a_long_post_gets_a_snippet_around_it(self, client):
        # Both words early on, apart; together only some 25,000 characters in.
        filler = " ".join(f"filler{n}" for n in range(2_500))
        body = (
            f"A red sky. A giant star. {filler}. A red dwarf, a giant planet; "
            "then a red giant swallows its planets."
        )
        make_post("Stars", summary="What it is about.", body=body)

        snippet = self.snippet(search_for(client, '"red giant"'))

        # FTS5 marks the phrase as one, PostgreSQL word by word.
        assert "<mark>red" in snippet
        assert "red giant swallows its planets" in re.sub("</?mark>", "", snippet)
        assert "red sky" not in snippet
        # Nor are the words marked where they stand apart just before it.
        assert "<mark>red</mark> dwarf" not in snippet
        assert "<mark>giant</mark> planet" not in snippet

    def test_a_word_whose_stem_is_spelt_otherwise_is_still_highlighted(self, client):
        # English stems `happy` as `happi`, which the text does not spell.
        filler = " ".join(f"filler{n}" for n in range(300))  # past the first 1,500 characters
        make_post("Ending", summary="What it is about.", body=f"{filler}. A happy ending.")

        snippet = self.snippet(search_for(client, "happy"))

        assert "A <mark>happy</mark> ending." in snippet

    def test_a_title_only_match_shows_the_excerpt(self, client):
        make_post("Attention", summary="How transformers weigh tokens.", body="Softmax.")

        response = search_for(client, "attention")

        assert "How transformers weigh tokens." in response.text

    def test_ten_results_a_page_and_pages_keep_the_query(self, client):
        for i in range(12):
            make_post(f"Bandit {i:02d}", days_ago=i)

        first = search_for(client, "bandit")
        second = search_for(client, "bandit", page=2)

        assert titles_on(first) == [f"Bandit {i:02d}" for i in range(10)]
        assert titles_on(second) == ["Bandit 10", "Bandit 11"]
        assert 'href="?q=bandit&amp;page=2"' in first.text
        assert client.get(reverse("notes:search"), {"q": "bandit", "page": 9}).status_code == 404

    def test_every_page_has_a_labelled_search_box_in_the_header(self, client):
        response = client.get("/")

        form = re.search(r'<form class="site-search"[^>]*>.*?</form>', response.text, re.S).group()
        assert f'action="{reverse("notes:search")}"' in form and 'method="get"' in form
        assert '<label class="visually-hidden" for="site-search-q">' in form
        assert 'id="site-search-q" type="search" name="q"' in form


class TestFacets:
    @pytest.fixture
    def posts(self):
        rl, bandits = make_tag("rl"), make_tag("bandits")
        make_post("Regret 2022", body="Regret bounds.", tags=[rl, bandits], published_at=at(2022))
        make_post("Regret 2023a", body="Regret again.", tags=[rl], published_at=at(2023, 2))
        make_post("Regret 2023b", body="Regret once more.", tags=[rl], published_at=at(2023, 5))
        make_post("Unrelated", body="Kernels.", tags=[bandits], published_at=at(2021))
        make_draft("Regret draft", body="Regret.", tags=[make_tag("secret")])
        make_scheduled("Regret scheduled", body="Regret.", tags=[bandits])

    def facets(self, response, heading: str) -> list[tuple[str, str]]:
        block = re.search(rf"<h2>{heading}</h2>\s*<ul>(.*?)</ul>", response.text, re.S).group(1)
        return re.findall(r'<a href="[^"]*">([^<]+)</a> <span class="facet-count">(\d+)', block)

    def test_counts_by_tag_and_year_for_the_current_query(self, client, posts):
        response = search_for(client, "regret")

        assert self.facets(response, "Tags") == [("rl", "3"), ("bandits", "1")]
        assert self.facets(response, "Years") == [("2023", "2"), ("2022", "1")]

    def test_counts_are_right_for_a_search_matching_few_posts_too(self, client, posts):
        # "regret" matches most posts, whose counts are worked out from what it misses;
        # "kernels" matches one, counted directly.
        response = search_for(client, "kernels")

        assert self.facets(response, "Tags") == [("bandits", "1")]
        assert self.facets(response, "Years") == [("2021", "1")]

    def test_clicking_a_facet_narrows_the_search(self, client, posts):
        response = search_for(client, "regret")
        bandits = re.search(r'<a href="(\?[^"]*)">bandits</a>', response.text).group(1)
        year = re.search(r'<a href="(\?[^"]*)">2023</a>', response.text).group(1)

        narrowed = client.get(reverse("notes:search") + bandits.replace("&amp;", "&"))
        by_year = client.get(reverse("notes:search") + year.replace("&amp;", "&"))

        assert titles_on(narrowed) == ["Regret 2022"]
        assert 'aria-label="Remove tag: bandits"' in narrowed.text
        assert sorted(titles_on(by_year)) == ["Regret 2023a", "Regret 2023b"]

    def test_drafts_and_scheduled_posts_are_in_no_result_count_or_facet(self, client, posts):
        response = search_for(client, "regret")

        assert sorted(titles_on(response)) == ["Regret 2022", "Regret 2023a", "Regret 2023b"]
        assert "3 results" in response.text
        assert "secret" not in response.text and "draft" not in response.text
        assert "scheduled" not in response.text
        assert found(client, "tag:secret") == []


class TestNothingFound:
    def test_a_misspelt_word_suggests_close_titles_and_tags(self, client):
        make_post(
            "Diffusion models from scratch", body="Score matching.", tags=[make_tag("sampling")]
        )
        make_post("Kernel methods", body="Gaussian processes.")
        make_draft("Diffusion drafts", body="Hidden.")

        response = search_for(client, "difusion zebra")
        tags = search_for(client, "samplng")

        assert "No published posts match." in response.text
        assert "Posts with a similar title" in response.text
        assert re.findall(r'<li><a href="/posts/[^"]+/">([^<]+)</a></li>', response.text) == [
            "Diffusion models from scratch"
        ]
        assert 'href="/tags/sampling/">sampling</a>' in tags.text
        assert 'href="/tags/">browse the notes by tag</a>' in response.text

    def test_a_query_that_finds_nothing_is_offered_without_its_rarest_word(self, client):
        make_post("Adam", body="Adaptive moments for stochastic optimisation.", days_ago=1)
        make_post("SGD", body="Stochastic gradient descent.", days_ago=2)

        response = search_for(client, "stochastic adaptive zebra")

        link = re.search(r'Try the search <a href="([^"]+)">without “zebra”</a>', response.text)
        assert link, response.text
        assert found(client, "stochastic adaptive") == ["Adam"]
        assert titles_on(client.get(link.group(1).replace("&amp;", "&"))) == ["Adam"]

    def test_the_closest_titles_come_first_and_the_newest_among_equals(self, client):
        for day in range(1, 6):
            make_post(f"Journal 2024-05-{day:02d}", body="Nothing much.", days_ago=40 - day)
        make_post("Journaling habits", body="Notes on notes.", days_ago=1)
        make_draft("Journal draft", body="Hidden.")

        response = search_for(client, "jurnal qqqq")

        assert "No published posts match." in response.text
        # "Journal" is nearer to "jurnal" than "Journaling" is, newest as that post is.
        assert suggested_titles(response) == [
            "Journal 2024-05-05",
            "Journal 2024-05-04",
            "Journal 2024-05-03",
        ]

    def test_hundreds_of_look_alike_titles_still_give_the_closest(self, client):
        # A journal kept for a year: nearly every title passes the similarity threshold.
        for day in range(300):
            make_post(f"Journal day {day}", body="Nothing much.", days_ago=400 - day)
        make_post("Journaling habits", body="Notes on notes.", days_ago=1)

        suggested = suggested_titles(search_for(client, "jurnal qqqq"))

        assert len(set(suggested)) == 3
        assert all(title.startswith("Journal day ") for title in suggested), suggested

    def test_each_word_of_a_query_can_bring_its_own_close_title(self, client):
        make_post("Variational inference", body="Evidence bound.", days_ago=3)
        make_post("Kernel methods", body="Gaussian processes.", days_ago=2)
        make_post("Unrelated", body="Words.", days_ago=1)

        response = search_for(client, '"variatonal kernl"')

        assert sorted(suggested_titles(response)) == ["Kernel methods", "Variational inference"]

    @pytest.mark.usefixtures("no_page_cache")
    def test_suggestions_cost_the_same_queries_for_one_word_or_six(
        self, client, django_assert_max_num_queries
    ):
        make_post("Kernel methods", body="Gaussian processes.", tags=[make_tag("kernels")])
        with django_assert_max_num_queries(20) as one:
            response = search_for(client, "kernl")
        assert "Kernel methods" in response.text

        with django_assert_max_num_queries(len(one.captured_queries)):
            search_for(client, '"kernl mthods gausian procesess evidnce bund"')

    def test_nothing_to_suggest_still_offers_the_tags(self, client):
        make_post("Kernel methods", body="Gaussian processes.")

        response = search_for(client, "qqqqxxxx")

        assert "Posts with a similar title" not in response.text
        assert "Try the search" not in response.text
        assert "browse the notes by tag" in response.text


class TestIndexStaysCurrent:
    def test_an_edited_post_is_found_by_its_new_words_only(self, client):
        post = make_post("Perceptron", body="Linear classifier.")

        post.title, post.body = "Multilayer network", "Backpropagation."
        services.save_post(post)

        assert found(client, "perceptron") == []
        assert found(client, "backpropagation") == ["Multilayer network"]

    def test_changing_a_posts_tags_reindexes_it(self, client):
        post = make_post("Tagged note", body="Words.", tags=[make_tag("vision")])

        services.save_post(post, tags=[make_tag("audio")])

        assert found(client, "vision") == []
        assert found(client, "audio") == ["Tagged note"]

    def test_a_deleted_post_leaves_the_index(self, client):
        post = make_post("Ephemeral", body="Gone soon.")
        post_id = post.pk

        services.delete_post(post)

        assert found(client, "ephemeral") == []
        table = search_postgres.PG_TABLE if connection.vendor == "postgresql" else search.FTS_TABLE
        column = "post_id" if connection.vendor == "postgresql" else "rowid"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table} WHERE {column} = %s", [post_id])
            assert cursor.fetchone()[0] == 0

    def test_publishing_a_draft_makes_it_findable(self, client):
        draft = make_draft("Hidden gem", body="Variational bounds.")
        assert found(client, "variational") == []

        services.publish([draft])

        assert found(client, "variational") == ["Hidden gem"]

    def test_the_admin_indexes_the_tags_it_sets(self, staff_client):
        tag = make_tag("bayes")
        response = staff_client.post(
            reverse("admin:notes_post_add"),
            {
                "title": "Priors",
                "slug": "",
                "status": "published",
                "published_at_0": "2024-01-02",
                "published_at_1": "10:00:00",
                "body": "Conjugate priors.",
                "tags": [tag.pk, "posterior"],
                "author": staff_client.session["_auth_user_id"],
                **_empty_inlines(),
            },
        )
        assert response.status_code == 302, response.text[:2000]

        assert found(staff_client, "bayes") == ["Priors"]
        assert found(staff_client, "posterior") == ["Priors"]

    def test_renaming_or_deleting_a_tag_in_the_admin_reindexes_its_posts(self, staff_client):
        tag = make_tag("convnets")
        make_post("Image classifier", body="Pixels.", tags=[tag])

        staff_client.post(
            reverse("admin:notes_tag_change", args=[tag.pk]),
            {"name": "vision", "slug": tag.slug, "description": ""},
        )

        assert found(staff_client, "convnets") == []
        assert found(staff_client, "vision") == ["Image classifier"]

        staff_client.post(reverse("admin:notes_tag_delete", args=[tag.pk]), {"post": "yes"})

        assert found(staff_client, "vision") == []

    def test_reindex_rebuilds_the_index_from_the_posts(self, client):
        make_post("Rebuilt", body="Kalman filters.")
        with connection.cursor() as cursor:
            search.engine().drop(cursor)
            search.engine().create(cursor)
        assert found(client, "kalman") == []

        call_command("reindex", verbosity=0)

        assert found(client, "kalman") == ["Rebuilt"]


def _empty_inlines() -> dict[str, str]:
    fields = {}
    for prefix in ("outgoing_links", "update_notes"):
        fields.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    return fields


class TestBadInput:
    @pytest.mark.parametrize(
        "q",
        [
            "",
            "   \t ",
            "x" * 10_000,
            "needle " * 2_000,
            '"unbalanced quotes',
            'needle "',
            "%",
            "_",
            "\\",
            "*",
            "' OR 1=1 --",
            "foo & | bar",
            "NEAR(a b)",
            "ABL1(E255K):*",
            "needle 😀 🚀",
            "שלום עולם",
            "مرحبا",
            "tag:",
            "#",
            "-",
            "OR",
            "tag:nonexistent",
            "-tag:nonexistent needle",
            '"" -"" tag:""',
            "{title} : needle",
            "needle*",
            "^needle",
        ],
    )
    def test_never_an_error_page(self, client, q):
        make_post("Haystack", body="A needle in it.")

        response = search_for(client, q)

        sensible = ["Haystack", "No published posts match.", "Type a few words to search"]
        assert any(text in response.text for text in sensible)

    @pytest.mark.parametrize(
        "params",
        [
            {"tag": ""},
            {"year": "abc"},
            {"year": "99999999999999999999"},
            {"year": "-1"},
            {"year": "\uff12\uff10\uff12\uff13"},  # full-width digits
            {"tag": "x" * 5000},
        ],
    )
    def test_odd_facet_parameters_are_ignored_or_find_nothing(self, client, params):
        make_post("Haystack", body="A needle in it.")

        response = search_for(client, "needle", **params)

        assert response.status_code == 200

    def test_a_tag_repeated_hundreds_of_times_counts_once(self, client):
        make_post("Haystack", body="A needle in it.", tags=[make_tag("a")])

        once = client.get(reverse("notes:search") + "?q=needle&tag=a")
        response = client.get(reverse("notes:search") + "?q=needle" + "&tag=a" * 600 + "&tag=A")

        assert response.status_code == 200
        assert titles_on(response) == ["Haystack"]
        assert response.content.decode().count("tag: a") == once.content.decode().count("tag: a")

    def test_more_distinct_tags_than_a_search_takes_is_a_400_that_says_so(self, client):
        make_post("Haystack", body="A needle in it.")
        query = "".join(f"&tag=t{n}" for n in range(40))

        response = client.get(reverse("notes:search") + "?q=needle" + query)

        assert response.status_code == 400
        assert "at most 10 tags at once; this address asks for 40" in response.content.decode()

    @pytest.mark.parametrize("params", [{"q": "needle\x00"}, {"q": "\x00"}, {"tag": "a\x00b"}])
    def test_a_nul_byte_is_refused_or_ignored_never_a_server_error(self, client, params):
        make_post("Haystack", body="A needle in it.")

        response = client.get(reverse("notes:search"), params)

        # The security middleware may refuse it outright (a 4xx); if not, search must cope.
        assert response.status_code == 200 or 400 <= response.status_code < 500

    def test_a_nul_byte_reaching_the_search_itself_is_dropped(self):
        make_post("Haystack", body="A needle in it.")
        query = parse("needle\x00 tag:\x00").narrowed(tags=["\x00"])

        results = list(search.Post.objects.filter(pk__in=find(query).ids))

        assert [p.title for p in results] == ["Haystack"]
        assert "<mark>needle</mark>" in search.highlighted_snippets(query, results)[results[0].pk]

    def test_what_the_user_typed_is_echoed_escaped(self, client):
        response = search_for(client, '<img src=x onerror=alert(1)> "needle')

        assert "<img src=x" not in response.text
        assert "&lt;img src=x onerror=alert(1)&gt;" in response.text

    def test_empty_search_invites_typing(self, client):
        make_post("Haystack")

        response = search_for(client, "")

        assert titles_on(response) == []
        assert "Type a few words to search the notes." in response.text


@pytest.mark.usefixtures("no_page_cache")
class TestQueryCount:
    def test_the_results_page_costs_the_same_queries_for_3_or_30_posts(
        self, client, django_assert_max_num_queries
    ):
        tags = [make_tag("alpha"), make_tag("beta")]
        for i in range(3):
            make_post(f"Sampler {i}", body="Langevin sampler.", tags=tags)
        with django_assert_max_num_queries(14) as few:  # the catalogue built: a fixed cost
            search_for(client, "sampler")

        for i in range(27):
            make_post(f"More sampler {i}", body="Langevin sampler.", tags=tags, days_ago=i)
        with django_assert_max_num_queries(len(few.captured_queries)):
            search_for(client, "sampler", page=2)


class TestTagCombinations:
    def test_a_plus_b_lists_posts_carrying_both(self, client):
        a, b = make_tag("alpha"), make_tag("beta")
        make_post("Both", tags=[a, b])
        make_post("Only alpha", tags=[a])

        response = client.get("/tags/alpha+beta/")

        assert response.status_code == 200
        assert "<h1>alpha + beta</h1>" in response.text
        assert re.findall(r'class="post-card-title"><a href="[^"]+">([^<]+)<', response.text) == [
            "Both"
        ]
        assert 'href="/search/?tag=alpha&amp;tag=beta"' in response.text

    def test_the_combination_page_paginates_and_order_of_tags_is_kept(self, client):
        a, b = make_tag("alpha"), make_tag("beta")
        for i in range(12):
            make_post(f"Both {i:02d}", tags=[a, b], days_ago=i)
        page2 = client.get("/tags/beta+alpha/?page=2")
        assert "<h1>beta + alpha</h1>" in page2.text
        assert page2.text.count('class="post-card"') == 2

    def test_a_combination_with_an_unknown_or_draft_only_tag_is_404(self, client):
        a, hidden = make_tag("alpha"), make_tag("hidden")
        make_post("Public", tags=[a])
        make_draft("Private", tags=[a, hidden])

        assert client.get("/tags/alpha+nope/").status_code == 404
        assert client.get("/tags/alpha+hidden/").status_code == 404


def test_the_published_guard_is_the_only_way_in():
    make_post("Public needle", body="needle")
    make_draft("Draft needle", body="needle")
    make_post("Later needle", body="needle", published_at=timezone.now() + datetime.timedelta(1))

    with connection.cursor() as cursor:
        indexed = search.engine().matching_ids(cursor, parse("needle").clauses)
    public = find(parse("needle")).ids

    assert len(indexed) == 3  # the index holds drafts and scheduled posts too
    assert [search.Post.objects.get(pk=pk).title for pk in public] == ["Public needle"]
