from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST
from markdownx.models import MarkdownxField
from markdownx.widgets import AdminMarkdownxWidget

from notes import revisions, services, trash
from notes.admin import mentions, writing
from notes.admin.post_form import PUBLISH, UNPUBLISH, PostAdminForm
from notes.models import Link, Post, Series, Tag, UpdateNote
from notes.views import admin_import


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
    title = "broken links"
    parameter_name = "wikilinks"

    def lookups(self, request, model_admin):
        return [("broken", "Has broken wikilinks"), ("unknown-citations", "Has unknown citations")]

    def queryset(self, request, queryset):
        if self.value() == "broken":
            return queryset.exclude(Q(broken_wikilinks="") | Q(broken_wikilinks__isnull=True))
        if self.value() == "unknown-citations":
            return queryset.exclude(unknown_citations="")
        return queryset


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    form = PostAdminForm
    list_display = ["title", "publication", "tag_list", "minutes", "on_site"]
    list_filter = ["status", BrokenWikilinksFilter, "tags", "published_at", "series"]
    search_fields = ["title", "summary", "body"]
    date_hierarchy = "published_at"
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["tags", "series", "reference"]
    inlines = [LinkInline, UpdateNoteInline]
    actions = ["publish_selected", "unpublish_selected", "trash_selected"]
    readonly_fields = [
        "broken_wikilink_report", "unknown_citation_report", "reading_time", "created_at",
        "updated_at",
    ]  # fmt: skip
    list_select_related = ["author"]
    # In the order an author works: title, body, then what listings show; the buttons that
    # publish are in the action bar (submit_line.html), which stays in view.
    fieldsets = [
        (None, {"fields": ["title", "body", "base_version", "status"]}),
        ("Listing", {"fields": ["summary", "tags", "source_url", "reference"]}),
        ("Address and date", {"fields": ["slug", "aliases", "published_at"]}),
        ("Series", {"fields": ["series", "series_order"], "classes": ["collapse"]}),
        (
            "Details",
            {
                "fields": [
                    "author",
                    "broken_wikilink_report",
                    "unknown_citation_report",
                    "reading_time",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]

    class Media:
        # Keeps unsaved text in the browser; a closed tab or a failed save loses nothing.
        js = ["js/autosave.js"]
        css = {"all": ["css/admin-diff.css", "css/admin-editor.css"]}

    def get_queryset(self, request):
        # Trashed posts live on the trash page only (see `trash_view`).
        return super().get_queryset(request).not_trashed().prefetch_related("tags")

    def get_actions(self, request):
        # "Move to the trash" replaces Django's delete action, which would say "deleted".
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def get_changeform_initial_data(self, request):
        return {"author": request.user.pk, **super().get_changeform_initial_data(request)}

    @admin.display(description="Published", ordering="published_at")
    def publication(self, post: Post) -> str:
        return writing.publication_state(post)

    @admin.display(description="Reading time", ordering="reading_time")
    def minutes(self, post: Post) -> str:
        return f"{post.reading_time} min"

    @admin.display(description="On the site")
    def on_site(self, post: Post) -> str:
        label = "View" if post.is_published else "Preview"
        return format_html('<a href="{}">{}</a>', post.get_absolute_url(), label)

    @admin.display(description="Tags")
    def tag_list(self, post: Post) -> str:
        return ", ".join(tag.name for tag in post.tags.all())

    @admin.display(description="Broken wikilinks")
    def broken_wikilink_report(self, post: Post) -> str:
        broken = post.broken_wikilink_list
        if not broken:
            return "None"
        return format_html_join(", ", "<code>[[{}]]</code>", ((t,) for t in broken))

    @admin.display(description="Unknown citations")
    def unknown_citation_report(self, post: Post) -> str:
        unknown = post.unknown_citation_list
        if not unknown:
            return "None"
        return format_html_join(", ", "<code>[@{}]</code>", ((k,) for k in unknown))

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        post = form.instance
        new_tags = services.get_or_create_tags(form.new_tag_names)
        if new_tags:
            post.tags.add(*new_tags)
        services.after_post_saved(post, user=request.user)
        if writing.saves_in_place(request):
            request.kb_rows_gone = writing.rows_gone(formsets)
        if post.broken_wikilink_list:
            self.message_user(
                request,
                f"“{post}” has wikilinks to posts that do not exist (yet): "
                + ", ".join(f"[[{t}]]" for t in post.broken_wikilink_list),
                messages.WARNING,
            )
        if post.unknown_citation_list:
            self.message_user(
                request,
                f"“{post}” cites keys that are not in the bibliography: "
                + ", ".join(f"[@{k}]" for k in post.unknown_citation_list),
                messages.WARNING,
            )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if change and writing.saves_in_place(request):
            # Reached on a POST only when the form or an inline did not validate.
            formsets = [inline.formset for inline in context["inline_admin_formsets"]]
            return writing.not_saved_in_place(request, context["adminform"].form, formsets)
        context.update(writing.editor_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def response_add(self, request, obj, post_url_continue=None):
        return self._after_save(request, obj) or super().response_add(request, obj)

    def response_change(self, request, obj):
        # Ctrl+S: saved like "Update" (the same form, save_model, save_related, services),
        # answered in JSON so the author stays on the page.
        if writing.saves_in_place(request) and "_continue" in request.POST:
            reload = getattr(request, "kb_rows_gone", False)
            if reload:
                # The page's rows name deleted ones and can't be sent again: a fresh page.
                self.message_user(request, writing.saved_message(obj), messages.SUCCESS)
            return writing.saved_in_place(request, obj, reload=reload)
        return self._after_save(request, obj) or super().response_change(request, obj)

    def _after_save(self, request, post: Post):
        """The author stays in the editor, told in words what happened, with a link to the
        post as readers see it (or its preview, for a draft). Other buttons: Django's way."""
        if not {"_continue", PUBLISH, UNPUBLISH} & set(request.POST) or "_popup" in request.POST:
            return None
        self.message_user(request, writing.saved_message(post), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:notes_post_change", args=[post.pk]))

    def delete_view(self, request, object_id, extra_context=None):
        post = self.get_object(request, unquote(object_id))
        context = {"title": "Move to the trash", "keep_days": trash.KEEP_FOR.days}
        context |= extra_context or {}
        if post is not None:
            context["kept"] = writing.kept_in_trash(post)
        return super().delete_view(request, object_id, context)

    def get_deleted_objects(self, objs, request):
        # Moving to the trash deletes nothing, so there is nothing to list or to need rights for.
        return [], {}, set(), []

    def delete_model(self, request, obj):
        trash.move_to_trash(obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for post in queryset:
            trash.move_to_trash(post, user=request.user)

    def response_delete(self, request, obj_display, obj_id):
        self.message_user(
            request,
            format_html(
                '“{}” is in the <a href="{}">trash</a>; it can be restored for {} days.',
                obj_display,
                reverse("admin:notes_post_trash"),
                trash.KEEP_FOR.days,
            ),
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:notes_post_changelist"))

    @admin.action(description="Publish selected posts")
    def publish_selected(self, request, queryset):
        count = services.publish(queryset, user=request.user)
        self.message_user(request, f"Published {count} post(s).", messages.SUCCESS)

    @admin.action(description="Unpublish selected posts (back to draft)")
    def unpublish_selected(self, request, queryset):
        count = services.unpublish(queryset, user=request.user)
        self.message_user(request, f"Moved {count} post(s) back to draft.", messages.SUCCESS)

    @admin.action(description="Move selected posts to the trash", permissions=["delete"])
    def trash_selected(self, request, queryset):
        self.delete_queryset(request, queryset)
        self.message_user(
            request,
            f"Moved {len(queryset)} post(s) to the trash; they can be restored for "
            f"{trash.KEEP_FOR.days} days.",
            messages.SUCCESS,
        )

    # History, comparison and restore of revisions, and the trash: pages of their own.

    def get_urls(self):
        own = [
            path(
                "<path:object_id>/history/compare/",
                self.admin_site.admin_view(self.compare_view),
                name="notes_post_compare",
            ),
            path(
                "<path:object_id>/history/<int:number>/restore/",
                self.admin_site.admin_view(require_POST(self.restore_view)),
                name="notes_post_restore",
            ),
            path("trash/", self.admin_site.admin_view(self.trash_view), name="notes_post_trash"),
            *writing.admin_urls(self),
            *admin_import.admin_urls(self),
            *mentions.admin_urls(self),
        ]
        return own + super().get_urls()

    def _post_for_history(self, request, object_id) -> Post:
        # Trashed posts keep their history, so this looks past `get_queryset`.
        object_id = unquote(object_id)
        if not object_id.isdigit():
            raise Http404("No such post.")
        post = get_object_or_404(Post, pk=object_id)
        if not self.has_view_or_change_permission(request, post):
            raise PermissionDenied
        return post

    def _page(self, request, template: str, post: Post | None, **context) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": post,
            "post": post,
            **context,
        }
        return TemplateResponse(request, f"admin/notes/post/{template}", context)

    def history_view(self, request, object_id, extra_context=None):
        post = self._post_for_history(request, object_id)
        history = post.revisions.select_related("saved_by")
        return self._page(
            request,
            "revision_history.html",
            post,
            title=f"History of “{post}”",
            revisions=history,
            latest=history.first(),
            can_restore=self.has_change_permission(request, post),
        )

    def compare_view(self, request, object_id):
        post = self._post_for_history(request, object_id)
        numbers = [request.GET.get("from", ""), request.GET.get("to", "")]
        if not all(n.isdigit() for n in numbers):
            latest = post.revisions.first()
            if latest is None:
                return HttpResponseRedirect(reverse("admin:notes_post_history", args=[post.pk]))
            numbers = [str(max(latest.number - 1, 1)), str(latest.number)]
        old, new = (get_object_or_404(post.revisions, number=int(n)) for n in numbers)
        diffs = revisions.compare(
            revisions.snapshot_of_revision(old), revisions.snapshot_of_revision(new)
        )
        return self._page(
            request,
            "revision_compare.html",
            post,
            title=f"Revision {old.number} → {new.number} of “{post}”",
            old=old,
            new=new,
            diffs=[d for d in diffs if d.changed],
            unchanged=[d.label for d in diffs if not d.changed],
        )

    def restore_view(self, request, object_id, number):
        post = self._post_for_history(request, object_id)
        if not self.has_change_permission(request, post):
            raise PermissionDenied
        revision = get_object_or_404(post.revisions, number=number)
        revisions.restore(revision, user=request.user)
        self.message_user(
            request,
            f"Restored revision {number}; it is now the latest revision of “{post}”.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:notes_post_history", args=[post.pk]))

    def trash_view(self, request):
        if not self.has_delete_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            self._act_on_trash(request)
            return HttpResponseRedirect(reverse("admin:notes_post_trash"))
        posts = Post.objects.trashed().order_by("-trashed_at")
        return self._page(
            request,
            "trash.html",
            None,
            title="Trash",
            posts=[(p, trash.kept_until(p)) for p in posts],
            keep_days=trash.KEEP_FOR.days,
        )

    def _act_on_trash(self, request) -> None:
        action = request.POST.get("action")
        if action == "restore":
            pk = request.POST.get("post", "")
            if not pk.isdigit():
                raise Http404("No such post in the trash.")
            post = get_object_or_404(Post.objects.trashed(), pk=pk)
            trash.restore_from_trash(post, user=request.user)
            self.message_user(request, f"Restored “{post}” from the trash.", messages.SUCCESS)
        elif action in {"empty", "empty-expired"} and request.POST.get("confirm") == "yes":
            older_than = trash.KEEP_FOR if action == "empty-expired" else None
            count = trash.empty_trash(older_than=older_than)
            self.message_user(request, f"Deleted {count} post(s) for good.", messages.SUCCESS)
        else:
            self.message_user(
                request, "Tick the box to confirm before emptying the trash.", messages.WARNING
            )


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    formfield_overrides = {MarkdownxField: {"widget": AdminMarkdownxWidget}}

    # A tag's name is among the words its posts are found by: renaming or deleting it
    # re-indexes them.
    def save_model(self, request, obj, form, change):
        services.save_tag(obj)

    def delete_model(self, request, obj):
        services.delete_tag(obj)


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
