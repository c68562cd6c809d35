"""What the API accepts and returns. The OpenAPI schema at /api/v1/schema/ is built from these."""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import AfterValidator

from notes.models import Post


def _no_nul(value: str) -> str:
    # PostgreSQL refuses NUL in text; SQLite would store it. Either way it is never meant.
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
TagName = Annotated[str, AfterValidator(_no_nul), Field(min_length=1, max_length=64)]
AliasList = Annotated[
    list[Annotated[Text, Field(max_length=200)]],
    Field(max_length=20, description="Other names a [[wikilink]] may call the post by."),
]
PostStatus = Literal["draft", "published"]
# Within a BIGINT on either engine: a larger number is a 400, not a database error.
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class Error(Schema):
    detail: str
    errors: dict[str, list[str]] = Field(
        default_factory=dict, description="Messages for each field that was not accepted."
    )


class Conflict(Error):
    version: int = Field(description="The post's version now; fetch it, merge, send again.")


class TagRef(Schema):
    name: str
    slug: str


class TagOut(TagRef):
    id: int
    description: str
    url: str


class TagIn(Schema):
    name: TagName
    description: Text = ""


class TagPatch(Schema):
    name: TagName | None = None
    description: Text | None = None


class SeriesOut(Schema):
    id: int
    title: str
    slug: str
    description: str
    url: str


class SeriesIn(Schema):
    title: Annotated[Text, Field(min_length=1, max_length=200)]
    slug: Annotated[Text, Field(max_length=120)] = ""
    description: Text = ""


class SeriesPatch(Schema):
    title: Annotated[Text, Field(min_length=1, max_length=200)] | None = None
    slug: Annotated[Text, Field(max_length=120)] | None = None
    description: Text | None = None


class PostSummary(Schema):
    """A post as a listing shows it: everything but its text."""

    id: int
    title: str
    slug: str
    aliases: list[str] = Field(description="Other names a [[wikilink]] may call the post by.")
    status: PostStatus
    is_published: bool = Field(description="Published and not scheduled for later.")
    published_at: datetime.datetime | None
    updated_at: datetime.datetime
    summary: str
    excerpt: str
    source_url: str
    tags: list[TagRef]
    series: str | None = Field(description="The series' slug.")
    series_order: int | None
    author: str
    version: int = Field(description="Send it back with an update; a stale one is a 409.")
    url: str

    @staticmethod
    def resolve_aliases(post: Post) -> list[str]:
        return post.alias_list

    @staticmethod
    def resolve_tags(post: Post) -> list[dict]:
        return [{"name": t.name, "slug": t.slug} for t in post.tags.all()]

    @staticmethod
    def resolve_series(post: Post) -> str | None:
        return post.series.slug if post.series_id else None

    @staticmethod
    def resolve_author(post: Post) -> str:
        return post.author_name

    @staticmethod
    def resolve_url(post: Post, context) -> str:
        return context["request"].build_absolute_uri(post.get_absolute_url())


class PostOut(PostSummary):
    body: str = Field(description="The Markdown, as written.")
    body_html: str = Field(description="The rendered, sanitized HTML the site prints.")
    toc_html: str
    reading_time: int = Field(description="Minutes.")
    broken_wikilinks: list[str]
    created_at: datetime.datetime

    @staticmethod
    def resolve_broken_wikilinks(post: Post) -> list[str]:
        return post.broken_wikilink_list


class PostPage(Schema):
    count: int
    page: int
    pages: int
    next: str | None
    previous: str | None
    items: list[PostSummary]


class PostIn(Schema):
    title: Annotated[Text, Field(min_length=1, max_length=200)]
    body: Text
    slug: Annotated[Text, Field(max_length=120)] = ""
    aliases: AliasList = Field(default_factory=list)
    summary: Annotated[Text, Field(max_length=500)] = ""
    status: PostStatus = "draft"
    published_at: datetime.datetime | None = Field(
        None, description="Set on first publish if left out; a future date schedules the post."
    )
    source_url: Annotated[Text, Field(max_length=500)] = ""
    tags: list[TagName] = Field(default_factory=list, description="Names; new ones are created.")
    series: Text | None = Field(None, description="A series' slug.")
    series_order: Annotated[int, Field(ge=0, le=32767)] | None = None


class PostPatch(Schema):
    """Only the fields sent change. `version` is the one the edit started from."""

    version: Annotated[int, Field(ge=1, le=2**31 - 1)]
    title: Annotated[Text, Field(min_length=1, max_length=200)] | None = None
    body: Text | None = None
    slug: Annotated[Text, Field(max_length=120)] | None = None
    aliases: AliasList | None = None
    summary: Annotated[Text, Field(max_length=500)] | None = None
    status: PostStatus | None = None
    published_at: datetime.datetime | None = None
    source_url: Annotated[Text, Field(max_length=500)] | None = None
    tags: list[TagName] | None = None
    series: Text | None = None
    series_order: Annotated[int, Field(ge=0, le=32767)] | None = None


class LinkOut(Schema):
    id: int
    source: int = Field(description="The id of the post that links.")
    target: int = Field(description="The id of the post linked to.")
    target_title: str
    note: str
    from_wikilink: bool

    @staticmethod
    def resolve_source(link) -> int:
        return link.source_id

    @staticmethod
    def resolve_target(link) -> int:
        return link.target_id

    @staticmethod
    def resolve_target_title(link) -> str:
        return link.target.title


class LinkIn(Schema):
    target: Id
    note: Annotated[Text, Field(max_length=200)] = ""


class UpdateNoteOut(Schema):
    id: int
    date: datetime.date
    text: str


class UpdateNoteIn(Schema):
    date: datetime.date
    text: Annotated[Text, Field(min_length=1, max_length=300)]


class SearchResult(Schema):
    post: PostSummary
    snippet: str = Field(description="HTML: matched words are wrapped in <mark>.")


class SearchPage(Schema):
    query: str
    count: int
    page: int
    pages: int
    items: list[SearchResult]


class Person(Schema):
    family: str = ""
    given: str = ""
    literal: str = Field("", description="A name that is not split, e.g. an organisation.")


class ReferenceOut(Schema):
    id: int
    key: str = Field(description="What a post writes to cite it: [@key].")
    entry_type: str
    title: str
    authors: list[Person]
    year: int | None
    month: int | None
    venue: str
    volume: str
    number: str
    pages: str
    publisher: str
    doi: str
    arxiv_id: str
    url: str = Field(description="The work's own address.")
    abstract: str
    citation: str = Field(description="The reference as the site's References list prints it.")
    bibtex: str = Field(description="The entry as imported, or written from the fields.")
    page_url: str = Field(description="The reference's page on the site.")
    updated_at: datetime.datetime

    @staticmethod
    def resolve_citation(reference) -> str:
        return reference.full_citation

    @staticmethod
    def resolve_bibtex(reference) -> str:
        return reference.as_bibtex

    @staticmethod
    def resolve_page_url(reference, context) -> str:
        return context["request"].build_absolute_uri(reference.get_absolute_url())


class ReferencePage(Schema):
    count: int
    page: int
    pages: int
    items: list[ReferenceOut]


_Short = Annotated[Text, Field(max_length=50)]


class ReferencePatch(Schema):
    """Only the fields sent change; null empties a field."""

    key: Annotated[Text, Field(min_length=1, max_length=200)] | None = None
    entry_type: Annotated[Text, Field(min_length=1, max_length=40)] | None = None
    title: Annotated[Text, Field(min_length=1, max_length=1000)] | None = None
    authors: list[Person] | None = None
    year: Annotated[int, Field(ge=1, le=9999)] | None = None
    month: Annotated[int, Field(ge=1, le=12)] | None = None
    venue: Annotated[Text, Field(max_length=500)] | None = None
    volume: _Short | None = None
    number: _Short | None = None
    pages: _Short | None = None
    publisher: Annotated[Text, Field(max_length=300)] | None = None
    doi: Annotated[Text, Field(max_length=200)] | None = None
    arxiv_id: _Short | None = None
    url: Annotated[Text, Field(max_length=500)] | None = None
    abstract: Text | None = None


class ReferenceIn(ReferencePatch):
    key: Annotated[Text, Field(max_length=200)] = Field(
        "", description="Made from the first author, year and title when left out."
    )
    entry_type: Annotated[Text, Field(min_length=1, max_length=40)] = "misc"
    title: Annotated[Text, Field(min_length=1, max_length=1000)]


class BibtexIn(Schema):
    bibtex: Text = Field(description="The text of a .bib file.")
    dry_run: bool = Field(False, description="Check and report; write nothing.")


class BibtexReport(Schema):
    dry_run: bool
    created: list[str]
    updated: list[str]
    unchanged: list[str]


class PaperIn(Schema):
    identifier: Annotated[Text, Field(min_length=1, max_length=300)] = Field(
        description="A DOI, an arXiv id, or a doi.org or arxiv.org address."
    )
    draft: bool = Field(True, description="Also write a summary draft attached to the paper.")


class PaperOut(Schema):
    reference: ReferenceOut
    reference_created: bool
    post: int | None = Field(description="The summary draft's id (new or already written).")
    post_created: bool
