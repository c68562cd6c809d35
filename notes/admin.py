from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.utils.html import format_html_join
from markdownx.models import MarkdownxField
from markdownx.widgets import AdminMarkdownxWidget

from notes import services
from notes.models import Link, Post, Series, Tag, UpdateNote


class PostAdminForm(forms.ModelForm):
    source_url = forms.URLField(
        label="Source",
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=Post._meta.get_field("source_url").help_text,
    )
    new_tags = forms.CharField(
        required=False,
        label="New tags",
        help_text="Comma-separated names of tags to create and add, e.g. “diffusion, sampling”.",
    )

    class Meta:
        model = Post
        fields = [
            "title", "slug", "status", "published_at", "body", "summary", "source_url", "tags",
            "series", "series_order", "author",
        ]  # fmt: skip

    def clean_new_tags(self) -> list[str]:
        names = [" ".join(n.split()) for n in self.cleaned_data["new_tags"].split(",")]
        too_long = [n for n in names if len(n) > Tag._meta.get_field("name").max_length]
        if too_long:
            raise forms.ValidationError(f"Tag names are at most 64 characters: {too_long[0]!r}.")
        return [n for n in names if n]


class LinkInline(admin.TabularInline):
    model = Link
    fk_name = "source"
    extra = 1
    autocomplete_fields = ["target"]
    fields = ["target", "note", "from_wikilink"]
    readonly_fields = ["from_wikilink"]
    verbose_name = "cross-link (see also)"
    verbose_name_plural = "cross-links (see also); rows made from [[wikilinks]] follow the body"


class UpdateNoteInline(admin.TabularInline):
    model = UpdateNote
    extra = 0


class BrokenWikilinksFilter(admin.SimpleListFilter):
    title = "wikilinks"
    parameter_name = "wikilinks"

    def lookups(self, request, model_admin):
        return [("broken", "Has broken wikilinks")]

    def queryset(self, request, queryset):
        if self.value() == "broken":
            return queryset.exclude(Q(broken_wikilinks="") | Q(broken_wikilinks__isnull=True))
        return queryset


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    form = PostAdminForm
    formfield_overrides = {MarkdownxField: {"widget": AdminMarkdownxWidget}}
    list_display = ["title", "status", "published_at", "tag_list", "reading_time"]
    list_filter = ["status", BrokenWikilinksFilter, "tags", "published_at", "series"]
    search_fields = ["title", "summary", "body"]
    date_hierarchy = "published_at"
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["tags", "series"]
    inlines = [LinkInline, UpdateNoteInline]
    actions = ["publish_selected", "unpublish_selected"]
    readonly_fields = ["broken_wikilink_report", "reading_time", "created_at", "updated_at"]
    list_select_related = ["author"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "status", "published_at", "body"]}),
        ("Listing", {"fields": ["summary", "source_url", "tags", "new_tags"]}),
        ("Series", {"fields": ["series", "series_order"], "classes": ["collapse"]}),
        (
            "Details",
            {
                "fields": [
                    "author",
                    "broken_wikilink_report",
                    "reading_time",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("tags")

    def get_changeform_initial_data(self, request):
        return {"author": request.user.pk, **super().get_changeform_initial_data(request)}

    @admin.display(description="Tags")
    def tag_list(self, post: Post) -> str:
        return ", ".join(tag.name for tag in post.tags.all())

    @admin.display(description="Broken wikilinks")
    def broken_wikilink_report(self, post: Post) -> str:
        broken = post.broken_wikilink_list
        if not broken:
            return "None"
        return format_html_join(", ", "<code>[[{}]]</code>", ((t,) for t in broken))

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        post = form.instance
        new_tags = services.get_or_create_tags(form.cleaned_data.get("new_tags", []))
        if new_tags:
            post.tags.add(*new_tags)
        services.after_post_saved(post)
        if post.broken_wikilink_list:
            self.message_user(
                request,
                f"“{post}” has wikilinks to posts that do not exist (yet): "
                + ", ".join(f"[[{t}]]" for t in post.broken_wikilink_list),
                messages.WARNING,
            )

    def delete_model(self, request, obj):
        services.delete_post(obj)

    def delete_queryset(self, request, queryset):
        for post in queryset:
            services.delete_post(post)

    @admin.action(description="Publish selected posts")
    def publish_selected(self, request, queryset):
        count = services.publish(queryset)
        self.message_user(request, f"Published {count} post(s).", messages.SUCCESS)

    @admin.action(description="Unpublish selected posts (back to draft)")
    def unpublish_selected(self, request, queryset):
        count = services.unpublish(queryset)
        self.message_user(request, f"Moved {count} post(s) back to draft.", messages.SUCCESS)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    formfield_overrides = {MarkdownxField: {"widget": AdminMarkdownxWidget}}


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin):
    list_display = ["title", "slug"]
    search_fields = ["title"]
    prepopulated_fields = {"slug": ["title"]}


@admin.register(Link)
class LinkAdmin(admin.ModelAdmin):
    list_display = ["source", "target", "note", "from_wikilink"]
    list_filter = ["from_wikilink"]
    autocomplete_fields = ["source", "target"]
    search_fields = ["source__title", "target__title"]
    list_select_related = ["source", "target"]
