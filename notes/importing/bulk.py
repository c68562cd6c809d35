"""Writing an import's new posts in bulk, with the outcome `services.save_post` would have had.

Saved one by one, each new post costs some sixteen queries (its row, title words, tags, links,
citations, search entry, revision, a look for posts it mends…): most of the time of an import
of thousands of notes. Here a batch of posts is rendered in Python first (their wikilinks
resolved with a few queries for the whole batch), then each kind of row is written with one
query per batch. Posts elsewhere whose broken wikilinks the new posts mend are re-rendered once,
at the end, rather than once per post. Changed posts still go through `save_post`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from notes import cdn, redirects, search, services
from notes.importing.batch import WIKILINK
from notes.importing.media import copy_media
from notes.importing.posts import PostData
from notes.importing.report import ImportReport, Problem
from notes.models import (
    Link,
    MathStylesheet,
    Post,
    Reference,
    Revision,
    SiteSettings,
    Tag,
    UpdateNote,
)
from notes.models.title_words import TitleWord, fold_words
from notes.revisions import snapshot_of_post
from notes.text import clean_text_fields

BATCH_SIZE = 500
# Names per query when resolving a batch's wikilinks (two parameters each).
NAMES_PER_QUERY = 400


@dataclass
class NewPost:
    data: PostData
    author: object
    tags: list[Tag]


def write_new(
    pending: Sequence[NewPost],
    lookups,
    report: ImportReport,
    tick: Callable[[], None],
) -> list[tuple[Post, PostData]]:
    """Write the posts of `pending` (none of them in the database yet), batch by batch; each
    is rendered while the import's other posts are known as coming (COMING_POSTS). Returns the
    posts written with their data. `tick` is called once a post is rendered."""
    preamble = SiteSettings.current().math_preamble
    written: list[tuple[Post, PostData]] = []
    for start in range(0, len(pending), BATCH_SIZE):
        batch = pending[start : start + BATCH_SIZE]
        # Resolved after the previous batch was written, so its posts resolve with their ids.
        resolver = _batch_resolver([item.data.body for item in batch])
        posts = []
        for item in batch:
            post = _built(item, lookups)
            post.render(preamble, resolve_wikilinks=resolver)
            report.warnings += [
                Problem(item.data.path, f"a formula can't be typeset: {error}")
                for error in post.math_errors
            ]
            posts.append(post)
            tick()
        _insert(posts, batch)
        written += [(post, item.data) for post, item in zip(posts, batch, strict=True)]
    return written


def _built(item: NewPost, lookups) -> Post:
    """The post `_save` in writing.py would save, not yet rendered or written."""
    data = item.data
    copy_media(data.media)
    post = Post(
        slug=data.slug,
        title=data.title,
        body=data.body,
        summary=data.summary,
        aliases="\n".join(data.aliases),
        source_url=data.source_url,
        reference=Reference.objects.filter(key=data.reference).first() if data.reference else None,
        feed_entry_id=data.feed_entry_id,
        status=Post.Status.DRAFT if data.draft else Post.Status.PUBLISHED,
        published_at=data.published_at,
        author=item.author,
        series=lookups.series(data.series),
        series_order=data.series_order,
    )
    clean_text_fields(post)
    post.fill_defaults()
    return post


def _batch_resolver(bodies: Sequence[str]):
    """A wikilink resolver answering from one lookup of every target the bodies name (a few
    queries per NAMES_PER_QUERY names); a name it was not asked beforehand (one inside an
    embedded post, say) is looked up as the renderer would."""
    names = sorted(
        {m.group(1).strip() for body in bodies if "[[" in body for m in WIKILINK.finditer(body)}
        - {""}
    )
    known: dict = {}
    for start in range(0, len(names), NAMES_PER_QUERY):
        known.update(Post.objects.resolve_wikilinks(names[start : start + NAMES_PER_QUERY]))
    asked = set(names)

    def resolve(targets):
        missing = [t for t in targets if t not in asked]
        found = {t: known[t] for t in targets if t in known}
        if missing:
            found.update(Post.objects.resolve_wikilinks(missing))
        return found

    return resolve


def _insert(posts: list[Post], batch: Sequence[NewPost]) -> None:
    """Every row `save_post` writes for these new posts, one query per kind of row."""
    sheets = {post.math_stylesheet: post.math_css for post in posts if post.math_stylesheet}
    stored = set(
        MathStylesheet.objects.filter(digest__in=list(sheets)).values_list("digest", flat=True)
    )
    MathStylesheet.objects.bulk_create(
        [MathStylesheet(digest=d, css=css) for d, css in sheets.items() if d not in stored],
        ignore_conflicts=True,
    )
    Post.objects.bulk_create(posts)
    for post in posts:
        post._state.adding = False
        post.indexed_title = post.title
        post.saved_names = (post.slug, post.title)
        post.saved_status = post.status
        post.saved_aliases = post.aliases
    TitleWord.objects.bulk_create(
        TitleWord(post_id=post.pk, word=word) for post in posts for word in fold_words(post.title)
    )
    tag_names = {
        post.pk: [tag.name for tag in item.tags] for post, item in zip(posts, batch, strict=True)
    }
    Post.tags.through.objects.bulk_create(
        Post.tags.through(post_id=post.pk, tag_id=tag.pk)
        for post, item in zip(posts, batch, strict=True)
        for tag in item.tags
    )
    Link.objects.bulk_create(
        Link(source=post, target_id=pk, from_wikilink=True, from_embed=pk in post.embedded_post_ids)
        for post in posts
        for pk in post.linked_post_ids - {post.pk}
    )
    Post.cited_references.through.objects.bulk_create(
        Post.cited_references.through(post_id=post.pk, reference_id=pk)
        for post in posts
        for pk in post.cited_reference_ids
    )
    UpdateNote.objects.bulk_create(
        UpdateNote(post=post, date=date, text=text)
        for post, item in zip(posts, batch, strict=True)
        for date, text in item.data.updates or ()
    )
    # updated_at is auto_now; the file's lastmod is the truth about when it last changed.
    dated = []
    for post, item in zip(posts, batch, strict=True):
        if item.data.updated_at is not None:
            post.updated_at = item.data.updated_at
            dated.append(post)
    if dated:
        Post.objects.bulk_update(dated, ["updated_at"])
    for post in posts:
        post.saved_updated_at = post.updated_at
    search.index_new_posts(posts, tag_names)
    Revision.objects.bulk_create(
        Revision(post=post, number=1, **snapshot_of_post(post, tag_names[post.pk]))
        for post in posts
    )
    for post, item in zip(posts, batch, strict=True):
        if item.data.redirects:
            redirects.record(post, item.data.redirects)
    # Bulk writes send no signals: the caller marks the site changed; the CDN hears here.
    keys = {cdn.LISTS_KEY, *(cdn.key_for(post) for post in posts)}
    keys |= {f"tag-{tag.pk}" for item in batch for tag in item.tags}
    keys |= {f"series-{post.series_id}" for post in posts if post.series_id}
    cdn.purge_later(keys)


def mend_links_to(posts: Sequence[Post]) -> int:
    """Re-render, once, every post with a broken wikilink or embed naming one of `posts` (the
    import's new posts among them: one that embeds a post written after it), then the posts
    showing those; what `services.after_post_saved` does for each new post. Returns how many
    were re-rendered."""
    names = {
        name.lower()
        for post in posts
        if post.status == Post.Status.PUBLISHED
        for name in post.names
    }
    if not names:
        return 0
    broken = Post.objects.exclude(broken_wikilinks="").order_by("pk")
    ids = [
        pk
        for pk, lines in broken.values_list("pk", "broken_wikilinks").iterator()
        if any(line.strip().lower() in names for line in lines.splitlines())
    ]
    preamble = SiteSettings.current().math_preamble
    for start in range(0, len(ids), BATCH_SIZE):
        for other in Post.objects.filter(pk__in=ids[start : start + BATCH_SIZE]):
            services.rerender_post(other, math_preamble=preamble)
    services.rerender_embedding(set(ids))
    return len(ids)
