"""/api/v1/references/: the bibliography posts cite, and /api/v1/papers/, a paper by its DOI or
arXiv id added to it (with a summary draft). A read-only token sees what the site's
/references/ shows: works a published post cites or summarizes."""

import math

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.errors import HttpError

from notes import services
from notes.api import auth, history
from notes.api.posts import MAX_PAGE, MAX_PAGE_SIZE, READ_ERRORS, WRITE_ERRORS
from notes.api.schemas import (
    BibtexIn,
    BibtexReport,
    Error,
    PaperIn,
    PaperOut,
    ReferenceIn,
    ReferenceOut,
    ReferencePage,
    ReferencePatch,
    Text,
)
from notes.bibliography.importing import BibliographyImportError, import_bibtex
from notes.capture.identifiers import LookupFailed, parse_identifier
from notes.capture.metadata import PageMetadata
from notes.capture.papers import capture_paper, citation_key
from notes.models import Reference

router = Router(tags=["references"])
MAX_SEARCH_CHARS = 200


def _references(request: HttpRequest):
    token = getattr(request, "api_token", None)
    if token is not None and not token.can_write:
        return Reference.objects.public()
    return Reference.objects.all()


def _one(request: HttpRequest, key: str) -> Reference:
    found = _references(request).filter(key=key).first()
    if found is None:
        raise HttpError(404, f"No reference with the key {key!r}.")
    return found


def _people(data) -> list[dict[str, str]]:
    return [{k: v for k, v in person.dict().items() if v} for person in data]


def _save(reference: Reference) -> Reference:
    """Validate as the admin does (unique key, DOI and arXiv id included), then save through
    the service, which re-renders the posts citing it."""
    reference.full_clean()
    return services.save_reference(reference)


@router.get("references/", response={200: ReferencePage, **READ_ERRORS})
def list_references(
    request: HttpRequest,
    q: Text = "",
    page: int = Query(1, ge=1, le=MAX_PAGE),
    page_size: int = Query(50, ge=1, le=MAX_PAGE_SIZE),
):
    """In the order the site's References page lists them: by author, year and title. `q`
    keeps those whose key, title or authors' names contain every word of it."""
    references = _references(request)
    for word in q.split()[:10]:
        word = word[:MAX_SEARCH_CHARS]
        references = references.filter(
            Q(key__icontains=word) | Q(title__icontains=word) | Q(author_names__icontains=word)
        )
    count = references.count()
    start = (page - 1) * page_size
    return {
        "count": count,
        "page": page,
        "pages": max(1, math.ceil(count / page_size)),
        "items": list(references[start : start + page_size]),
    }


@router.post(
    "references/import-bibtex/", auth=auth.WRITE, response={200: BibtexReport, **WRITE_ERRORS}
)
def import_references(request: HttpRequest, data: BibtexIn):
    """Every entry of a .bib text, matched by key: new ones created, changed ones updated. All
    or nothing: any problem is a 400 naming each line, and nothing is written."""
    try:
        report = import_bibtex(data.bibtex, name="the BibTeX sent", dry_run=data.dry_run)
    except BibliographyImportError as exc:
        errors = {"bibtex": [str(problem) for problem in exc.problems]}
        raise ValidationError(errors) from exc
    return report


@router.get("references/{path:key}/", response={200: ReferenceOut, **READ_ERRORS})
def read_reference(request: HttpRequest, key: str):
    return _one(request, key)


@router.post("references/", auth=auth.WRITE, response={201: ReferenceOut, **WRITE_ERRORS})
@transaction.atomic
def create_reference(request: HttpRequest, data: ReferenceIn):
    fields = data.dict(exclude={"authors"}, exclude_none=True)
    reference = Reference(**fields, authors=_people(data.authors or []))
    if not reference.key:
        people = reference.authors
        reference.key = citation_key(
            PageMetadata(title=reference.title, people=people, published=str(reference.year or ""))
        )
    _save(reference)
    history.record(request, reference, "added")
    return Status(201, reference)


@router.patch(
    "references/{path:key}/", auth=auth.WRITE, response={200: ReferenceOut, **WRITE_ERRORS}
)
@transaction.atomic
def update_reference(request: HttpRequest, key: str, data: ReferencePatch):
    """Posts citing it are re-rendered. A new key leaves posts citing the old one with an
    unknown key, listed in the admin, until they are edited."""
    reference = _one(request, key)
    for name, value in data.dict(exclude_unset=True).items():
        if name == "authors":
            value = _people(data.authors or [])
        elif value is None:
            value = None if name in {"year", "month"} else ""
        setattr(reference, name, value)
    _save(reference)
    history.record(
        request, reference, "changed", f"Changed {', '.join(sorted(data.model_fields_set))}"
    )
    return reference


@router.delete("references/{path:key}/", auth=auth.WRITE, response={204: None, **WRITE_ERRORS})
@transaction.atomic
def delete_reference(request: HttpRequest, key: str):
    """Posts citing it keep the citation, shown as an unknown key."""
    reference = _one(request, key)
    history.record(request, reference, "deleted")
    services.delete_reference(reference)
    return Status(204, None)


@router.post(
    "papers/", auth=auth.WRITE,
    response={200: PaperOut, 201: PaperOut, 502: Error, **WRITE_ERRORS},
)  # fmt: skip
def add_paper(request: HttpRequest, data: PaperIn):
    """Look a paper up in the arXiv API or Crossref and add it to the bibliography, with a
    summary draft attached unless `draft` is false. A paper already there is not added twice
    (200); a new one is 201. 404 if the registry has no such paper, 502 if it cannot be
    reached."""
    identifier = parse_identifier(data.identifier)
    if identifier is None:
        raise ValidationError({"identifier": ["Not a DOI or an arXiv id."]})
    try:
        captured = capture_paper(identifier, user=request.api_user, draft=data.draft)
    except LookupFailed as exc:
        raise HttpError(404 if exc.unknown else 502, str(exc)) from exc
    if captured.reference_created:
        history.record(request, captured.reference, "added")
    post_created = captured.post is not None and not captured.post_existed
    if post_created:
        history.record(request, captured.post, "added", "Captured a summary draft")
    answer = {
        "reference": captured.reference,
        "reference_created": captured.reference_created,
        "post": captured.post.pk if captured.post else None,
        "post_created": post_created,
    }
    return Status(201 if captured.reference_created or post_created else 200, answer)
