"""The site as a whole: when it last changed, the settings its author edits in the admin, and
the restores it has been through."""

from __future__ import annotations

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from notes.rendering import render_markdown
from notes.rendering.macros import parse_preamble
from notes.rendering.typesetting import mathml_only

# The settings as of the site's newest token, shared by this process's requests (read-only).
_by_token: dict[str, SiteSettings] = {}


class SiteState(models.Model):
    """One row saying when the public site last changed, which the page cache keys on.

    Every write a public page could show replaces `token` inside its own transaction, so a page
    cached under the old token is never served again, by any worker or server. A scheduled post
    changes the site with no write at all: readers notice its time has come through
    `next_publication_at` (notes/site_state.py).
    """

    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField()
    # False after every change, until a reader has looked up the next scheduled post.
    schedule_known = models.BooleanField(default=False)
    next_publication_at = models.DateTimeField(null=True, blank=True)
    # Posts embedding a scheduled post that came out before this have been rendered again
    # (notes/scheduling.py). Unlike the schedule, a change leaves it alone.
    due_checked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Site changed at {self.changed_at:%Y-%m-%d %H:%M:%S}"


class SiteSettings(models.Model):
    """What the author says about the site, edited in the admin; a blank field falls back to
    the environment's default (KB_SITE_TITLE, KB_SITE_DESCRIPTION, KB_SITE_AUTHOR), so a fresh
    install reads its configuration and an author never needs a shell to rename the site."""

    ROW = 1

    title = models.CharField(
        max_length=100, blank=True, help_text="The site's name, in the header and every title."
    )
    description = models.CharField(
        max_length=300,
        blank=True,
        help_text="One sentence for the footer, search engines and feeds.",
    )
    author_name = models.CharField(
        max_length=100,
        blank=True,
        help_text="Who writes here, as the site names its author (feeds, citations).",
    )
    intro = models.TextField(
        blank=True,
        max_length=20_000,
        help_text="Markdown shown above the listing on the home page. Leave blank for none.",
    )
    intro_html = models.TextField(blank=True, editable=False)
    math_preamble = models.TextField(
        blank=True,
        max_length=20_000,
        help_text=r"TeX macros every post may use, e.g. \newcommand{\R}{\mathbb{R}}.",
    )

    class Meta:
        verbose_name = "site settings"
        verbose_name_plural = "site settings"

    def __str__(self) -> str:
        return "Site settings"

    def save(self, *args, **kwargs) -> None:
        self.pk = self.ROW
        # The home page links no formula stylesheet: the intro's formulas are MathML only.
        intro = (
            render_markdown(self.intro, math_preamble=self.math_preamble)
            if self.intro.strip()
            else None
        )
        self.intro_html = mathml_only(intro.html) if intro else ""
        super().save(*args, **kwargs)

    def clean(self) -> None:
        _, leftover = parse_preamble(self.math_preamble)
        if leftover:
            raise ValidationError(
                {
                    "math_preamble": "Only \\newcommand, \\renewcommand, \\def and "
                    f"\\DeclareMathOperator definitions belong here, not “{leftover[:80]}”."
                }
            )

    @classmethod
    def current(cls) -> SiteSettings:
        """The saved settings, or the environment's defaults before anyone saved them."""
        return cls.objects.filter(pk=cls.ROW).first() or cls(pk=cls.ROW)

    @classmethod
    def for_request(cls, request) -> SiteSettings:
        """`current()`, read once per request however many parts of the page ask, and once
        per process for each state of the site when the page cache has read that state's
        token (`request.site_state`): saving the settings replaces the token in the same
        transaction, so a request that sees the old token may be shown the old settings and
        one that sees the new token reads them anew."""
        found = getattr(request, "_kb_site_settings", None)
        if found is None:
            state = getattr(request, "site_state", None)
            token = state.token if state is not None else None
            kept = _by_token.get(token) if token else None
            if kept is None:
                kept = cls.current()
                if token:
                    _by_token.clear()  # only the newest state is asked for again
                    _by_token[token] = kept
            found = request._kb_site_settings = kept
        return found

    @property
    def site_title(self) -> str:
        return self.title or django_settings.KB_SITE_TITLE

    @property
    def site_description(self) -> str:
        return self.description or django_settings.KB_SITE_DESCRIPTION

    @property
    def site_author(self) -> str:
        return self.author_name or django_settings.KB_SITE_AUTHOR


class RestoreRecord(models.Model):
    """A restore that committed. Its media wait in a folder named by `token` until they are
    moved into place; finding this row tells a restore cut short to finish moving them, and
    its absence tells it to throw them away (notes/backup/media.py)."""

    token = models.CharField(max_length=32, unique=True)
    restored_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-restored_at"]
        get_latest_by = "restored_at"

    def __str__(self) -> str:
        return f"Restore at {self.restored_at:%Y-%m-%d %H:%M:%S}"
