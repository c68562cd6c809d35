"""What the post editor says and serves besides the form: its state in words, the message
after a save (as a page's message, or as JSON for Ctrl+S), what the trash keeps, and the pages
behind the preview and `[[` completion."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import JsonResponse
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, strip_tags
from django.utils.safestring import SafeString

from notes.models import AuthorProfile, Post
from notes.views import editor


def publication_state(post: Post) -> str:
    """ "Draft", "Scheduled for …" or the date it went out; a draft shows no date of its own."""
    if post.status != Post.Status.PUBLISHED or post.published_at is None:
        return "Draft"
    when = date_format(timezone.localtime(post.published_at), "DATETIME_FORMAT")
    return f"Scheduled for {when}" if post.published_at > timezone.now() else when


def saved_message(post: Post) -> SafeString:
    url = post.get_absolute_url()
    at = date_format(timezone.localtime(), "TIME_FORMAT")
    if post.is_published:
        return format_html(
            'Saved “{}” at {}; it is live: <a href="{}">see it on the site</a>.', post, at, url
        )
    if post.status == Post.Status.PUBLISHED:
        return format_html(
            'Saved “{}” at {}; it is {}: <a href="{}">preview it</a>.',
            post,
            at,
            publication_state(post).lower(),
            url,
        )
    return format_html(
        'Saved the draft “{}” at {}: <a href="{}">preview it</a> (only staff can see it).',
        post,
        at,
        url,
    )


# Ctrl+S sends the form with this header and stays on the page; the answer is JSON.
IN_PLACE_HEADER = "X-KB-Save"


def saves_in_place(request) -> bool:
    return request.method == "POST" and request.headers.get(IN_PLACE_HEADER) == "in-place"


def rows_gone(formsets) -> bool:
    """Whether a row the page shows in an inline is gone after the save: removing a
    [[wikilink]] removes the cross-link row made from it. The page would send its id again,
    which the formset refuses ("Select a valid choice"), so the editor fetches a fresh page."""
    for formset in formsets:
        shown = {form.instance.pk for form in formset.initial_forms if form.instance.pk}
        if shown and formset.model._default_manager.filter(pk__in=shown).count() < len(shown):
            return True
    return False


def saved_in_place(request, post: Post, *, reload: bool = False) -> JsonResponse:
    """What the editor's bar says after Ctrl+S saved: the time, and the version the next save
    starts from. Messages the save left (broken wikilinks…) are handed over here, so none
    turns up on the next page instead, unless the editor is to `reload` the page, which then
    shows them."""
    warnings = [] if reload else [strip_tags(str(m)) for m in messages.get_messages(request)]
    return JsonResponse(
        {
            "saved": True,
            "reload": reload,
            "at": timezone.localtime().strftime("%H:%M"),
            "version": post.version,
            "slug": post.slug,
            "title": post.title,
            "state": publication_state(post),
            "message": strip_tags(saved_message(post)),
            "url": post.get_absolute_url(),
            "warnings": warnings,
        }
    )


def not_saved_in_place(request, form, formsets) -> JsonResponse:
    """Why Ctrl+S did not save: an edit conflict (with the difference, as the page shows it,
    and the version a deliberate second save may replace), or the form's errors in words."""
    errors = []
    for name, field_errors in form.errors.items():
        label = form[name].label if name in form.fields else None
        for message in field_errors:
            if name == NON_FIELD_ERRORS or not label:
                errors.append(message)
            else:
                errors.append(f"{label}: {message}")
    for formset in formsets:
        errors.extend(formset.non_form_errors())
        errors.extend(
            m for form_errors in formset.errors for ms in form_errors.values() for m in ms
        )
    conflict = [
        " ".join(e.messages)
        for e in form.errors.as_data().get(NON_FIELD_ERRORS, [])
        if e.code == "edit_conflict"
    ]
    body = {"saved": False, "conflict": bool(conflict), "errors": errors}
    if conflict:
        body["version"] = int(form.data["base_version"])
        body["conflict_html"] = render_to_string(
            "admin/notes/post/_conflict.html",
            {"conflict": form.conflict, "message": conflict[0]},
            request=request,
        )
    return JsonResponse(body, status=409 if conflict else 400)


def editor_context(request, post: Post | None) -> dict:
    """For the action bar and the form's head: the post's state, and whether readers would see
    the author under their username for want of a name."""
    author = post.author if post is not None else request.user
    profile = AuthorProfile.objects.filter(user=author).first()
    if profile is not None:
        profile_url = reverse("admin:notes_authorprofile_change", args=[profile.pk])
    else:
        profile_url = reverse("admin:notes_authorprofile_add") + f"?user={author.pk}"
    return {
        "post_state": publication_state(post) if post is not None else "New draft",
        "is_draft": post is None or post.status != Post.Status.PUBLISHED,
        "author_unnamed": not (profile and profile.display_name.strip())
        and not author.get_full_name(),
        "author_username": author.get_username(),
        "profile_url": profile_url,
    }


def kept_in_trash(post: Post) -> list[str]:
    """What stays with a trashed post and comes back when it is restored, counted."""
    tags = [tag.name for tag in post.tags.all()]
    outgoing = post.outgoing_links.count()
    incoming = post.incoming_links.count()
    kept = [
        f"its text, title, summary and address ({post.get_absolute_url()})",
        f"{len(tags)} tag(s)" + (f": {', '.join(tags)}" if tags else ""),
        f"{outgoing} cross-link(s) from it to other posts",
        f"{incoming} link(s) to it from other posts, shown as plain text while it is in the trash",
        f"{post.update_notes.count()} update note(s)",
        f"{post.revisions.count()} saved revision(s) of its history",
    ]
    return kept


def admin_urls(post_admin) -> list:
    site = post_admin.admin_site
    return [
        path(
            "preview-frame/",
            site.admin_view(editor.preview_frame),
            name="notes_post_preview_frame",
        ),
        path(
            "link-targets/",
            site.admin_view(editor.link_targets),
            name="notes_post_link_targets",
        ),
    ]
