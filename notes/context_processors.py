from notes.models import SiteSettings


def site(request):
    settings = SiteSettings.for_request(request)
    return {
        "site_title": settings.site_title,
        "site_description": settings.site_description,
        "site_settings": settings,
    }
