"""The author's profile: the name readers see, asked for on its own page and on the account."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db import models

from notes.models import AuthorProfile


@admin.register(AuthorProfile)
class AuthorProfileAdmin(admin.ModelAdmin):
    list_display = ["display_name", "user", "link"]
    fields = ["user", "display_name", "bio", "link"]
    search_fields = ["display_name", "user__username"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request):
        profiles = super().get_queryset(request).select_related("user")
        # Everyone edits their own name; only a superuser edits other people's.
        return profiles if request.user.is_superuser else profiles.filter(user=request.user)

    def get_readonly_fields(self, request, obj=None):
        return [] if request.user.is_superuser else ["user"]

    def get_changeform_initial_data(self, request):
        return {"user": request.user.pk, **super().get_changeform_initial_data(request)}

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser:
            obj.user = request.user
        super().save_model(request, obj, form, change)


class AuthorProfileInline(admin.StackedInline):
    model = AuthorProfile
    can_delete = False
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    verbose_name_plural = "author profile (the name readers see)"


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class UserWithProfileAdmin(UserAdmin):
    inlines = [*UserAdmin.inlines, AuthorProfileInline]
