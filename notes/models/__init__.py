"""kb's data, one module per part: posts and what hangs off them, their history, the site,
API tokens, the authors; and the query pieces the two database engines need written
differently."""

from notes.models.authors import AuthorProfile, display_name_of
from notes.models.cross_links import Link
from notes.models.history import Revision
from notes.models.lookups import id_list
from notes.models.math import MathStylesheet
from notes.models.posts import MAX_BODY_CHARS, Post, PostQuerySet
from notes.models.redirects import Redirect
from notes.models.references import Reference, ReferenceQuerySet
from notes.models.site import RestoreRecord, SiteSettings, SiteState
from notes.models.taxonomy import Series, Tag
from notes.models.title_words import TitleWord
from notes.models.tokens import ApiToken
from notes.models.update_notes import UpdateNote

__all__ = [
    "MAX_BODY_CHARS",
    "ApiToken",
    "AuthorProfile",
    "Link",
    "MathStylesheet",
    "Post",
    "PostQuerySet",
    "Redirect",
    "Reference",
    "ReferenceQuerySet",
    "RestoreRecord",
    "Revision",
    "Series",
    "SiteSettings",
    "SiteState",
    "Tag",
    "TitleWord",
    "UpdateNote",
    "display_name_of",
    "id_list",
]
