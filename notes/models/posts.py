from __future__ import annotations

import datetime
from collections.abc import Mapping
from contextvars import ContextVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from markdownx.models import MarkdownxField

from notes.images import describe_images
from notes.models.addresses import slug_url
from notes.models.aliases import MAX_ALIAS_CHARS, MAX_ALIASES, alias_list, alias_problem
from notes.models.authors import display_name_of
from notes.models.math import MathStylesheet
from notes.models.post_queries import PostQuerySet
from notes.models.references import Reference
from notes.models.site import SiteSettings
from notes.models.taxonomy import Series, Tag
from notes.models.title_words import index_title
from notes.rendering import MarkdownTooLarge, WikiTarget, check_renderable, render_markdown
from notes.slugs import unique_slug
from notes.text import clean_text_fields

MAX_BODY_CHARS = 250_000

# The posts an import is about to write, by slug and lower-cased title: a wikilink to one of
# them resolves to where it will be, so no post is stored with a broken link and rendered again
# when its target arrives. Set only by notes.importing.writing, for the length of one import.
COMING_POSTS: ContextVar[Mapping[str, WikiTarget] | None] = ContextVar(
    "kb_coming_posts", default=None
)


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
            # A wikilink no slug or title answers is looked up among the posts with aliases:
            # few, and without this each such render read the whole table to find them.
            models.Index(
                fields=["id"], condition=models.Q(aliases__gt=""), name="notes_post_aliased_idx"
            ),
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

    def render(self, math_preamble: str | None = None, *, resolve_wikilinks=None) -> None:
        """Render the body into the stored HTML, TOC, excerpt and reading time (no save).

        ``math_preamble`` is the site's TeX macros, read from the site settings if not given;
        ``resolve_wikilinks`` stands in for `PostQuerySet.resolve_wikilinks` (an import that
        resolved a whole batch's links in one go passes its answers).
        Also notes which posts its own wikilinks and embeds reached (`linked_post_ids`,
        `embedded_post_ids`); those inside an embedded post belong to that post."""
        linked: dict = {}
        embedded: dict = {}

        resolve = resolve_wikilinks or Post.objects.resolve_wikilinks

        def remembering_resolver(targets):
            found = dict(resolve(targets))
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
    return slug_url("notes:post-detail", slug)
