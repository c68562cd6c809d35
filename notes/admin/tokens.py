"""API tokens in the admin: created with a name, scope and optional expiry, shown once, revoked
with an action. The admin logs each of these in its history, as for any model."""

from __future__ import annotations

from django.contrib import admin, messages
from django.template.response import TemplateResponse

from notes.models.tokens import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "user", "scope", "status", "last_used_at", "expires_at"]
    list_filter = ["scope"]
    search_fields = ["name", "prefix"]
    list_select_related = ["user"]
    actions = ["revoke_selected"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]

    def get_queryset(self, request):
        # Staff see and revoke their own tokens; a superuser sees everyone's.
        tokens = super().get_queryset(request)
        return tokens if request.user.is_superuser else tokens.filter(user=request.user)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "scope", "expires_at"]
        return ["name", "user", "scope", "prefix", "created_at", "last_used_at", "expires_at",
                "revoked_at"]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        # A token's powers are fixed when it is made; to change them, make another.
        if obj is None:
            return self.readonly_fields
        return [*self.readonly_fields, "user", "scope"]

    @admin.display(description="Status")
    def status(self, token: ApiToken) -> str:
        return token.status

    def save_model(self, request, obj, form, change):
        if not change:
            obj.user = request.user
            # Kept on the request only, to be shown once by response_add.
            request.new_token_secret = obj.set_secret()
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"API token “{obj.name}”",
            "token": obj,
            "secret": request.new_token_secret,
        }
        response = TemplateResponse(request, "admin/notes/apitoken/created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke selected tokens")
    def revoke_selected(self, request, queryset):
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            token.revoke()
            self.log_change(request, token, "Revoked")
            count += 1
        self.message_user(request, f"Revoked {count} token(s).", messages.SUCCESS)
