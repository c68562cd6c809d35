"""The post form: fields in the order an author works, one tag field, the Publish button's
meaning, errors in plain words, and the edit-conflict check."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from notes import revisions, services
from notes.admin.editor import EditorWidget, TagsField
from notes.models import Post
from notes.models.aliases import alias_list

# What the action bar's buttons ask for, besides saving (see submit_line.html).
PUBLISH, UNPUBLISH = "_publish", "_unpublish"


class PostAdminForm(forms.ModelForm):
    source_url = forms.URLField(
        label="Source",
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=Post._meta.get_field("source_url").help_text,
    )
    # The version the author opened; saving over a newer one is an edit conflict.
    base_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Post
        fields = [
            "title", "slug", "aliases", "status", "published_at", "body", "summary",
            "source_url", "reference", "tags", "series", "series_order", "author",
        ]  # fmt: skip
        widgets = {
            "body": EditorWidget,
            "status": forms.HiddenInput,
            "aliases": forms.Textarea(attrs={"rows": 3, "cols": 60}),
        }
        error_messages = {
            "title": {"required": "Give the post a title."},
            "body": {"required": "Write something in the body."},
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tags"] = TagsField(admin.site, label="Tags")
        self.new_tag_names: list[str] = []
        self.conflict: list[revisions.FieldDiff] = []
        if self.instance.pk is not None:
            self.fields["base_version"].initial = self.instance.version
        # The buttons, not a dropdown, say whether the post goes out (Publish) or back (draft).
        if self.is_bound and (PUBLISH in self.data or UNPUBLISH in self.data):
            self.data = self.data.copy()
            self.data["status"] = (
                Post.Status.PUBLISHED if PUBLISH in self.data else Post.Status.DRAFT
            )

    def clean_aliases(self) -> str:
        # One a line as stored, so the author sees what wikilinks will match; Post.clean()
        # then says what is wrong, if anything, beside this field.
        return "\n".join(alias_list(self.cleaned_data["aliases"]))

    def clean_tags(self):
        tags, self.new_tag_names = self.cleaned_data["tags"]
        return tags

    def _get_validation_exclusions(self):
        # A blank slug is made from the title: with no usable title there is nothing to check.
        excluded = super()._get_validation_exclusions()
        if "title" in self._errors and not self.cleaned_data.get("slug"):
            excluded.add("slug")
        return excluded

    def clean(self):
        cleaned = super().clean()
        base = cleaned.get("base_version")
        if self.instance.pk is None or base is None:
            return cleaned
        # The admin saves inside one transaction; the lock holds until this save is done.
        try:
            services.lock_for_edit(self.instance.pk, base)
            return cleaned
        except services.EditConflict as conflict:
            current = conflict.current
        tag_names = [t.name for t in cleaned.get("tags") or []] + self.new_tag_names
        mine = {
            "title": cleaned.get("title", ""),
            "summary": cleaned.get("summary", ""),
            "tags": "\n".join(sorted(set(tag_names), key=str.lower)),
            "status": cleaned.get("status", ""),
            "body": cleaned.get("body", ""),
        }
        self.conflict = [
            d for d in revisions.compare(revisions.snapshot_of_post(current), mine) if d.changed
        ]
        # Saving this form again, now that the author has seen the difference, is deliberate.
        self.data = self.data.copy()
        self.data["base_version"] = str(current.version)
        raise forms.ValidationError(
            "This post was saved elsewhere (another tab or another person) after you opened it, "
            "so your changes were not saved. Below is how your text differs from the saved one. "
            "Save again to replace it with yours, or reload the page to start from it.",
            code="edit_conflict",
        )
