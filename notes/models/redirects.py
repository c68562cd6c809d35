"""Old addresses of posts: where an imported post lived before (a Jekyll permalink, a Hugo
alias or section path) and a post's earlier slugs. A request for one gets a 301 to the post."""

from __future__ import annotations

from django.db import models

from notes.models.posts import Post

MAX_PATH_CHARS = 500


class Redirect(models.Model):
    old_path = models.CharField(
        max_length=MAX_PATH_CHARS,
        unique=True,
        help_text="A path on this site, such as /2021/07/11/diffusion-models.html.",
    )
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="redirects")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["old_path"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(old_path__startswith="/"), name="notes_redirect_path_absolute"
            )
        ]

    def __str__(self) -> str:
        return f"{self.old_path} → {self.post.slug}"

    def get_absolute_url(self) -> str:
        return self.post.get_absolute_url()
