"""The graph of the notes: published posts as nodes, cross-links between them as edges, laid out
on the server (networkx) and drawn as an SVG that works with no script.

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

import networkx as nx
import numpy as np
from django.core.cache import cache
from django.db.models import Q
from django.utils.safestring import SafeString, mark_safe
from scipy import ndimage, sparse
from scipy.sparse.linalg import ArpackNoConvergence, eigsh

from notes.models import Link, Post, Tag, id_list
from notes.models.posts import post_url

SEED = 7
SIZE = 1000  # the drawing's user units (viewBox), for the whole graph
LOCAL_SIZE = 600
LOCAL_CAP = 24  # posts on a post's local graph, itself included
LABELLED = 25  # the most linked posts carry their title on the whole graph
LOCAL_LABELLED = 10
COLOURS = 8  # classes g-c0 … g-c7 in connections.css; a tag's is fixed by its id
# networkx's force layout costs about n² per round: 50 rounds of 400 posts take ~1 s. Past
# that the layout starts from the spectral one (an eigenvector problem on the sparse graph,
# ~1.5 s for 10,000 posts), which puts the graph's large-scale shape right but crowds most
# posts into a thin ring or one spot, and then spreads them (`_spread`): the same pulls along
# the links, but pushes from the density of posts on a grid rather than from every other
# post, so a round costs n + links rather than n². See README, "Performance".
FORCE_LIMIT = 400
FORCE_ROUNDS = 50
SPREAD_ROUNDS = 60
SPREAD_GRID = 128  # cells a side
SPREAD_PUSH = 10.0  # how hard crowding pushes, against the links' pull
SPREAD_GRAVITY = 0.05  # keeps unlinked posts near the rest rather than along the edges
CACHE_SECONDS = 7 * 24 * 3600
_CODE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]


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


def local_graph(post: Post, cap: int = LOCAL_CAP, first_hop=None) -> Drawing | None:
    """`post`, the published posts it links with, and theirs (two hops), `cap` posts at most:
    all of the first hop that fit, then the best-connected of the second. `first_hop`, the
    published posts it links with as {pk: (title, slug)}, saves reading them when the caller
    has."""
    found = _local_rows(post, cap, first_hop)
    if found is None:
        return None
    rows, edges = found
    return _draw(rows, edges, LOCAL_SIZE, labelled=LOCAL_LABELLED, centre=post.pk)


def local_svg(post: Post, *, label: str, first_hop=None) -> str:
    """`local_graph(post)` drawn, or "" when the post links with no published post. The
    drawing is cached under a digest of everything it shows (posts, titles, addresses, links,
    colours), so an edit anywhere in it draws it again and a page rendered anew for another
    reason costs only the few queries that gather those."""
    found = _local_rows(post, LOCAL_CAP, first_hop)
    if found is None:
        return ""
    rows, edges = found
    colours, tags = _first_tags([pk for pk, _, _ in rows])
    # Addresses rather than slugs, and this module's own text: a deployment that changes the
    # URLs or the drawing's markup must not be shown drawings cached before it.
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


def _local_rows(post: Post, cap: int, first_hop) -> tuple[list, list[tuple[int, int]]] | None:
    """The local graph's (pk, title, slug) rows in pk order and its links: the first hop (two
    queries, unless given), the links around it (which hold the edges too), the second hop's
    published titles and, if two or more of those are drawn, the links among them."""
    published = Post.objects.published()
    if first_hop is None:
        pairs = _links_touching({post.pk})
        first_hop = _published_titles({t if s == post.pk else s for s, t in pairs}, published)
    titles = {pk: found for pk, found in first_hop.items() if pk != post.pk}
    if not titles:
        return None
    chosen = [post.pk, *sorted(titles)[: cap - 1]]
    inside = set(chosen)
    if len(chosen) < cap:
        links = _links_touching(inside)
        ends = [t if s in inside else s for s, t in links]
        more = _published_titles({pk for pk in ends if pk not in inside}, published)
        around = Counter(pk for pk in ends if pk in more)
        ranked = sorted(around.items(), key=lambda kv: (-kv[1], kv[0]))
        added = [pk for pk, _ in ranked][: cap - len(chosen)]
        titles |= {pk: more[pk] for pk in added}
        if len(added) > 1:  # links between two second-hop posts touch none of the first
            links += _links_among(added)
        inside |= set(added)
    else:
        links = _links_among(chosen)
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


def _published_titles(ids: set[int], published) -> dict[int, tuple[str, str]]:
    """{pk: (title, slug)} of the published posts among `ids`. The links are read first and
    their other ends checked here: asking for `target__in=published` in the same query made
    SQLite list every published post (20 to 30 ms a page at 10,000 posts)."""
    if not ids:
        return {}
    rows = published.filter(pk__in=id_list(ids)).order_by().values_list("pk", "title", "slug")
    return {pk: (title, slug) for pk, title, slug in rows}


def _draw(
    rows, edges, size: int, *, labelled: int, centre: int | None = None, tags=None
) -> Drawing:
    ids = [pk for pk, _, _ in rows]
    positions = _layout(ids, edges, size)
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


def _first_tags(ids: list[int]) -> tuple[dict[int, int], list[Tag]]:
    """Each post's first tag's colour (tags by name), and those tags, in one query. A tag's
    colour comes from its id, so it is the same on every drawing."""
    through = Post.tags.through.objects.filter(post_id__in=id_list(ids)).order_by(
        "post_id", "tag__name"
    )
    first: dict[int, Tag] = {}
    for post_id, tag_id, name, slug in through.values_list(
        "post_id", "tag_id", "tag__name", "tag__slug"
    ):
        if post_id not in first:
            first[post_id] = Tag(pk=tag_id, name=name, slug=slug)
    tags = sorted({tag.pk: tag for tag in first.values()}.values(), key=lambda t: t.name.lower())
    for tag in tags:
        tag.colour = tag.pk % COLOURS
    return {post: tag.pk % COLOURS for post, tag in first.items()}, tags


def _layout(
    ids: list[int], edges: list[tuple[int, int]], size: int
) -> dict[int, tuple[float, float]]:
    digest = hashlib.sha256(repr((ids, edges, size)).encode()).hexdigest()[:32]
    key = f"kb:graph-layout:{digest}"
    found = cache.get(key)
    if found is None:
        found = layout(ids, edges, size)
        cache.set(key, found, CACHE_SECONDS)
    return found


def layout(
    ids: list[int], edges: list[tuple[int, int]], size: int
) -> dict[int, tuple[float, float]]:
    """Positions inside a `size` square, with a margin for labels; the same for the same graph."""
    if not ids:
        return {}
    count = len(ids)
    if count == 1:
        raw = {ids[0]: (0.0, 0.0)}
    elif count <= FORCE_LIMIT:
        graph = nx.Graph()
        graph.add_nodes_from(ids)
        graph.add_edges_from(edges)
        raw = nx.spring_layout(graph, seed=SEED, iterations=FORCE_ROUNDS, method="force")
    else:
        index = {pk: i for i, pk in enumerate(ids)}
        pairs = np.array([(index[s], index[t]) for s, t in edges], dtype=np.intp).reshape(-1, 2)
        raw = dict(zip(ids, _spread(pairs, _spectral(count, pairs)), strict=True))
    return _fit(raw, size)


def _spectral(count: int, pairs: np.ndarray) -> np.ndarray:
    """networkx's sparse spectral layout (the Laplacian's two smallest non-zero eigenvectors),
    with ARPACK started from a fixed vector rather than a random one, and each axis's sign
    fixed, so the same graph is drawn the same way every time."""
    if not len(pairs):
        return np.random.default_rng(SEED).random((count, 2))
    ones = np.ones(2 * len(pairs))
    rows = np.concatenate([pairs[:, 0], pairs[:, 1]])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0]])
    adjacency = sparse.csr_array((ones, (rows, cols)), shape=(count, count))
    adjacency.data[:] = 1.0  # a link both ways is one edge, as in networkx's Graph
    laplacian = sparse.diags_array(adjacency.sum(axis=1)) - adjacency
    start = np.random.default_rng(SEED).random(count)
    ncv = max(7, int(math.sqrt(count)))
    try:
        values, vectors = eigsh(laplacian, 3, which="SM", ncv=ncv, v0=start)
    except ArpackNoConvergence:  # rare; the spreading then does all the work
        return np.random.default_rng(SEED).random((count, 2))
    pos = vectors[:, np.argsort(values)[1:3]]
    return pos * np.sign(pos[np.abs(pos).argmax(axis=0), [0, 1]])


def _spread(pairs: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Fruchterman-Reingold rounds from `start` (n by 2) with the repulsion taken from a
    smoothed grid of how many posts each cell holds (a particle-mesh approximation), and a
    little gravity; deterministic, like the rest of the layout."""
    count = len(start)
    sources, targets = pairs[:, 0], pairs[:, 1]
    pos = start - start.min(axis=0)
    pos /= pos.max() or 1.0
    # Posts the spectral layout put on the same spot need telling apart.
    pos += np.random.default_rng(SEED).normal(0, 1e-3, pos.shape)
    spacing = 1 / math.sqrt(count)  # the ideal distance between posts
    push = SPREAD_PUSH * (spacing * SPREAD_GRID) ** 2
    step = 0.1
    for _ in range(SPREAD_ROUNDS):
        low = pos.min(axis=0)
        pos = (pos - low) / ((pos.max(axis=0) - low).max() or 1.0)
        pull = pos[targets] - pos[sources]
        pull *= np.sqrt((pull * pull).sum(axis=1))[:, None] / spacing
        moves = np.stack(
            [
                np.bincount(sources, pull[:, axis], count)
                - np.bincount(targets, pull[:, axis], count)
                for axis in (0, 1)
            ],
            axis=1,
        ).astype(float)  # bincount of no links at all counts in integers
        cells = np.minimum((pos * SPREAD_GRID).astype(np.intp), SPREAD_GRID - 1)
        crowd = np.zeros((SPREAD_GRID, SPREAD_GRID))
        np.add.at(crowd, (cells[:, 0], cells[:, 1]), 1.0)
        slope_x, slope_y = np.gradient(ndimage.gaussian_filter(crowd, sigma=2.0))
        moves -= push * np.stack(
            [slope_x[cells[:, 0], cells[:, 1]], slope_y[cells[:, 0], cells[:, 1]]], axis=1
        )
        moves -= SPREAD_GRAVITY * (pos - pos.mean(axis=0))
        length = np.sqrt((moves * moves).sum(axis=1)) + 1e-12
        pos += moves * (np.minimum(length, step) / length)[:, None]
        step *= 0.95  # cooling, so it settles
    return pos


def _fit(raw, size: int) -> dict[int, tuple[float, float]]:
    """Scale to `size` wide, keeping the shape; a flat graph makes a shorter drawing (down to
    half as tall), so it is not a thin band in a big empty square. The margins leave room for
    the labels, which are centred on their dots."""
    xs = [float(p[0]) for p in raw.values()]
    ys = [float(p[1]) for p in raw.values()]
    left, low = min(xs), min(ys)
    side, top = size * 0.14, size * 0.05
    span_x = (max(xs) - left) or 1.0
    span_y = (max(ys) - low) or 1.0
    scale = (size - 2 * side) / span_x
    height = min(max(span_y * scale, size * 0.5 - 2 * top), size - 2 * top)
    scale_y = height / span_y
    return {
        pk: (round(side + (x - left) * scale, 1), round(top + (y - low) * scale_y, 1))
        for pk, x, y in zip(raw, xs, ys, strict=True)
    }


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
