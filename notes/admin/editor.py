"""The post editor's widgets: the split-pane Markdown editor and the one tag field."""

from __future__ import annotations

from django import forms
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.urls import reverse
from markdownx.widgets import MarkdownxWidget

from notes.models import Post, Tag

# Every editor script, each a small static file (the CSP allows no inline script).
EDITOR_SCRIPTS = [
    "js/editor/core.js",
    "js/editor/preview.js",
    "js/editor/keys.js",
    "js/editor/complete.js",
    "js/editor/images.js",
    "js/editor/actions.js",
    "js/editor/save.js",
]


class EditorWidget(MarkdownxWidget):
    """markdownx's textarea and its endpoints (preview, upload), with kb's own editor around
    it: source and the reader's view side by side, shortcuts, `[[` completion, pasted images.
    markdownx's script is left out: it grows the textarea and renders the preview in the
    admin's styles, under the source."""

    template_name = "admin/notes/post/editor_widget.html"

    class Media:
        extend = False
        js = EDITOR_SCRIPTS
        css = {"all": ["css/admin-editor.css"]}

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"].update(
            {"spellcheck": "true", "aria-describedby": "kb-editor-help", "rows": 30}
        )
        context["editor"] = {
            "frame_url": reverse("admin:notes_post_preview_frame"),
            "preview_url": reverse("markdownx_markdownify"),
            "upload_url": reverse("markdownx_upload"),
            "complete_url": reverse("admin:notes_post_link_targets"),
        }
        return context


class TagsWidget(AutocompleteSelectMultiple):
    """Django's tag autocomplete in select2's tagging mode: typing a name that matches no tag
    and pressing Enter (or a comma) adds it as a new tag."""

    def __init__(self, admin_site):
        super().__init__(
            Post._meta.get_field("tags"),
            admin_site,
            attrs={"data-tags": "true", "data-token-separators": '[","]'},
        )

    def optgroups(self, name, value, attr=None):
        # New names have no id yet: list them as chosen options after the existing tags.
        value = [str(v) for v in value or [] if str(v).strip()]
        groups = super().optgroups(name, [v for v in value if v.isdigit()], attr)
        chosen = {str(option["value"]) for _, options, _ in groups for option in options}
        for index, new_name in enumerate(v for v in value if v not in chosen):
            option = self.create_option(name, new_name, new_name, True, len(chosen) + index)
            groups.append((None, [option], len(chosen) + index))
        return groups


class TagsField(forms.ModelMultipleChoiceField):
    """Existing tags by id and new ones by name, as select2's tagging mode sends them.

    Cleans to `(tags, new_names)`; the names are created only when the post is saved."""

    def __init__(self, admin_site, **kwargs):
        super().__init__(
            queryset=Tag.objects.all(),
            required=False,
            widget=TagsWidget(admin_site),
            help_text="Type to find a tag; press Enter or a comma to add a new one.",
            **kwargs,
        )

    def clean(self, value):
        values = [" ".join(str(v).split()) for v in value or []]
        ids = [v for v in values if v.isdigit()]
        existing = {str(tag.pk): tag for tag in Tag.objects.filter(pk__in=ids)}
        limit = Tag._meta.get_field("name").max_length
        tags: list[Tag] = []
        new_names: list[str] = []
        for v in values:
            if "\x00" in v:
                raise forms.ValidationError("Null characters are not allowed in tag names.")
            if v in existing:
                tags.append(existing[v])
            elif len(v) > limit:
                raise forms.ValidationError(f"Tag names are at most {limit} characters: {v!r}.")
            elif v and v.lower() not in {n.lower() for n in new_names}:
                new_names.append(v)
        return tags, new_names
