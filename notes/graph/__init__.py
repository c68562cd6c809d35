"""The graph of the notes: published posts as nodes, cross-links between them as edges, laid out
on the server (`notes.graph.positions`) and drawn as an SVG that works with no script.

The layout is the slow part, so it is cached under a digest of the graph's shape (its nodes and
edges): editing a post's text leaves the drawing alone; adding a link or a post lays it out
again. A fixed seed keeps the same shape in the same place between layouts.
"""

from __future__ import annotations

import hashlib
import html
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from django.core.cache import cache
from django.db.models import Q
from django.utils.safestring import SafeString, mark_safe

from notes.catalogue import Catalogue
from notes.graph.positions import CACHE_SECONDS, cached_layout, layout
from notes.models import Link, Post, Tag, id_list
from notes.models.posts import post_url

__all__ = ["layout", "local_svg", "site_graph", "svg"]

SIZE = 1000  # the drawing's user units (viewBox), for the whole graph
LOCAL_SIZE = 600
LOCAL_CAP = 24  # posts on a post's local graph, itself included
LABELLED = 25  # the most linked posts carry their title on the whole graph
LOCAL_LABELLED = 10
COLOURS = 8  # classes g-c0 … g-c7 in connections.css; a tag's is fixed by its id
# This package's own code, in the cache keys of its drawings: a deployment that changes the
# layout or the markup must not be shown drawings cached before it.
_CODE = hashlib.sha256(
    b"".join(path.read_bytes() for path in sorted(Path(__file__).parent.glob("*.py")))
).hexdigest()[:12]


@dataclass(frozen=True)
class Node:
    pk: int
    title: str
    url: str
    x: float
    y: float
    r: float
    colour: int | None  # index of the first tag's colour; None: no tag
    label: bool
    centre: bool = False


@dataclass(frozen=True)
class Edge:
    x1: float
    y1: float
    x2: float
    y2: float
    source: int
    target: int


@dataclass(frozen=True)
class Drawing:
    nodes: list[Node]
    edges: list[Edge]
    size: int
    tags: list[Tag]

    @property
    def view_box(self) -> str:
        bottom = max((node.y for node in self.nodes), default=0) + self.size * 0.05
        return f"0 0 {self.size} {round(max(bottom, self.size * 0.3))}"


def site_graph(tag: Tag | None = None) -> Drawing:
    """Every published post (carrying `tag`, if given) and the links among them."""
    posts = Post.objects.published()
    if tag is not None:
        posts = posts.filter(tags=tag)
    rows = list(posts.order_by("pk").values_list("pk", "title", "slug"))
    # Every link, kept when both ends are drawn: reading them all is faster than asking the
    # database to check both ends against the published posts (2.4 s at 3,000 posts on SQLite).
    drawn = {pk for pk, _, _ in rows}
    pairs = Link.objects.order_by().values_list("source_id", "target_id")
    edges = sorted((s, t) for s, t in pairs if s in drawn and t in drawn)
    return _draw(rows, edges, SIZE, labelled=LABELLED)


def local_svg(
    post: Post, *, label: str, first_hop: dict[int, tuple[str, str]], known: Catalogue
) -> str:
    """`post`, the published posts it links with (`first_hop`, {pk: (title, slug)}), and
    theirs, drawn: `LOCAL_CAP` posts at most, all of the first hop that fit, then the
    best-connected of the second. "" when the post links with no published post. `known`, the
    catalogue of published posts, holds their links, titles and tags.

    The drawing is cached under a digest of everything it shows (posts, titles, addresses,
    links, colours), so an edit anywhere in it draws it again and a page rendered anew for
    another reason costs only gathering those."""
    found = _local_rows(post, LOCAL_CAP, first_hop, known)
    if found is None:
        return ""
    rows, edges = found
    colours, tags = _first_tags([pk for pk, _, _ in rows], known)
    # Addresses rather than slugs: a deployment that changes the URLs must not be shown
    # drawings cached before it.
    shown = [(pk, title, post_url(slug)) for pk, title, slug in rows]
    shape = (_CODE, shown, edges, sorted(colours.items()), post.pk, label)
    key = "kb:local-graph-svg:" + hashlib.sha256(repr(shape).encode()).hexdigest()[:32]
    drawn = cache.get(key)
    if drawn is None:
        drawing = _draw(
            rows, edges, LOCAL_SIZE, labelled=LOCAL_LABELLED, centre=post.pk, tags=(colours, tags)
        )
        drawn = str(svg(drawing, label=label, local=True))
        cache.set(key, drawn, CACHE_SECONDS)
    return mark_safe(drawn)


def _local_rows(
    post: Post, cap: int, first_hop: dict[int, tuple[str, str]], known: Catalogue
) -> tuple[list, list[tuple[int, int]]] | None:
    """The local graph's (pk, title, slug) rows in pk order and its links. For a published
    post the catalogue holds every link and title drawn; a draft that staff preview is not in
    it, so the links around it, and the titles of the second hop drawn, are read (every post
    drawn besides it is published, so the catalogue still says which are)."""
    titles = {pk: found for pk, found in first_hop.items() if pk != post.pk}
    if not titles:
        return None
    catalogued = post.pk in known.position
    touching = known.links_touching if catalogued else _links_touching
    among = known.links_among if catalogued else _links_among
    chosen = [post.pk, *sorted(titles)[: cap - 1]]
    inside = set(chosen)
    if len(chosen) < cap:
        links = touching(inside)
        ends = [t if s in inside else s for s, t in links]
        around = Counter(pk for pk in ends if pk not in inside and pk in known.position)
        ranked = sorted(around.items(), key=lambda kv: (-kv[1], kv[0]))
        added = [pk for pk, _ in ranked][: cap - len(chosen)]
        if catalogued:
            more = {pk: (known.teasers[pk].title, known.teasers[pk].slug) for pk in added}
        else:
            more = _published_titles(set(added))
            added = [pk for pk in added if pk in more]  # unpublished since the catalogue
        titles |= {pk: more[pk] for pk in added}
        if len(added) > 1:  # links between two second-hop posts touch none of the first
            links += among(added)
        inside |= set(added)
    else:
        links = among(chosen)
    titles[post.pk] = (post.title, post.slug)
    rows = [(pk, *titles[pk]) for pk in sorted(inside)]
    edges = sorted({(s, t) for s, t in links if s in inside and t in inside})
    return rows, edges


def _links_touching(ids: set[int]) -> list[tuple[int, int]]:
    """(source, target) of every link from or to one of `ids`, whatever the other end's status.
    Unordered: Link's default ordering would join the posts twice to sort by title."""
    wanted = id_list(ids)
    links = Link.objects.filter(Q(source__in=wanted) | Q(target__in=wanted)).order_by()
    return list(links.values_list("source_id", "target_id"))


def _links_among(ids: list[int]) -> list[tuple[int, int]]:
    links = Link.objects.filter(source__in=id_list(ids)).order_by()
    wanted = set(ids)
    return [(s, t) for s, t in links.values_list("source_id", "target_id") if t in wanted]


def _published_titles(ids: set[int]) -> dict[int, tuple[str, str]]:
    """{pk: (title, slug)} of the published posts among `ids`. The links are read first and
    their other ends checked here: asking for `target__in=published` in the same query made
    SQLite list every published post (20 to 30 ms a page at 10,000 posts)."""
    if not ids:
        return {}
    published = Post.objects.published().filter(pk__in=id_list(ids))
    rows = published.order_by().values_list("pk", "title", "slug")
    return {pk: (title, slug) for pk, title, slug in rows}


def _draw(
    rows, edges, size: int, *, labelled: int, centre: int | None = None, tags=None
) -> Drawing:
    ids = [pk for pk, _, _ in rows]
    positions = cached_layout(ids, edges, size)
    backlinks = Counter(target for _, target in edges)
    colours, tags = tags if tags is not None else _first_tags(ids)
    ranked = sorted(ids, key=lambda pk: (-backlinks[pk], pk))
    shown = set(ranked[:labelled]) | ({centre} if centre else set())
    nodes = []
    for pk, title, slug in rows:
        x, y = positions[pk]
        nodes.append(
            Node(
                pk=pk,
                title=title,
                url=post_url(slug),
                x=x,
                y=y,
                r=round((3 + 2.2 * math.sqrt(backlinks[pk])) * (1 if size == SIZE else 1.4), 1),
                colour=colours.get(pk),
                label=pk in shown,
                centre=pk == centre,
            )
        )
    lines = [Edge(*positions[s], *positions[t], source=s, target=t) for s, t in edges]
    return Drawing(nodes=nodes, edges=lines, size=size, tags=tags)


def _first_tags(ids: list[int], known: Catalogue | None = None) -> tuple[dict[int, int], list[Tag]]:
    """Each post's first tag's colour (tags by name, ignoring case), and those tags: from the
    catalogue when it holds every post drawn, else in one query. A tag's colour comes from
    its id, so it is the same on every drawing."""
    if known is not None and all(pk in known.position for pk in ids):
        labels = known.tag_labels
        carried = [(pk, tag, *labels[tag]) for pk in ids for tag in known.tags[pk]]
    else:
        carried = Post.tags.through.objects.filter(post_id__in=id_list(ids)).values_list(
            "post_id", "tag_id", "tag__name", "tag__slug"
        )
    first: dict[int, tuple[tuple[str, str], Tag]] = {}
    for post_id, tag_id, name, slug in carried:
        order = (name.casefold(), name)
        if post_id not in first or order < first[post_id][0]:
            first[post_id] = (order, Tag(pk=tag_id, name=name, slug=slug))
    chosen = {post: tag for post, (_, tag) in first.items()}
    tags = sorted({tag.pk: tag for tag in chosen.values()}.values(), key=lambda t: t.name.lower())
    for tag in tags:
        tag.colour = tag.pk % COLOURS
    return {post: tag.pk % COLOURS for post, tag in chosen.items()}, tags


def svg(drawing: Drawing, *, label: str, local: bool = False) -> SafeString:
    """The drawing as inline SVG. Built here rather than in a template: the whole graph has
    tens of thousands of numbers, which the template engine would localize one by one."""
    esc = html.escape
    lines = "".join(
        f'<line x1="{e.x1}" y1="{e.y1}" x2="{e.x2}" y2="{e.y2}" data-s="{e.source}" '
        f'data-t="{e.target}"/>'
        for e in drawing.edges
    )
    limit = 30 if local else 36
    nodes = []
    for n in drawing.nodes:
        kind = "graph-node" + (f" g-c{n.colour}" if n.colour is not None else "")
        kind += " graph-centre" if n.centre else ""
        current = ' aria-current="page"' if n.centre else ""
        title = n.title if len(n.title) <= limit else n.title[: limit - 1] + "…"
        text = (
            f'<text x="{n.x}" y="{n.y}" dy="-{n.r + 4:.0f}">{esc(title)}</text>' if n.label else ""
        )
        nodes.append(
            f'<a href="{esc(n.url)}" data-pk="{n.pk}" class="{kind}"{current}>'
            f'<title>{esc(n.title)}</title><circle cx="{n.x}" cy="{n.y}" r="{n.r}"/>{text}</a>'
        )
    classes = "graph-svg graph-local" if local else "graph-svg"
    return mark_safe(
        f'<svg class="{classes}" viewBox="{drawing.view_box}" role="group" '
        f'aria-label="{esc(label)}" xmlns="http://www.w3.org/2000/svg">'
        f'<g class="graph-edges">{lines}</g><g class="graph-nodes">{"".join(nodes)}</g></svg>'
    )
