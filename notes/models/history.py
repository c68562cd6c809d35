"""Every save of a post, kept so an author can compare and restore (notes/revisions.py)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from notes.models.posts import Post


class Revision(models.Model):
    """A post as it was after one save: what the history page lists, compares and restores."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField(help_text="1 for the first save, then counting up.")
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    body = models.TextField(blank=True)
    tags = models.TextField(blank=True, help_text="Tag names, one a line.")
    status = models.CharField(max_length=10, choices=Post.Status.choices)
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    saved_at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=200, blank=True, help_text="E.g. “Restored revision 3”.")

    class Meta:
        ordering = ["post", "-number"]
        get_latest_by = "number"
        constraints = [
            models.UniqueConstraint(fields=["post", "number"], name="notes_revision_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.post} · revision {self.number}"

    def get_absolute_url(self) -> str:
        return reverse("admin:notes_post_history", args=[self.post_id])

    @property
    def tag_names(self) -> list[str]:
        return [line for line in self.tags.splitlines() if line]
