"""A paper by its DOI or arXiv id becomes a bibliography entry and, if wanted, a summary draft
attached to it: what `manage.py add_reference`, the capture page and the API's lookup share.

A paper already in the bibliography (the same DOI or arXiv id) is reused, never duplicated;
a summary already written about it is reported rather than written twice.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower

from notes import services
from notes.capture.drafts import compose, save_draft
from notes.capture.identifiers import Identifier, look_up
from notes.capture.metadata import PageMetadata
from notes.models import Post, Reference

# Words a key should not be named after: "ho2020denoising", not "ho2020a".
_TITLE_SKIP = {"a", "an", "the", "on", "of", "in", "for", "to", "and", "towards", "toward"}
_FIELD_LIMITS = {
    name: Reference._meta.get_field(name).max_length
    for name in ("title", "venue", "volume", "number", "pages", "publisher")
}


@dataclass
class CapturedPaper:
    reference: Reference
    reference_created: bool
    post: Post | None  # the summary draft written now, or the one written before
    post_existed: bool = False


def existing_reference(identifier: Identifier) -> Reference | None:
    references = Reference.objects.all()
    if identifier.kind == "arxiv":
        return references.filter(arxiv_id=identifier.value).first()
    return references.annotate(doi_lower=Lower("doi")).filter(doi_lower=identifier.value).first()


def _ascii_word(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())


def citation_key(meta: PageMetadata) -> str:
    """Google Scholar's shape, family name + year + first real title word ("ho2020denoising"),
    with a letter added while the key is taken."""
    people = meta.people or [{"literal": name} for name in meta.authors]
    first = people[0] if people else {}
    family = _ascii_word(first.get("family") or (first.get("literal") or "").split(" ")[-1])
    words = [_ascii_word(w) for w in meta.title.split()]
    word = next((w for w in words if w and w not in _TITLE_SKIP), "")
    base = (family + meta.year + word)[:60] or "paper"
    if not base[0].isalnum():
        base = "paper" + base
    taken = set(Reference.objects.filter(key__istartswith=base).values_list("key", flat=True)[:200])
    taken_folded = {key.lower() for key in taken}
    if base not in taken_folded:
        return base
    for letter in "bcdefghijklmnopqrstuvwxyz":
        if base + letter not in taken_folded:
            return base + letter
    return f"{base}{len(taken) + 1}"


def new_reference(meta: PageMetadata, identifier: Identifier) -> Reference:
    """An unsaved Reference with what the registry said."""
    details = meta.details
    year = int(meta.year) if meta.year else None
    month = int(meta.published[5:7]) if re.match(r"\d{4}-\d{2}", meta.published) else None
    values = {
        "title": meta.title,
        "venue": "" if identifier.kind == "arxiv" else meta.site_name,
        "volume": details.get("volume", ""),
        "number": details.get("number", ""),
        "pages": details.get("pages", ""),
        "publisher": details.get("publisher", ""),
    }
    values = {name: value[: _FIELD_LIMITS[name]] for name, value in values.items()}
    return Reference(
        key=citation_key(meta),
        entry_type=details.get("entry_type") or "misc",
        authors=meta.people or [{"literal": name} for name in meta.authors],
        year=year,
        month=month if month and 1 <= month <= 12 else None,
        doi=meta.doi,
        arxiv_id=meta.arxiv_id,
        url=identifier.url,
        abstract=meta.description,
        **values,
    )


@transaction.atomic
def reference_for(
    identifier: Identifier, meta: PageMetadata | None = None
) -> tuple[Reference, bool]:
    """The bibliography's entry for the paper, made from the registry's answer if it has none
    yet. Raises LookupFailed when the registry is needed and cannot answer."""
    found = existing_reference(identifier)
    if found is not None:
        return found, False
    return _add(new_reference(meta or look_up(identifier), identifier)), True


def _add(reference: Reference) -> Reference:
    if reference.doi and Reference.objects.filter(doi__iexact=reference.doi).exists():
        reference.doi = ""  # an arXiv paper whose journal version is already in, under its DOI
    reference.full_clean()
    return services.save_reference(reference)


def summary_of(reference: Reference, identifier: Identifier) -> Post | None:
    """A post already about the paper: attached to its entry, or made from its address."""
    about = Q(reference=reference) | Q(source_url=identifier.url)
    return Post.objects.not_trashed().filter(about).order_by("pk").first()


@transaction.atomic
def capture_paper(identifier: Identifier, *, user, draft: bool = True) -> CapturedPaper:
    """Add the paper to the bibliography and, with `draft`, write a summary draft of it linked
    to its entry, unless one exists. All or nothing; LookupFailed if the registry is needed and
    cannot answer."""
    reference = existing_reference(identifier)
    meta = None
    if reference is None:
        meta = look_up(identifier)
        reference = _add(new_reference(meta, identifier))
    created = meta is not None
    if not draft:
        return CapturedPaper(reference, created, None)
    summary = summary_of(reference, identifier)
    if summary is not None:
        if summary.reference_id is None:
            summary.reference = reference
            services.save_post(summary, user=user, note="Attached to its paper")
        return CapturedPaper(reference, created, summary, post_existed=True)
    composed = compose(meta or look_up(identifier), url=identifier.url)
    composed.reference = reference
    return CapturedPaper(reference, created, save_draft(composed, user=user))
