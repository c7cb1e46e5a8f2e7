"""Greedy maximum probabilistic coverage of RR sets (`karmabank.graph.rr_sets`), in NumPy: the
node selection of `karmabank.graph.imm`.

Each RR set r keeps a residual mass res[r] = Π (1 − w[s]) over the seeds s chosen in it (1 at
the start); the gain of node u is w[u] × Σ res[r] over the sets r that contain u, and choosing
s multiplies the residual of each of its sets by 1 − w[s], lowering the gains of that set's
members by w[u] × the mass removed (exact decrement: each set is walked once per chosen seed
in it; with all weights 1 that is plain max coverage, integer-exact). Ties go to the lower
node id; gains at or below `tol` count as zero, and selection stops when no allowed node has
a positive gain.

The sets holding a chosen seed come from a node → set index, kept for the `rows` nodes of
largest gain only (the seeds come from the top few hundred; a full index sorts every stored
node). Gains stay exact for every node; when the best one has no row, the index is rebuilt
for twice as many nodes, by their current gains.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from karmabank.graph.rr_sets import RRStore, ranges

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Limits:
    """What greedy may choose: at most `k` seeds among the `allowed` nodes, each worth its
    `weights` (the chance it acts), at most `cap` of them per `community` (cap < 0: no cap; a
    node of a full community is taken only when no other allowed node has a positive gain);
    gains at or below `tol` are zero; the index starts with `rows` nodes."""

    k: int
    weights: Floats
    allowed: npt.NDArray[np.bool_]
    community: Ints
    cap: int
    tol: float
    rows: int


@dataclass(frozen=True)
class Cover:
    """Greedy's result: the seeds in order, the mass each one newly covered, the total mass
    covered, and whether it stopped early because `need` was out of reach."""

    seeds: Ints
    gains: Floats
    covered: float
    stopped: bool


def kth_largest(values: Floats, k: int) -> float:
    """The k-th largest of `values` (1 ≤ k ≤ size)."""
    at = values.size - k
    return float(np.partition(values, at)[at])


class _Index:
    """The node → RR-set index (CSR: row u is sets[ptr[u]:ptr[u + 1]], in increasing set
    order) for the `rows` nodes of highest score above `tol` (ties at the cut all in)."""

    def __init__(self, store: RRStore, owner: Ints, score: Floats, rows: int, tol: float) -> None:
        n = score.size
        self.rows = min(max(rows, 1), n)
        cut = tol if self.rows >= n else max(tol, kth_largest(score, self.rows))
        self.has_row = (score > tol) & (score >= cut)
        nodes = store.nodes[: store.used]
        entries = np.flatnonzero(self.has_row[nodes])
        # (node, set) pairs sorted by a radix sort of one combined key: 8x a stable argsort
        pairs = np.sort(
            nodes[entries].astype(np.int64) * store.count + owner[entries], kind="stable"
        )
        self.sets = pairs % max(store.count, 1)
        self.ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.where(self.has_row, store.counts, 0), out=self.ptr[1:])

    def row(self, u: int) -> Ints:
        return self.sets[self.ptr[u] : self.ptr[u + 1]]


def _best(gain: Floats, full: npt.NDArray[np.bool_] | None, tol: float) -> tuple[int, int]:
    """(the best node, the best node of a community not yet full), −1 for none above tol."""
    best_any = int(np.argmax(gain))
    if gain[best_any] <= tol:
        return -1, -1
    if full is None:
        return best_any, best_any
    open_gain = np.where(full, -np.inf, gain)
    best_ok = int(np.argmax(open_gain))
    return best_any, best_ok if open_gain[best_ok] > tol else -1


def greedy_cover(store: RRStore, limits: Limits, *, need: float) -> Cover:
    """Greedy maximum probabilistic coverage of the store's RR sets (module docstring).
    `need` ≥ 0 is an early exit: stop as soon as the coverage cannot reach `need` any more (by
    submodularity the remaining picks add at most their number × the current best gain)."""
    n, w, k = store.n, limits.weights, limits.k
    offsets = store.offsets[: store.count + 1]
    sizes = np.diff(offsets)
    owner = np.repeat(np.arange(store.count, dtype=np.int64), sizes)
    gain = np.where(limits.allowed, w * store.counts, -np.inf)
    index = _Index(store, owner, gain, limits.rows, limits.tol)
    residual = np.ones(store.count, dtype=np.float64)
    used = np.zeros(int(limits.community.max(initial=0)) + 1, dtype=np.int64)
    seeds, gains, covered = np.empty(k, dtype=np.int64), np.empty(k, dtype=np.float64), 0.0
    m = 0
    while m < k:
        full = used[limits.community] >= limits.cap if limits.cap >= 0 else None
        best_any, best_ok = _best(gain, full, limits.tol)
        if best_any < 0:
            break
        if need >= 0.0 and covered + (k - m) * gain[best_any] < need:
            return Cover(seeds[:m], gains[:m], covered, True)
        b = best_ok if best_ok >= 0 else best_any
        if not index.has_row[b]:
            index = _Index(store, owner, gain, 2 * index.rows, limits.tol)
        sets = index.row(b)
        old = residual[sets]
        sets, old = sets[old > 0.0], old[old > 0.0]
        delta = old * w[b]
        residual[sets] = old - delta
        members = ranges(offsets[sets], sizes[sets])
        lost = np.bincount(store.nodes[members], np.repeat(delta, sizes[sets]), minlength=n)
        gain -= w * lost
        gain[b] = -np.inf
        used[limits.community[b]] += 1
        seeds[m], gains[m] = b, float(delta.sum())
        covered += float(gains[m])
        m += 1
    return Cover(seeds[:m], gains[:m], covered, False)
