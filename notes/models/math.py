"""The stylesheets of typeset formulas, stored by their content's digest."""

from __future__ import annotations

import datetime
import hashlib

from django.db import models
from django.urls import reverse
from django.utils import timezone


class MathStylesheetQuerySet(models.QuerySet):
    def unused(self, older_than: datetime.timedelta = datetime.timedelta(hours=1)):
        """Stylesheets no post links, past the time an open preview may still need them."""
        from notes.models.posts import Post

        linked = Post.objects.exclude(math_stylesheet="").values("math_stylesheet")
        recent = timezone.now() - older_than
        return self.exclude(digest__in=linked).filter(created_at__lt=recent)


class MathStylesheet(models.Model):
    """The rules for the KaTeX style classes one rendering uses (see rendering/katex_styles).

    Content-addressed, so a URL names one stylesheet for good and can be cached forever:
    a post that changes links a new one, and pages cached before the change keep theirs.
    Saving a post or previewing it keeps the row; ``rerender`` drops rows nothing links to.
    """

    digest = models.CharField(max_length=24, primary_key=True)
    css = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MathStylesheetQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        get_latest_by = "created_at"

    def __str__(self) -> str:
        return f"Math stylesheet {self.digest}"

    def get_absolute_url(self) -> str:
        return reverse("notes:math-stylesheet", kwargs={"digest": self.digest})

    @staticmethod
    def digest_of(css: str) -> str:
        return hashlib.sha256(css.encode()).hexdigest()[:20] if css else ""

    @classmethod
    def keep(cls, css: str) -> str:
        """Store ``css`` unless it is already stored; its digest ("" for no rules)."""
        digest = cls.digest_of(css)
        if digest and not cls.objects.filter(digest=digest).exists():
            cls.objects.get_or_create(digest=digest, defaults={"css": css})
        return digest
