from django.contrib import admin

from notes.models import Redirect


@admin.register(Redirect)
class RedirectAdmin(admin.ModelAdmin):
    """Old addresses that answer with a 301 to their post: made by imports and renames, and
    editable here."""

    list_display = ["old_path", "post", "created_at"]
    search_fields = ["old_path", "post__title", "post__slug"]
    autocomplete_fields = ["post"]
    list_select_related = ["post"]
