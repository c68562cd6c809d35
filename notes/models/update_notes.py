"""Dated notes an author adds atop a post when it changes in substance."""

from __future__ import annotations

from django.db import models

from notes.models.posts import Post
from notes.text import clean_text_fields


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
