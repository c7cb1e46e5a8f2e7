"""Breadth-first search and the 2-core over a CSR adjacency, in NumPy, one level per step.

The planner's graph code needs three searches: what the candidates can reach
(`DiffusionGraph.within_reach`), the 2-core of the undirected graph and the trees hanging off
it (`detect_communities`). scipy.sparse.csgraph has the first and the last; doing them here
keeps scipy (0.3-0.4 s of imports) out of a fresh `karmabank campaign plan` process, and each
is a handful of array operations per level (higgs' plan graph: 118k nodes, 20-40 levels).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from karmabank.graph.rr_sets import ranges

Ints = npt.NDArray[np.int64]


def csr(src: Ints, dst: Ints, n: int) -> tuple[Ints, Ints]:
    """(indptr, indices) of the edges src → dst over nodes 0 .. n − 1, each row sorted."""
    order = np.sort(src * n + dst, kind="stable")  # one radix sort of a combined key
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    return indptr, order % n


def symmetric_csr(a: Ints, b: Ints, n: int) -> tuple[Ints, Ints]:
    """The CSR of the undirected edges {a[i], b[i]} (both directions)."""
    return csr(np.concatenate([a, b]), np.concatenate([b, a]), n)


def _step(indptr: Ints, indices: Ints, frontier: Ints) -> tuple[Ints, Ints]:
    """Every (from, to) of the frontier's out-edges."""
    lo = indptr[frontier]
    degree = indptr[frontier + 1] - lo
    return np.repeat(frontier, degree), indices[ranges(lo, degree)]


def reached(indptr: Ints, indices: Ints, sources: Ints) -> npt.NDArray[np.bool_]:
    """Which nodes a path from `sources` reaches (the sources included)."""
    n = indptr.size - 1
    seen = np.zeros(n, dtype=np.bool_)
    slot = np.empty(n, dtype=np.int64)  # de-duplicates a level without sorting it
    frontier = np.unique(sources)
    seen[frontier] = True
    while frontier.size:
        _, to = _step(indptr, indices, frontier)
        to = to[~seen[to]]
        order = np.arange(to.size)
        slot[to] = order
        frontier = to[slot[to] == order]  # one of each: the last written
        seen[frontier] = True
    return seen


def spread_labels(indptr: Ints, indices: Ints, labels: Ints) -> Ints:
    """`labels` (−1: none) carried outwards breadth-first: an unlabelled node takes the label
    of the node that reaches it first (of the lowest id among those of one level)."""
    out = labels.copy()
    frontier = np.flatnonzero(out >= 0)
    while frontier.size:
        came, to = _step(indptr, indices, frontier)
        fresh = out[to] < 0
        came, to = came[fresh], to[fresh]
        frontier, first = np.unique(to, return_index=True)  # `came` ascends: lowest first
        out[frontier] = out[came[first]]
    return out


def two_core(indptr: Ints, indices: Ints) -> npt.NDArray[np.bool_]:
    """The nodes of the undirected graph's 2-core (every node of degree < 2 peeled, again
    and again): those on a cycle or on a path between two cycles."""
    degree = np.diff(indptr)
    alive = np.ones(degree.size, dtype=np.bool_)
    peel = np.flatnonzero(degree < 2)
    while peel.size:
        alive[peel] = False
        _, to = _step(indptr, indices, peel)
        to = to[alive[to]]
        np.subtract.at(degree, to, 1)
        peel = np.unique(to[degree[to] < 2])
    return alive
