"""How posts are grouped: tags, and series read in order."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from markdownx.models import MarkdownxField

from notes.models.addresses import slug_url
from notes.rendering import render_markdown
from notes.rendering.typesetting import mathml_only
from notes.slugs import unique_slug
from notes.text import clean_text_fields


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
        return slug_url("notes:tag-detail", self.slug)
