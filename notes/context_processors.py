from dataclasses import dataclass

from django.urls import reverse

from notes.models import SiteSettings


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    # "page" on the section's own page, "true" on a page inside it (a tag's page under Tags),
    # "" elsewhere: the value of aria-current.
    current: str
    # Left out of a phone's one-row header; the footer links it on every screen.
    wide_only: bool = False


# Header sections and the views that belong to each.
SECTIONS = (
    ("Posts", "notes:post-list", {"post-list", "post-detail", "series-detail"}, False),
    ("Tags", "notes:tag-list", {"tag-list", "tag-detail", "tag-combination"}, False),
    ("Archive", "notes:archive", {"archive"}, False),
    ("Graph", "notes:graph", {"graph"}, True),
    ("References", "notes:reference-list", {"reference-list", "reference-detail"}, True),
)


def site(request):
    settings = SiteSettings.for_request(request)
    return {
        "site_title": settings.site_title,
        "site_description": settings.site_description,
        "site_settings": settings,
        "nav_items": nav_items(request),
    }


def nav_items(request) -> list[NavItem]:
    match = getattr(request, "resolver_match", None)
    name = match.url_name if match and match.namespace == "notes" else None
    items = []
    for label, url_name, views, wide_only in SECTIONS:
        href = reverse(url_name)
        current = ""
        if name in views:
            on_page = request.path == href and not request.GET.get("page")
            current = "page" if on_page else "true"
        items.append(NavItem(label, href, current, wide_only))
    return items
