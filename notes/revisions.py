"""Every save of a post keeps a copy of what it said: a Revision. This module takes those
copies, compares any two of them line by line, and brings an old one back."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import Max

from notes import services
from notes.models import Post, Revision

# What a revision keeps, in the order the comparison page shows it.
FIELDS = [
    ("title", "Title"),
    ("summary", "Summary"),
    ("tags", "Tags"),
    ("status", "Status"),
    ("body", "Body"),
]


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same", "added", "removed", or "gap" between hunks
    text: str
    old_number: int | None = None
    new_number: int | None = None


@dataclass(frozen=True)
class FieldDiff:
    name: str
    label: str
    lines: list[DiffLine]

    @property
    def changed(self) -> bool:
        return any(line.kind in {"added", "removed"} for line in self.lines)


def snapshot_of_post(post: Post, tag_names: list[str] | None = None) -> dict[str, str]:
    """The revisioned fields of a post as text; tags are read from the database unless given."""
    if tag_names is None:
        tag_names = [tag.name for tag in post.tags.all()]
    return {
        "title": post.title,
        "summary": post.summary,
        "tags": "\n".join(sorted(tag_names, key=str.lower)),
        "status": post.status,
        "body": post.body,
    }


def snapshot_of_revision(revision: Revision) -> dict[str, str]:
    return {name: getattr(revision, name) for name, _ in FIELDS}


def capture(post: Post, *, user=None, note: str = "") -> Revision:
    """Store the post as it now is, tags included, as its next revision."""
    latest = post.revisions.aggregate(latest=Max("number"))["latest"] or 0
    return Revision.objects.create(
        post=post,
        number=latest + 1,
        saved_by=user if user is not None and user.is_authenticated else None,
        note=note,
        **snapshot_of_post(post),
    )


def diff_text(old: str, new: str, *, context: int = 3) -> list[DiffLine]:
    """A line diff of two texts with `context` unchanged lines around each change."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    lines: list[DiffLine] = []
    for index, group in enumerate(matcher.get_grouped_opcodes(context)):
        if index > 0:
            lines.append(DiffLine("gap", "…"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [
                    DiffLine("same", old_lines[i], i + 1, j + 1)
                    for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                ]
                continue
            lines += [DiffLine("removed", old_lines[i], old_number=i + 1) for i in range(i1, i2)]
            lines += [DiffLine("added", new_lines[j], new_number=j + 1) for j in range(j1, j2)]
    return lines


def compare(old: Mapping[str, str], new: Mapping[str, str]) -> list[FieldDiff]:
    """Field-by-field differences between two snapshots (see `snapshot_of_*`)."""
    return [FieldDiff(name, label, diff_text(old[name], new[name])) for name, label in FIELDS]


def restore(revision: Revision, *, user=None) -> Post:
    """Make the post say what `revision` says, as a new revision. Publication is left alone:
    bringing back older text must not publish a draft or take a live post down."""
    post = revision.post
    post.title = revision.title
    post.summary = revision.summary
    post.body = revision.body
    tags = services.get_or_create_tags(revision.tag_names)
    return services.save_post(
        post, tags=tags, user=user, note=f"Restored revision {revision.number}"
    )
