"""The API object: its routers, its errors (400 with field messages, 404, 409, never a 500 for
bad input) and its documentation, which only staff may open."""

from __future__ import annotations

from django.core.exceptions import ValidationError as ModelValidationError
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import ValidationError

from notes.api import auth, posts, references, taxonomy
from notes.services import EditConflict

api = NinjaAPI(
    title="kb API",
    version="1",
    description=(
        "Read and write kb's posts, tags, series, links, update notes and references, and add "
        "papers by DOI or arXiv id. Send a personal "
        "token made in the admin as `Authorization: Bearer kb_…`; staff may also use their "
        "admin session (with the CSRF token on writes)."
    ),
    urls_namespace="api-v1",
    auth=auth.READ,
    throttle=[auth.PerCallerThrottle()],
    openapi_url="/schema/",
    docs_url="/docs/",
    docs_decorator=auth.staff_or_token,
)
api.add_router("/posts/", posts.router)
api.add_router("/", taxonomy.router)
api.add_router("/", references.router)


def _field(location: tuple) -> str:
    """The field an error is about: ('body', 'data', 'title') → 'title', where 'data' is the
    view's parameter; ('query', 'page') → 'page'."""
    names = [str(part) for part in location]
    if names and names[0] in {"body", "query", "path", "header", "cookie", "form"}:
        names = names[1:]
    if len(names) > 1:
        names = names[1:]
    return ".".join(names) or "request"


@api.exception_handler(ValidationError)
def invalid_input(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        message = error.get("msg", "Invalid value.")
        errors.setdefault(_field(tuple(error.get("loc", ()))), []).append(message)
    return api.create_response(
        request, {"detail": "Some fields were not accepted.", "errors": errors}, status=400
    )


@api.exception_handler(ModelValidationError)
def invalid_model(request: HttpRequest, exc: ModelValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        errors = {
            ("request" if field == "__all__" else field): messages
            for field, messages in exc.message_dict.items()
        }
    else:
        errors = {"request": exc.messages}
    return api.create_response(
        request, {"detail": "Some fields were not accepted.", "errors": errors}, status=400
    )


@api.exception_handler(EditConflict)
def edit_conflict(request: HttpRequest, exc: EditConflict) -> HttpResponse:
    detail = (
        f"This post was saved after version you started from; it is at version "
        f"{exc.current.version} now. Fetch it, merge your changes and send them with that version."
    )
    return api.create_response(
        request, {"detail": detail, "version": exc.current.version}, status=409
    )


@api.exception_handler(IntegrityError)
def integrity_error(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
    # What validation checks can still collide with a write committed at the same moment.
    detail = "That conflicts with something saved at the same time; try again."
    return api.create_response(request, {"detail": detail}, status=409)
