"""API writes in the admin's history log, next to the admin's own, naming the token used."""

from __future__ import annotations

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.http import HttpRequest

FLAGS = {"added": ADDITION, "changed": CHANGE, "deleted": DELETION}


def record(request: HttpRequest, obj, action: str, message: str = "") -> None:
    token = getattr(request, "api_token", None)
    via = f"through API token “{token.name}”" if token else "through the API"
    text = f"{message} ({via})" if message else f"{action.capitalize()} {via}"
    LogEntry.objects.log_actions(
        request.api_user.pk, [obj], FLAGS[action], change_message=text, single_object=True
    )
