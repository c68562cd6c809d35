"""Who writes: the name readers see in bylines, citations and feeds, a line about them, a link."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse


class AuthorProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="author_profile"
    )
    display_name = models.CharField(
        max_length=100,
        help_text="Your name as readers see it: in bylines, “Cite as”, BibTeX and feeds.",
    )
    bio = models.CharField(
        "short bio",
        max_length=300,
        blank=True,
        help_text="One or two sentences, e.g. “Researcher in machine learning at …”.",
    )
    link = models.URLField(
        max_length=300, blank=True, help_text="Optional: your home page or profile elsewhere."
    )

    class Meta:
        ordering = ["display_name"]
        verbose_name = "author profile"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(display_name=""),
                name="notes_authorprofile_name_not_empty",
                violation_error_message="Give the name readers should see.",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    def get_absolute_url(self) -> str:
        return reverse("admin:notes_authorprofile_change", args=[self.pk])


def display_name_of(user) -> str:
    """The name a post's readers see: the profile's, else the account's full name, else the
    username. Reads `user.author_profile` as fetched (select it with the author in lists)."""
    try:
        profile = user.author_profile
    except AuthorProfile.DoesNotExist:
        profile = None
    if profile is not None and profile.display_name.strip():
        return profile.display_name.strip()
    return user.get_full_name() or user.get_username()
