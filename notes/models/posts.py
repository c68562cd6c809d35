from __future__ import annotations

import datetime
import functools
from collections.abc import Mapping, Sequence
from contextvars import ContextVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.signals import setting_changed
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from markdownx.models import MarkdownxField

from notes.images import describe_images
from notes.models.aliases import MAX_ALIAS_CHARS, MAX_ALIASES, alias_list, alias_problem
from notes.models.authors import display_name_of
from notes.models.math import MathStylesheet
from notes.models.references import Reference
from notes.models.site import SiteSettings
from notes.models.title_words import index_title, link_candidates
from notes.rendering import MarkdownTooLarge, WikiTarget, check_renderable, render_markdown
from notes.rendering.results import EmbedSource
from notes.rendering.typesetting import mathml_only
from notes.slugs import unique_slug
from notes.text import clean_text_fields

MAX_BODY_CHARS = 250_000

# The posts an import is about to write, by slug and lower-cased title: a wikilink to one of
# them resolves to where it will be, so no post is stored with a broken link and rendered again
# when its target arrives. Set only by notes.importing.writing, for the length of one import.
COMING_POSTS: ContextVar[Mapping[str, WikiTarget] | None] = ContextVar(
    "kb_coming_posts", default=None
)


class PostQuerySet(models.QuerySet):
    def published(self) -> PostQuerySet:
        """The only gate between posts and the public: published, not scheduled for later, and
        not in the trash."""
        return self.filter(
            status=Post.Status.PUBLISHED,
            published_at__lte=timezone.now(),
            trashed_at__isnull=True,
        )

    def not_trashed(self) -> PostQuerySet:
        return self.filter(trashed_at__isnull=True)

    def trashed(self) -> PostQuerySet:
        return self.filter(trashed_at__isnull=False)

    def drafts(self) -> PostQuerySet:
        return self.filter(status=Post.Status.DRAFT)

    def for_listing(self) -> PostQuerySet:
        """What a card in a listing shows, fetched in a fixed number of queries."""
        return (
            self.select_related("author", "author__author_profile")
            .prefetch_related("tags")
            .defer("body", "body_html")
        )

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

        Only published posts resolve (by slug, or by title or alias ignoring case; a link by
        alias shows the alias, as Obsidian does), so a draft's title never appears in public
        HTML; when the draft is published, the posts naming it are re-rendered (see
        `notes.links.posts_linking_to`).
        """
        found = self._by_name(targets, ("pk", "slug", "title", "aliases"))
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
            among = self.not_trashed().filter(status=Post.Status.PUBLISHED)
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
        # Aliases are lines of one text field, so no index finds one: read every post's
        # aliases (short, and only rows that have some), match whole lines ignoring case here,
        # then fetch the posts matched. A LIKE a name would cost a scan per name instead.
        names = {t.lower() for t in wanted}
        owner: dict[str, int] = {}
        rows = among.exclude(aliases="").order_by("pk").values_list("pk", "aliases")
        for pk, aliases in rows:
            for alias in aliases.splitlines():
                if alias.lower() in names:
                    owner.setdefault(alias.lower(), pk)  # the oldest post wins a tie
        if not owner:
            return {}
        posts = {p.pk: p for p in among.filter(pk__in=set(owner.values())).only(*fields)}
        return {t: posts[owner[t.lower()]] for t in wanted if owner.get(t.lower()) in posts}


class Series(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=120, unique=True, allow_unicode=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "series"

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        clean_text_fields(self)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("notes:series-detail", kwargs={"slug": self.slug})


class Tag(models.Model):
    name = models.CharField(max_length=64)
    slug = models.SlugField(max_length=80, unique=True, allow_unicode=True, blank=True)
    description = MarkdownxField(blank=True)
    description_html = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="notes_tag_name_ci_unique",
                violation_error_message="A tag with this name already exists.",
            ),
            models.CheckConstraint(
                condition=~models.Q(name=""),
                name="notes_tag_name_not_empty",
                violation_error_message="Give the tag a name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        clean_text_fields(self)
        self.name = " ".join(self.name.split())
        if not self.slug:
            self.slug = unique_slug(
                self.name,
                self._meta.get_field("slug").max_length,
                lambda s: Tag.objects.filter(slug=s).exclude(pk=self.pk).exists(),
            )
        # Shown on pages that link no formula stylesheet: formulas as MathML only.
        self.description_html = (
            mathml_only(render_markdown(self.description).html) if self.description else ""
        )
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("notes:tag-detail", kwargs={"slug": self.slug})


class Post(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    title = models.CharField(max_length=200, error_messages={"blank": "Give the post a title."})
    slug = models.SlugField(
        max_length=120,
        unique=True,
        allow_unicode=True,
        blank=True,
        help_text="The address of the post. Leave blank to make one from the title.",
        error_messages={
            "unique": "Another post already has this address; choose a different slug.",
        },
    )
    aliases = models.TextField(
        blank=True,
        max_length=MAX_ALIASES * (MAX_ALIAS_CHARS + 1),
        help_text="Other names a [[wikilink]] may call this post by, one a line "
        "(Obsidian's aliases:).",
    )
    summary = models.TextField(
        blank=True,
        max_length=500,
        help_text="Plain text for listings and search engines. "
        "Leave blank to use the body's first paragraph.",
    )
    body = MarkdownxField(
        validators=[
            MaxLengthValidator(
                MAX_BODY_CHARS,
                message="The body is %(show_value)s characters long; a post holds at most "
                "%(limit_value)s. Split it into a series of posts.",
            )
        ],
        error_messages={"blank": "Write something in the body."},
    )
    body_html = models.TextField(blank=True, editable=False)
    toc_html = models.TextField(blank=True, editable=False)
    math_stylesheet = models.CharField(
        max_length=24,
        blank=True,
        editable=False,
        help_text="Digest of the MathStylesheet holding the layout of this post's formulas.",
    )
    excerpt = models.TextField(
        blank=True, editable=False, help_text="The summary, or the body's first paragraph."
    )
    broken_wikilinks = models.TextField(
        blank=True, editable=False, help_text="Wikilink targets that matched no post, one a line."
    )
    unknown_citations = models.TextField(
        blank=True, editable=False, help_text="Cited keys that matched no reference, one a line."
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    published_at = models.DateTimeField(
        null=True,
        blank=True,
        db_index=True,
        help_text="Set on first publish if left blank. A future date schedules the post.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="posts"
    )
    reading_time = models.PositiveIntegerField(default=1, editable=False, help_text="Minutes.")
    source_url = models.URLField(
        "source",
        max_length=500,
        blank=True,
        help_text="For a summary of someone else's paper or article: its address.",
    )
    feed_entry_id = models.CharField(
        max_length=500,
        blank=True,
        db_index=True,
        editable=False,
        help_text="The id of the feed entry this post was imported from, so it is imported once.",
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="posts")
    reference = models.ForeignKey(
        Reference,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="summaries",
        verbose_name="paper",
        help_text="For a summary of a paper in the bibliography: that paper.",
    )
    # Kept in step with the body's [@key] citations on every render.
    cited_references = models.ManyToManyField(
        Reference, blank=True, editable=False, related_name="citing_posts"
    )
    series = models.ForeignKey(
        Series, null=True, blank=True, on_delete=models.SET_NULL, related_name="posts"
    )
    series_order = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The part number within the series."
    )
    # Optimistic locking: a form may only save over the version it was opened on.
    version = models.PositiveIntegerField(default=1, editable=False)
    # Deleting in the admin moves a post here; notes/trash.py restores or removes it for good.
    trashed_at = models.DateTimeField(null=True, blank=True, editable=False, db_index=True)

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-created_at"]
        get_latest_by = "published_at"
        constraints = [
            # Each says in plain words what to change; the form checks them all before saving.
            models.CheckConstraint(
                condition=models.Q(status__in=["draft", "published"]),
                name="notes_post_status_valid",
                violation_error_message="A post is either a draft or published.",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="published") | models.Q(published_at__isnull=False),
                name="notes_post_published_has_date",
                violation_error_message="A published post needs a publication date.",
            ),
            models.CheckConstraint(
                condition=~models.Q(title=""),
                name="notes_post_title_not_empty",
                violation_error_message="Give the post a title.",
            ),
            models.CheckConstraint(
                condition=~models.Q(slug=""),
                name="notes_post_slug_not_empty",
                violation_error_message="The post needs an address (slug).",
            ),
            models.UniqueConstraint(
                fields=["series", "series_order"],
                name="notes_post_unique_series_part",
                violation_error_message="Another post is already this part of the series.",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-published_at"], name="notes_post_public_idx"),
            # Wikilinks resolve by title, ignoring case, on every save.
            models.Index(Lower("title"), name="notes_post_title_lower_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        clean_text_fields(self)
        self.fill_defaults()
        self.render()
        MathStylesheet.keep(self.math_css)
        adding = self._state.adding
        if not adding:
            self.version += 1
        super().save(*args, **kwargs)
        if self.title != getattr(self, "indexed_title", None):
            index_title(self, adding=adding)
            self.indexed_title = self.title

    def get_absolute_url(self) -> str:
        return post_url(self.slug)

    @classmethod
    def from_db(cls, db, field_names, values):
        post = super().from_db(db, field_names, values)
        # What wikilinks elsewhere may still say, so a rename can carry them along.
        post.saved_names = (post.__dict__.get("slug"), post.__dict__.get("title"))
        post.saved_status = post.__dict__.get("status")
        post.indexed_title = post.__dict__.get("title")  # its title words (see title_words)
        post.saved_aliases = post.__dict__.get("aliases")
        post.saved_updated_at = post.__dict__.get("updated_at")
        return post

    def clean(self) -> None:
        # Runs before the form checks the database constraints, which need these filled in.
        clean_text_fields(self)
        self.fill_defaults()
        errors = {}
        try:
            check_renderable(self.body)
        except MarkdownTooLarge as exc:
            errors["body"] = str(exc)
        problem = alias_problem(self.aliases)
        if problem:
            errors["aliases"] = problem
        taken = self._series_part_taken_by()
        if taken is not None:
            errors["series_order"] = (
                f"Part {self.series_order} of “{self.series}” is already “{taken}”; "
                "choose another part number."
            )
        if errors:
            raise ValidationError(errors)

    def _series_part_taken_by(self) -> Post | None:
        if self.series_id is None or self.series_order is None:
            return None
        others = Post.objects.filter(series_id=self.series_id, series_order=self.series_order)
        return others.exclude(pk=self.pk).only("title").first()

    def fill_defaults(self) -> None:
        """Derive what the author may leave blank: the slug, and the date of a first publish."""
        self.title = self.title.strip()
        self.aliases = "\n".join(alias_list(self.aliases))
        if not self.slug and self.title:
            self.slug = unique_slug(
                self.title,
                self._meta.get_field("slug").max_length,
                lambda s: Post.objects.filter(slug=s).exclude(pk=self.pk).exists(),
            )
        if self.status == self.Status.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()

    @property
    def is_published(self) -> bool:
        return (
            self.status == self.Status.PUBLISHED
            and self.published_at is not None
            and self.published_at <= timezone.now()
        )

    @property
    def alias_list(self) -> list[str]:
        return [line for line in self.aliases.splitlines() if line]

    @property
    def names(self) -> list[str]:
        """What a wikilink or an embed may call the post: its slug, title and aliases."""
        return [name for name in (self.slug, self.title, *self.alias_list) if name]

    def name_for(self, target: str) -> str:
        """What an unlabelled [[target]] that found this post shows: the alias it named, or
        the title."""
        if target != self.slug and target.lower() != self.title.lower():
            for alias in self.alias_list:
                if alias.lower() == target.lower():
                    return alias
        return self.title

    @property
    def author_name(self) -> str:
        """What bylines, citations, JSON-LD and feeds print (see `display_name_of`)."""
        return display_name_of(self.author)

    @property
    def is_summary(self) -> bool:
        return bool(self.source_url or self.reference_id)

    @property
    def unknown_citation_list(self) -> list[str]:
        return [line for line in self.unknown_citations.splitlines() if line]

    @property
    def last_updated(self) -> datetime.datetime | None:
        """When readers are told the post last changed: its newest update note, else its
        publication. Feeds, the sitemap and JSON-LD share it; prefetch `update_notes` for lists."""
        if self.published_at is None:
            return None
        notes = [
            timezone.make_aware(datetime.datetime.combine(note.date, datetime.time()))
            for note in self.update_notes.all()
        ]
        return max([self.published_at, *notes])

    @property
    def broken_wikilink_list(self) -> list[str]:
        return [line for line in self.broken_wikilinks.splitlines() if line]

    def render(self, math_preamble: str | None = None) -> None:
        """Render the body into the stored HTML, TOC, excerpt and reading time (no save).

        ``math_preamble`` is the site's TeX macros, read from the site settings if not given.
        Also notes which posts its own wikilinks and embeds reached (`linked_post_ids`,
        `embedded_post_ids`); those inside an embedded post belong to that post."""
        linked: dict = {}
        embedded: dict = {}

        def remembering_resolver(targets):
            found = dict(Post.objects.resolve_wikilinks(targets))
            # Posts an import is about to write resolve too (notes/importing/batch.py).
            coming = COMING_POSTS.get() or {}
            for target in targets if coming else ():
                hit = coming.get(target) or coming.get(target.lower())
                if target not in found and hit is not None:
                    found[target] = hit
            linked.update(found)
            return found

        cited: dict = {}

        def remembering_citations(keys):
            cited.update(Reference.objects.resolve_citations(keys))
            return cited

        def remembering_embeds(targets):
            found = Post.objects.resolve_embeds(targets)
            embedded.update(found)
            return found

        if math_preamble is None:
            math_preamble = SiteSettings.current().math_preamble
        rendered = render_markdown(
            self.body,
            remembering_resolver,
            remembering_citations,
            math_preamble=math_preamble,
            resolve_embeds=remembering_embeds,
            describe_images=describe_images,
            embedded_in=(self.pk,) if self.pk else (),
        )
        self.body_html = rendered.html
        self.toc_html = rendered.toc_html
        self.math_css = rendered.math_css
        self.math_stylesheet = MathStylesheet.digest_of(rendered.math_css)
        self.reading_time = rendered.reading_time
        self.excerpt = " ".join(self.summary.split()) or rendered.summary
        self.broken_wikilinks = "\n".join(rendered.broken_wikilinks)
        self.math_errors = rendered.math_errors  # for whoever saved it to report, not stored
        self.unknown_citations = "\n".join(rendered.unknown_citations)
        self.cited_reference_ids = {work.pk for work in cited.values()}
        self.embedded_post_ids = {embedded[t].pk for t in rendered.embeds if t in embedded}
        self.linked_post_ids = {
            linked[t].pk for t in rendered.wikilinks if t in linked and linked[t].pk is not None
        } | self.embedded_post_ids
        # Links to posts an import has yet to write, recorded once they exist.
        self.coming_link_urls = {t.url for t in linked.values() if t.pk is None}


def post_url(slug: str) -> str:
    """A post's address from its slug alone. A post page asks for forty or so (links, related
    posts, the local graph), and `reverse()` cost more than the rest of building the links."""
    return _reversed_post_url(slug, get_script_prefix(), get_urlconf())


@functools.lru_cache(maxsize=4096)
def _reversed_post_url(slug: str, prefix: str, urlconf: str | None) -> str:
    return reverse("notes:post-detail", kwargs={"slug": slug}, urlconf=urlconf)


def _urls_changed(setting: str, **kwargs) -> None:
    if setting == "ROOT_URLCONF":  # tests that swap the URLs
        _reversed_post_url.cache_clear()


setting_changed.connect(_urls_changed, dispatch_uid="kb-post-url-cache")


class Link(models.Model):
    """A cross-link: written by hand in the admin ("see also") or found as a [[wikilink]]."""

    source = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="outgoing_links")
    target = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="incoming_links")
    note = models.CharField(max_length=200, blank=True)
    from_wikilink = models.BooleanField(
        default=False, editable=False, help_text="Kept in step with the body's [[wikilinks]]."
    )
    from_embed = models.BooleanField(
        default=False,
        editable=False,
        help_text="The source shows the target in place (![[embed]]), so it is re-rendered "
        "whenever the target changes.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["source", "target__title"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "target"],
                name="notes_link_unique_pair",
                violation_error_message="This post already links there.",
            ),
            models.CheckConstraint(
                condition=~models.Q(source=models.F("target")),
                name="notes_link_not_to_itself",
                violation_error_message="A post cannot link to itself.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} → {self.target}"

    def save(self, *args, **kwargs) -> None:
        clean_text_fields(self)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return self.target.get_absolute_url()


class UpdateNote(models.Model):
    """A dated note shown atop a post: "Updated on 2023-01-24: added a section on distillation"."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="update_notes")
    date = models.DateField()
    text = models.CharField(max_length=300)

    class Meta:
        ordering = ["-date", "-pk"]

    def __str__(self) -> str:
        return f"Updated on {self.date:%Y-%m-%d}: {self.text}"

    def save(self, *args, **kwargs) -> None:
        clean_text_fields(self)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return self.post.get_absolute_url()
