"""The bibliography in the admin: references searchable by key, author and title, saved
through the services (so citing posts re-render), and a .bib upload with a dry run."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from notes import services
from notes.bibliography.importing import BibliographyImportError, import_bibtex
from notes.bibliography.writing import bibliography_bibtex
from notes.models import Reference

MAX_BIB_BYTES = 5 * 1024 * 1024


class BibtexUploadForm(forms.Form):
    file = forms.FileField(label=".bib file")
    dry_run = forms.BooleanField(
        required=False, initial=True, help_text="Check the file and report, writing nothing."
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BIB_BYTES:
            raise forms.ValidationError("A .bib file may be at most 5 MB.")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError(f"{upload.name} is not UTF-8 text.") from exc


@admin.register(Reference)
class ReferenceAdmin(admin.ModelAdmin):
    list_display = ["key", "title", "first_author", "year", "venue"]
    search_fields = ["key", "title", "author_names"]
    list_filter = ["entry_type", "year"]
    readonly_fields = ["created_at", "updated_at"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        (None, {"fields": ["key", "entry_type", "title", "authors", "year", "month"]}),
        ("Where", {"fields": ["venue", "volume", "number", "pages", "publisher"]}),
        ("Links", {"fields": ["doi", "arxiv_id", "url"]}),
        ("Text", {"fields": ["abstract", "bibtex", "created_at", "updated_at"]}),
    ]

    @admin.display(description="First author")
    def first_author(self, reference: Reference) -> str:
        return reference.authors[0].get("family", "") if reference.authors else ""

    def save_model(self, request, obj, form, change):
        if change and "bibtex" not in form.changed_data and form.changed_data:
            # Edited by hand: the imported text no longer says what the fields do.
            obj.bibtex = ""
        services.save_reference(obj)

    def delete_model(self, request, obj):
        services.delete_reference(obj)

    def delete_queryset(self, request, queryset):
        for reference in queryset:
            services.delete_reference(reference)

    def get_urls(self):
        own = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="notes_reference_import",
            ),
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="notes_reference_export",
            ),
        ]
        return own + super().get_urls()

    def import_view(self, request):
        if not self.has_add_permission(request):
            return HttpResponse("You may not add references.", status=403)
        form = BibtexUploadForm(request.POST or None, request.FILES or None)
        report = problems = None
        if request.method == "POST" and form.is_valid():
            name = request.FILES["file"].name
            try:
                report = import_bibtex(
                    form.cleaned_data["file"], name=name, dry_run=form.cleaned_data["dry_run"]
                )
            except BibliographyImportError as error:
                problems = [f"{name}: {p}" for p in error.problems]
            else:
                if not report.dry_run:
                    self.message_user(
                        request, f"Imported {name}: {report.summary()}.", messages.SUCCESS
                    )
                    return HttpResponseRedirect(reverse("admin:notes_reference_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import a .bib file",
            "form": form,
            "report": report,
            "problems": problems,
        }
        return TemplateResponse(request, "admin/notes/reference/import.html", context)

    def export_view(self, request):
        if not self.has_view_permission(request):
            return HttpResponse("You may not see references.", status=403)
        response = HttpResponse(
            bibliography_bibtex(Reference.objects.all()), content_type="text/x-bibtex"
        )
        response["Content-Disposition"] = 'attachment; filename="references.bib"'
        return response
