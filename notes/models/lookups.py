"""Query pieces PostgreSQL and SQLite need written differently, each behind one function."""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.db import connection, models
from django.db.models.expressions import RawSQL

# Up to this many, PostgreSQL gets the ids as a plain list, which it plans well: it knows how
# many there are, and `a IN (…) OR b IN (…)` becomes two index scans. As a subquery, with its
# row count unknown, that OR made it scan every link (7 ms a post page at 45,000 links).
PLAIN_LIST_LIMIT = 1000


def id_list(ids: Iterable[int]) -> RawSQL | list[int]:
    """Ids for `pk__in=`: past PLAIN_LIST_LIMIT on PostgreSQL, and always on SQLite, as a
    subquery with one parameter, since both engines cap a statement's parameters and a list
    of thousands is common in search."""
    ids = list(ids)
    if connection.vendor == "postgresql":
        if len(ids) <= PLAIN_LIST_LIMIT:
            return ids
        return RawSQL("SELECT unnest(%s::bigint[])", [ids])
    return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(ids)])


def starts_with(field: str, prefix: str) -> models.Q:
    """Values of the indexed text column `field` starting with `prefix`, in a form each engine
    answers from the column's index: PostgreSQL's LIKE uses the `_like` (pattern_ops) index
    Django makes for a unique or db_index text column; SQLite's LIKE ignores case and so no
    index, but its binary order makes a range exact."""
    if connection.vendor == "postgresql":
        return models.Q(**{f"{field}__startswith": prefix})
    return models.Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix + "\U0010ffff"})


def slug_prefix(prefix: str) -> models.Q:
    """Slugs starting with `prefix`, from the slug's index (see `starts_with`)."""
    return starts_with("slug", prefix)


def not_indexed(field: str) -> models.Func:
    """A date-time `field`, written so the planner cannot answer from its index. Both
    planners, without statistics (a new or small table), prefer the trash index, where nearly
    every row matches, to the slug's; this keeps them on the slug's. SQLite's documented way is
    a unary +; PostgreSQL's, an expression the index does not hold."""
    if connection.vendor == "postgresql":
        return models.Func(models.F(field), template="(%(expressions)s + interval '0 seconds')")
    return models.Func(models.F(field), template="+%(expressions)s")
