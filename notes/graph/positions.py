"""Where each post sits on a drawing: deterministic layouts (the same graph is drawn the same way
every time), cached under a digest of the graph's shape.

Up to `FORCE_LIMIT` posts, a Fruchterman-Reingold force layout on dense numpy arrays. It is the
algorithm networkx's `spring_layout` runs, written here because that is all kb used networkx
for, and importing networkx cost each worker ~22 MB and each local graph more time building
networkx's graph than laying it out. Past the limit, a spectral start spread by a grid-based
force (`_spectral`, `_spread`); only those import scipy, so a worker that only serves post pages
never loads it. See README, "Performance".
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
from django.core.cache import cache

SEED = 7
# The force layout costs about n² per round: 50 rounds of 400 posts take ~0.2 s. Past that the
# layout starts from the spectral one (an eigenvector problem on the sparse graph, ~1.5 s for
# 10,000 posts), which puts the graph's large-scale shape right but crowds most posts into a
# thin ring or one spot, and then spreads them: the same pulls along the links, but pushes from
# the density of posts on a grid rather than from every other post, so a round costs
# n + links rather than n².
FORCE_LIMIT = 400
FORCE_ROUNDS = 50
FORCE_SETTLED = 1e-4  # mean movement a round below which the layout has settled
GROUP_GAP = 1.0  # between groups of posts with no link between them: a lone post's room
SPREAD_ROUNDS = 60
SPREAD_GRID = 128  # cells a side
SPREAD_PUSH = 10.0  # how hard crowding pushes, against the links' pull
SPREAD_GRAVITY = 0.05  # keeps unlinked posts near the rest rather than along the edges
CACHE_SECONDS = 7 * 24 * 3600
# In the cache key, so a deployment that changes how posts are placed places them anew.
_CODE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]

Positions = dict[int, tuple[float, float]]


def cached_layout(ids: list[int], edges: list[tuple[int, int]], size: int) -> Positions:
    digest = hashlib.sha256(repr((_CODE, ids, edges, size)).encode()).hexdigest()[:32]
    key = f"kb:graph-layout:{digest}"
    found = cache.get(key)
    if found is None:
        found = layout(ids, edges, size)
        cache.set(key, found, CACHE_SECONDS)
    return found


def layout(ids: list[int], edges: list[tuple[int, int]], size: int) -> Positions:
    """Positions inside a `size` square, with a margin for labels; the same for the same graph."""
    if not ids:
        return {}
    count = len(ids)
    if count == 1:
        return _fit({ids[0]: (0.0, 0.0)}, size)
    index = {pk: i for i, pk in enumerate(ids)}
    pairs = np.array([(index[s], index[t]) for s, t in edges], dtype=np.intp).reshape(-1, 2)
    pos = _packed(count, pairs) if count <= FORCE_LIMIT else _spread(pairs, _spectral(count, pairs))
    return _fit(dict(zip(ids, pos.tolist(), strict=True)), size)


def _packed(count: int, pairs: np.ndarray) -> np.ndarray:
    """Each group of linked posts laid out on its own, then the groups set in rows, largest
    first, each given room in proportion to its posts. Laid out together, groups with no link
    between them only push each other apart, and two of them ended in opposite corners of the
    drawing with its middle empty."""
    groups = _groups(count, pairs)
    if len(groups) == 1:
        return _force(count, pairs)
    placed = []
    for members in groups:
        index = {post: i for i, post in enumerate(members)}
        inside = [(index[a], index[b]) for a, b in pairs.tolist() if a in index]
        local = _force(len(members), np.array(inside, dtype=np.intp).reshape(-1, 2))
        local -= local.min(axis=0)
        local *= math.sqrt(len(members)) / (local.max() or 1.0)
        placed.append((members, local))
    row_width = 1.5 * math.sqrt(count)
    pos = np.zeros((count, 2))
    x = y = row_height = 0.0
    for members, local in placed:
        width, height = local.max(axis=0)
        if x and x + width > row_width:
            x, y, row_height = 0.0, y + row_height + GROUP_GAP, 0.0
        pos[members] = local + np.array([x, y])
        x += width + GROUP_GAP
        row_height = max(row_height, height)
    return pos


def _groups(count: int, pairs: np.ndarray) -> list[list[int]]:
    """The connected groups of posts 0 … count-1, largest first (then by first post)."""
    parent = list(range(count))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in pairs.tolist():
        parent[root(a)] = root(b)
    groups: dict[int, list[int]] = {}
    for i in range(count):
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values(), key=lambda members: (-len(members), members[0]))


def _force(count: int, pairs: np.ndarray) -> np.ndarray:
    """Fruchterman and Reingold's layout: every pair of posts pushes apart by k²/d, linked posts
    pull together by d²/k, and each round a post moves at most the current temperature, which
    cools linearly from a tenth of the drawing to nothing."""
    adjacency = np.zeros((count, count))
    adjacency[pairs[:, 0], pairs[:, 1]] = 1.0
    adjacency[pairs[:, 1], pairs[:, 0]] = 1.0  # a link both ways is one edge
    np.fill_diagonal(adjacency, 0.0)
    pos = np.random.default_rng(SEED).random((count, 2))
    k = math.sqrt(1.0 / count)  # the ideal distance between posts
    pull = adjacency / k
    temperature = float((pos.max(axis=0) - pos.min(axis=0)).max()) * 0.1
    cooling = temperature / (FORCE_ROUNDS + 1)
    # einsum and in-place operations: at a local graph's 24 posts the arrays are tiny, and the
    # number of temporary arrays a round makes is most of its cost.
    for _ in range(FORCE_ROUNDS):
        delta = pos[:, None, :] - pos[None, :, :]
        distance = np.sqrt(np.einsum("ijk,ijk->ij", delta, delta))
        np.maximum(distance, 0.01, out=distance)
        strength = k * k / (distance * distance) - pull * distance
        moves = np.einsum("ijk,ij->ik", delta, strength)
        length = np.sqrt(np.einsum("ij,ij->i", moves, moves))
        length[length < 0.01] = 0.1
        step = moves * (temperature / length)[:, None]
        pos += step
        temperature -= cooling
        if math.sqrt(np.einsum("ij,ij->", step, step)) / count < FORCE_SETTLED:
            break
    return pos


def _spectral(count: int, pairs: np.ndarray) -> np.ndarray:
    """The sparse spectral layout (the Laplacian's two smallest non-zero eigenvectors), with
    ARPACK started from a fixed vector rather than a random one, and each axis's sign fixed,
    so the same graph is drawn the same way every time."""
    from scipy import sparse
    from scipy.sparse.linalg import ArpackNoConvergence, eigsh

    if not len(pairs):
        return np.random.default_rng(SEED).random((count, 2))
    ones = np.ones(2 * len(pairs))
    rows = np.concatenate([pairs[:, 0], pairs[:, 1]])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0]])
    adjacency = sparse.csr_array((ones, (rows, cols)), shape=(count, count))
    adjacency.data[:] = 1.0  # a link both ways is one edge
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
    from scipy import ndimage

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


def _fit(raw: dict, size: int) -> Positions:
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
