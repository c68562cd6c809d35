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

WORD_LENGTH = 40
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
