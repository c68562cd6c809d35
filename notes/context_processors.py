from django.conf import settings


def site(request):
    return {
        "site_title": settings.KB_SITE_TITLE,
        "site_description": settings.KB_SITE_DESCRIPTION,
    }
