"""kb's data, one module per part: posts and what hangs off them, their history, the site,
the authors; and the query pieces the two database engines need written differently."""

from notes.models.authors import AuthorProfile, display_name_of
from notes.models.history import Revision
from notes.models.lookups import id_list
from notes.models.posts import (
    MAX_BODY_CHARS,
    Link,
    Post,
    PostQuerySet,
    Series,
    Tag,
    UpdateNote,
)
from notes.models.site import SiteSettings, SiteState

__all__ = [
    "MAX_BODY_CHARS",
    "AuthorProfile",
    "Link",
    "Post",
    "PostQuerySet",
    "Revision",
    "Series",
    "SiteSettings",
    "SiteState",
    "Tag",
    "UpdateNote",
    "display_name_of",
    "id_list",
]
