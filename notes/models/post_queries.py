"""The questions asked of posts: which a reader may see, and the renderer's resolvers for
wikilinks and embeds (one query for all of a body's names)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from notes.models.taxonomy import Tag
from notes.models.title_words import link_candidates
from notes.rendering import WikiTarget
from notes.rendering.results import EmbedSource

if TYPE_CHECKING:
    from notes.models.posts import Post


# What a post's card shows (notes/includes/_post_card.html, _post_meta.html), and what its
# byline's name comes from (`display_name_of`).
CARD_FIELDS = (
    "title",
    "slug",
    "excerpt",
    "published_at",
    "reading_time",
    "source_url",
    "reference_id",
    "author__username",
    "author__first_name",
    "author__last_name",
    "author__author_profile__display_name",
)


class PostQuerySet(models.QuerySet):
    def published(self) -> PostQuerySet:
        """The only gate between posts and the public: published, not scheduled for later, and
        not in the trash."""
        return self.filter(
            status=self.model.Status.PUBLISHED,
            published_at__lte=timezone.now(),
            trashed_at__isnull=True,
        )

    def not_trashed(self) -> PostQuerySet:
        return self.filter(trashed_at__isnull=True)

    def trashed(self) -> PostQuerySet:
        return self.filter(trashed_at__isnull=False)

    def drafts(self) -> PostQuerySet:
        return self.filter(status=self.model.Status.DRAFT)

    def for_listing(self, *, tags: bool = True) -> PostQuerySet:
        """What a card in a listing shows, fetched in a fixed number of queries, and only that:
        a card is built for every result of every listing, and reading and making whole
        posts, users and tags (bodies, HTML, password hashes, tag descriptions) for it cost
        more than the query. `tags=False` leaves the tags to a caller that knows them
        already (search, from the catalogue)."""
        cards = self.select_related("author", "author__author_profile").only(*CARD_FIELDS)
        if not tags:
            return cards
        return cards.prefetch_related(models.Prefetch("tags", Tag.objects.only("name", "slug")))

    def visible_to(self, user) -> PostQuerySet:
        """Staff may preview drafts and scheduled posts; everyone else sees published ones."""
        if user.is_authenticated and user.is_staff:
            return self.not_trashed()
        return self.published()

    def link_candidates(self, text: str, *, limit: int, exclude: int | None = None) -> list[Post]:
        """Posts (drafts too, not trashed) for `[[` completion, by slug and title words; see
        `title_words.link_candidates`."""
        return link_candidates(self, text, limit=limit, exclude=exclude)

    def resolve_wikilinks(self, targets: Sequence[str]) -> dict[str, WikiTarget]:
        """The renderer's resolver: one query for all of a body's wikilinks (three when some
        name no slug or title, and so may be aliases).

        Only posts that are out resolve (by slug, or by title or alias ignoring case; a link
        by alias shows the alias, as Obsidian does), so the title of a draft or of a post
        scheduled for later never appears in public HTML. When the draft is published, the
        posts naming it are re-rendered (see `notes.links.posts_linking_to`); when the
        scheduled time comes, the first reader's request does it (`notes.scheduling`).
        """
        found = self._by_name(targets, ("pk", "slug", "title", "aliases"), self.published())
        return {
            target: WikiTarget(title=post.name_for(target), url=post.get_absolute_url(), pk=post.pk)
            for target, post in found.items()
        }

    def resolve_embeds(self, targets: Sequence[str]) -> dict[str, EmbedSource]:
        """The renderer's resolver for ``![[embeds]]``: the published posts' Markdown, which the
        embedding post renders in place (and re-renders when it changes). Unlike a wikilink,
        which only shows a title, an embed shows the text, so a post scheduled for later does
        not resolve until it is out (a re-render, e.g. `rerender`, then fills the embed in)."""
        fields = ("pk", "slug", "title", "body")
        return {
            target: EmbedSource(
                pk=post.pk, title=post.title, url=post.get_absolute_url(), body=post.body
            )
            for target, post in self._by_name(targets, fields, self.published()).items()
        }

    def _by_name(self, targets: Sequence[str], fields: Sequence[str], among=None) -> dict:
        """Posts by slug, else by title, else by alias (ignoring case): two queries at most,
        the second only for names the first left unanswered and only among posts with aliases.
        """
        wanted = [t for t in targets if t]
        if not wanted:
            return {}
        if among is None:
            among = self.not_trashed().filter(status=self.model.Status.PUBLISHED)
        posts = (
            among.annotate(title_lower=Lower("title"))
            .filter(
                models.Q(slug__in=wanted) | models.Q(title_lower__in={t.lower() for t in wanted})
            )
            .only(*fields)
            .order_by()
        )
        by_slug = {p.slug: p for p in posts}
        by_title = {p.title.lower(): p for p in by_slug.values()}
        found = {}
        for target in wanted:
            post = by_slug.get(target) or by_title.get(target.lower())
            if post is not None:
                found[target] = post
        unanswered = [t for t in wanted if t not in found]
        if unanswered:
            found.update(self._by_alias(unanswered, fields, among))
        return found

    def _by_alias(self, wanted: Sequence[str], fields: Sequence[str], among) -> dict:
        # Aliases are lines of one text field, so no index finds one: read the aliases of the
        # posts that have some (a partial index lists them), match whole lines ignoring case
        # here, then fetch the posts matched. A LIKE a name would cost a scan per name instead.
        # `aliases > ''` is written as the index's condition is, so both engines use it.
        names = {t.lower() for t in wanted}
        owner: dict[str, int] = {}
        rows = among.filter(aliases__gt="").order_by("pk").values_list("pk", "aliases")
        for pk, aliases in rows:
            for alias in aliases.splitlines():
                if alias.lower() in names:
                    owner.setdefault(alias.lower(), pk)  # the oldest post wins a tie
        if not owner:
            return {}
        posts = {p.pk: p for p in among.filter(pk__in=set(owner.values())).only(*fields)}
        return {t: posts[owner[t.lower()]] for t in wanted if owner.get(t.lower()) in posts}
