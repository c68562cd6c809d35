"""Each post's title, word by word, folded: what `[[` completion looks words up in.

A title word can sit anywhere in the title ("diff mod" should find "Denoising Diffusion
Models"), and neither engine can answer "a word inside this column starts with …" from an index.
One row per word can: a prefix of the word's index, the same on SQLite and PostgreSQL. The rows
are derived from the title, like `body_html` from the body: `Post.save()` rewrites them when the
title changes, and `rebuild` makes them all again (the migration, a restore, `reindex`).
"""

from __future__ import annotations

import re
import unicodedata

from django.db import models
from django.db.models.functions import Lower

from notes.models.lookups import not_indexed, slug_prefix, starts_with
from notes.slugs import FALLBACK_SLUG, slug_base

WORD_LENGTH = 40
# `[[` completion looks up this many words of what was typed, at most.
MAX_QUERY_WORDS = 5
_WORD = re.compile(r"[^\W_]+")


def fold_words(text: str) -> list[str]:
    """The words of `text`, lower-cased and without accents, each once, in order, cut to
    WORD_LENGTH: what is stored for a title and what a query is looked up as."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return list(dict.fromkeys(word[:WORD_LENGTH] for word in _WORD.findall(plain)))


class TitleWord(models.Model):
    post = models.ForeignKey("notes.Post", on_delete=models.CASCADE, related_name="title_words")
    # db_index: on PostgreSQL Django adds the pattern (`_like`) index a prefix LIKE needs.
    word = models.CharField(max_length=WORD_LENGTH, db_index=True)

    def __str__(self) -> str:
        return self.word


def index_title(post, *, adding: bool) -> None:
    """Write the words of `post`'s current title (two queries, one for a new post)."""
    if not adding:
        TitleWord.objects.filter(post_id=post.pk).delete()
    words = fold_words(post.title)
    TitleWord.objects.bulk_create(TitleWord(post_id=post.pk, word=w) for w in words)


def rebuild(post_model=None, word_model=None, batch_size: int = 2000) -> int:
    """Every post's title words made again from the titles; returns how many rows there are.
    Takes the models so a migration can pass its historical ones."""
    post_model = post_model or TitleWord._meta.get_field("post").related_model
    word_model = word_model or TitleWord
    word_model.objects.all().delete()
    rows = []
    count = 0
    titles = post_model._base_manager.order_by("pk").values_list("pk", "title")
    for pk, title in titles.iterator(chunk_size=batch_size):
        rows.extend(word_model(post_id=pk, word=w) for w in fold_words(title))
        if len(rows) >= batch_size:
            word_model.objects.bulk_create(rows)
            count += len(rows)
            rows = []
    word_model.objects.bulk_create(rows)
    return count + len(rows)


def link_candidates(posts, text: str, *, limit: int, exclude: int | None = None) -> list:
    """Of `posts` (a Post queryset), those not in the trash whose slug starts as `text` would
    be slugged, or with a title word starting with each word of `text`, in any order ("diff
    mod" finds "Denoising Diffusion Models"). The title itself first, then titles starting as
    typed, then slugs, then the rest, each group by title; drafts too.

    One query. The candidates' ids come from prefixes of the slug's index and of the title
    words' (a union: an OR of the two would have PostgreSQL read every post to test it); only
    those are read and ranked, then cut to `limit`.
    """
    text = " ".join(text.split())
    words = fold_words(text)[:MAX_QUERY_WORDS]
    prefix = slug_base(text, posts.model._meta.get_field("slug").max_length)
    # A text with nothing a slug could start with is slugged as the fallback.
    by_slug = bool(text) and (prefix != FALLBACK_SLUG or text.lower() == FALLBACK_SLUG)
    if not words and not by_slug:
        return []
    ids = None
    for word in words:
        having = TitleWord.objects.filter(starts_with("word", word))
        ids = having if ids is None else having.filter(post_id__in=ids.values("post_id"))
    if ids is not None:
        ids = ids.order_by().values("post_id")
    if by_slug:
        slugs = posts.model.objects.filter(slug_prefix(prefix)).order_by().values("pk")
        ids = slugs if ids is None else slugs.union(ids)
    typed = text.lower()
    ranks = [models.When(title_lower=typed, then=0)]
    if by_slug:
        ranks.append(models.When(slug=prefix, then=0))
    ranks.append(models.When(title_lower__startswith=typed, then=1))
    if by_slug:
        ranks.append(models.When(slug_prefix(prefix), then=2))
    found = posts.alias(
        trashed=not_indexed("trashed_at"),
        title_lower=Lower("title"),
        rank=models.Case(*ranks, default=3, output_field=models.IntegerField()),
    ).filter(pk__in=ids, trashed__isnull=True)
    if exclude is not None:
        found = found.exclude(pk=exclude)
    found = found.only("pk", "title", "slug", "status").order_by("rank", "title_lower", "pk")
    return list(found[:limit])
