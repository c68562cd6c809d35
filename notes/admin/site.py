"""Site settings: one row, edited on one page, never added twice or deleted."""

from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import reverse

from notes.models import SiteSettings


@admin.register(SiteSettings)
class SiteSettingsAdmin(admin.ModelAdmin):
    fieldsets = [
        (None, {"fields": ["title", "description", "author_name"]}),
        ("Home page", {"fields": ["intro"]}),
        ("Math", {"fields": ["math_preamble"]}),
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        # There is one row: the list would be a page with one link on it.
        settings, _ = SiteSettings.objects.get_or_create(pk=SiteSettings.ROW)
        return HttpResponseRedirect(reverse("admin:notes_sitesettings_change", args=[settings.pk]))

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        # The environment's defaults, so the author sees what a blank field means.
        defaults = SiteSettings()
        for name, value in (
            ("title", defaults.site_title),
            ("description", defaults.site_description),
            ("author_name", defaults.site_author),
        ):
            if value:
                form.base_fields[name].widget.attrs["placeholder"] = value
        return form
