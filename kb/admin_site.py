"""The admin's index and sidebar in the order an author works: the notes first (posts, drafts,
tags, series, links, trash), then the people who write them, then the login records."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.urls import NoReverseMatch, reverse

# Apps in this order; any other app follows, alphabetically.
APP_ORDER = ["notes", "auth", "axes"]
APP_NAMES = {"axes": "Login throttling (records)"}
# Within notes: models by object name, with two views of posts (drafts, trash) placed among them.
NOTES_ORDER = ["Post", "Drafts", "Tag", "Series", "Link", "Trash", "AuthorProfile", "SiteSettings"]


class KbAdminSite(admin.AdminSite):
    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        for app in apps:
            app["name"] = APP_NAMES.get(app["app_label"], app["name"])
            if app["app_label"] == "notes":
                app["models"] = _order_notes(app["models"])
        known = {label: i for i, label in enumerate(APP_ORDER)}
        return sorted(apps, key=lambda a: (known.get(a["app_label"], len(known)), a["name"]))


def _order_notes(models: list[dict]) -> list[dict]:
    posts = next((m for m in models if m["object_name"] == "Post"), None)
    if posts is not None and posts.get("admin_url"):
        models = [*models, *_post_views(posts)]
    rank = {name: i for i, name in enumerate(NOTES_ORDER)}
    return sorted(models, key=lambda m: (rank.get(m["object_name"], len(rank)), m["name"]))


def _post_views(posts: dict) -> list[dict]:
    """Rows for the drafts and the trash: pages of the post admin, not models of their own."""
    views = [{**posts, "name": "Drafts", "object_name": "Drafts", "add_url": None}]
    views[0]["admin_url"] = posts["admin_url"] + "?status__exact=draft"
    try:
        trash_url = reverse("admin:notes_post_trash")
    except NoReverseMatch:
        return views
    views.append({**posts, "name": "Trash", "object_name": "Trash", "admin_url": trash_url})
    views[-1]["add_url"] = None
    return views


class KbAdminConfig(AdminConfig):
    default_site = "kb.admin_site.KbAdminSite"
