"""Personal API tokens: created in the admin, shown once, stored only as a hash.

A token is a long random secret, so a plain SHA-256 of it is enough to look it up and can't be
reversed; a slow password hash would only make every API request slow.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

PREFIX = "kb_"
# last_used_at is written at most this often, so reading the API is not a write per request.
LAST_USED_PRECISION = datetime.timedelta(minutes=1)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenRefused(Exception):
    """The secret names no usable token; the message says why."""


class ApiToken(models.Model):
    class Scope(models.TextChoices):
        READ = "read", "Read only"
        WRITE = "write", "Read and write"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What uses it, e.g. “laptop scripts”.")
    scope = models.CharField(max_length=5, choices=Scope.choices, default=Scope.READ)
    prefix = models.CharField(
        max_length=12, editable=False, help_text="The start of the token, to tell tokens apart."
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Leave blank for a token that does not expire."
    )
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope__in=["read", "write"]), name="notes_apitoken_scope_valid"
            ),
            models.CheckConstraint(condition=~models.Q(key_hash=""), name="notes_apitoken_hashed"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def get_absolute_url(self) -> str:
        return reverse("admin:notes_apitoken_change", args=[self.pk])

    @classmethod
    def issue(cls, *, user, name: str, scope: str, expires_at=None) -> tuple[ApiToken, str]:
        """A new token and its secret, which is never stored and can't be shown again."""
        token = cls(user=user, name=name, scope=scope, expires_at=expires_at)
        secret = token.set_secret()
        token.save()
        return token, secret

    def set_secret(self) -> str:
        secret = PREFIX + secrets.token_urlsafe(32)
        self.prefix = secret[: len(PREFIX) + 6]
        self.key_hash = hash_secret(secret)
        return secret

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.WRITE

    @property
    def status(self) -> str:
        if self.revoked_at:
            return "revoked"
        if self.expires_at and self.expires_at <= timezone.now():
            return "expired"
        return "active"

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            ApiToken.objects.filter(pk=self.pk).update(revoked_at=self.revoked_at)


def authenticate(secret: str) -> ApiToken:
    """The active token with this secret, its last use recorded; else TokenRefused."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        raise TokenRefused("That is not a kb API token.")
    token = ApiToken.objects.select_related("user").filter(key_hash=hash_secret(secret)).first()
    if token is None:
        raise TokenRefused("Unknown API token.")
    if token.status != "active":
        raise TokenRefused(
            f"This API token has {'been revoked' if token.revoked_at else 'expired'}."
        )
    user = token.user
    if not (user.is_active and user.is_staff):
        raise TokenRefused("This API token's owner is no longer a staff member.")
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        token.last_used_at = now
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
