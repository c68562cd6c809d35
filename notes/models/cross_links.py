"""Cross-links between posts, the "see also" of a post and the rows its [[wikilinks]] and
![[embeds]] keep."""

from __future__ import annotations

from django.db import models

from notes.models.posts import Post
from notes.text import clean_text_fields


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
