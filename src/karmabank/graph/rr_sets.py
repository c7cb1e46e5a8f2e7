"""Reverse-reachable (RR) sets under the independent cascade (IC) model, and greedy max
coverage over them: the compiled kernels behind `karmabank.graph.imm`.

An RR set is drawn by picking a root v uniformly at random and walking the graph backwards
from it, keeping each in-edge u→v "live" with its probability p(u, v); the RR set is every
node that reached v through live edges. For any seed set S, Pr[S ∩ RR ≠ ∅] = σ(S)/n, where
σ(S) is the expected number of nodes S activates (Borgs, Brautbar, Chayes, Lucier, SODA 2014;
Tang, Shi, Xiao, SIGMOD 2015). So σ(S) ≈ n × the fraction of RR sets S covers, and picking
seeds becomes greedy maximum coverage over the sampled sets.

Layout (all numpy arrays, no Python objects per node):
- the graph as an in-edge CSR: `indptr` (int64, n + 1), `indices` (int32, the tail u of each
  in-edge of v, sorted by v), `thresholds` (uint64: an edge is live when the top 53 bits of a
  random 64-bit word are below `p × 2**53`, so p = 0 never and p = 1 always fires);
- RR sets stored flat: one int32 array of node ids and an int64 `offsets` array, set r being
  `nodes[offsets[r]:offsets[r + 1]]`, grown in chunks by `RRStore`;
- for greedy, a node → RR-set inverted index as a second CSR, built by counting sort for
  the few hundred nodes of largest coverage only (more on demand), since only the rows
  of chosen seeds are ever read.

Randomness: the draws of RR set number j come from a splitmix64 stream started at
`mix(seed ^ j × golden)`. A set's content therefore depends only on (seed, j), never on
which thread or chunk drew it, so sampling runs in parallel (numba `prange` over fixed-size
chunks) and stays bit-for-bit deterministic for a given seed, whatever the thread count.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt

_F = TypeVar("_F", bound=Callable[..., Any])


def _jit(fn: _F) -> _F:
    return cast(_F, numba.njit(cache=True, nogil=True)(fn))


def _jit_parallel(fn: _F) -> _F:
    return cast(_F, numba.njit(cache=True, nogil=True, parallel=True)(fn))


# splitmix64 (Steele, Lea, Flood 2014; the constants of Vigna's reference code)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S11 = np.uint64(11)
_S27 = np.uint64(27)
_S30 = np.uint64(30)
_S31 = np.uint64(31)
_S32 = np.uint64(32)
_P53 = float(2**53)

CHUNK_SETS = 2048  # RR sets per parallel work item; fixed, so results never depend on threads
PILOT_SETS = 2048  # sets drawn serially first, to learn the mean RR set size


@_jit
def _mix(z: np.uint64) -> np.uint64:
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


def mix_seed(seed: int) -> np.uint64:
    """The 64-bit stream key of a user seed (any Python int, taken modulo 2**64)."""
    return np.uint64(_mix(np.uint64(seed % 2**64)))


def in_edge_csr(
    src: npt.NDArray[np.int64],
    dst: npt.NDArray[np.int64],
    prob: npt.NDArray[np.float64],
    n: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.uint64]]:
    """The in-edge CSR of the graph: (indptr, tails, live thresholds). Self-loops and edges
    with p = 0 are dropped: neither can ever activate anyone."""
    keep = (src != dst) & (prob > 0.0)
    s, d, p = src[keep], dst[keep], prob[keep]
    order = np.argsort(d, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(d, minlength=n), out=indptr[1:])
    indices = s[order].astype(np.int32)
    thresholds = np.floor(p[order] * _P53).astype(np.uint64)
    return indptr, indices, thresholds


@_jit
def _sample_range(
    indptr: npt.NDArray[np.int64],
    indices: npt.NDArray[np.int32],
    thresholds: npt.NDArray[np.uint64],
    n: int,
    key: np.uint64,
    j_lo: int,
    j_hi: int,
    out: npt.NDArray[np.int32],
    lo: int,
    hi: int,
    sizes: npt.NDArray[np.int64],
    size_base: int,
    visited: npt.NDArray[np.bool_],
) -> tuple[int, int]:
    """Draw RR sets j_lo, j_lo + 1, ... < j_hi into out[lo:hi], their sizes into
    sizes[j - size_base]. Stops before the first set that does not fit. Returns (the first
    set not drawn, the end of the data written). `visited` is all False on entry and exit."""
    nn = np.uint64(n)
    pos = lo
    j = j_lo
    while j < j_hi:
        state = _mix(key ^ (np.uint64(j) * _GOLDEN))
        state += _GOLDEN
        root = np.int64(((_mix(state) >> _S32) * nn) >> _S32)
        if pos >= hi:
            break
        start = pos
        out[pos] = root
        pos += 1
        visited[root] = True
        head = start
        fits = True
        while head < pos:
            v = out[head]
            head += 1
            for e in range(indptr[v], indptr[v + 1]):
                u = indices[e]
                if visited[u]:
                    continue
                state += _GOLDEN
                if (_mix(state) >> _S11) < thresholds[e]:
                    if pos >= hi:
                        fits = False
                        break
                    visited[u] = True
                    out[pos] = u
                    pos += 1
            if not fits:
                break
        for t in range(start, pos):
            visited[out[t]] = False
        if not fits:
            pos = start
            break
        sizes[j - size_base] = pos - start
        j += 1
    return j, pos


@_jit_parallel
def _sample_chunks(
    indptr: npt.NDArray[np.int64],
    indices: npt.NDArray[np.int32],
    thresholds: npt.NDArray[np.uint64],
    n: int,
    key: np.uint64,
    j0: int,
    count: int,
    chunk: int,
    out: npt.NDArray[np.int32],
    base: int,
    cap: int,
    sizes: npt.NDArray[np.int64],
    next_j: npt.NDArray[np.int64],
    end_pos: npt.NDArray[np.int64],
) -> None:
    """Sets j0 .. j0 + count - 1 in chunks of `chunk` sets, chunk c written from
    out[base + c × cap], up to cap entries; next_j[c] and end_pos[c] say how far it got."""
    nchunks = next_j.size
    for c in numba.prange(nchunks):
        a = j0 + c * chunk
        b = min(a + chunk, j0 + count)
        lo = base + c * cap
        visited = np.zeros(n, dtype=np.bool_)
        jn, p = _sample_range(
            indptr, indices, thresholds, n, key, a, b, out, lo, lo + cap, sizes, j0, visited
        )
        next_j[c] = jn
        end_pos[c] = p


@_jit
def _count_nodes(
    nodes: npt.NDArray[np.int32], lo: int, hi: int, counts: npt.NDArray[np.int64]
) -> None:
    for t in range(lo, hi):
        counts[nodes[t]] += 1


class RRStore:
    """A growing flat store of RR sets for one graph and seed: set r is
    `nodes[offsets[r]:offsets[r + 1]]`, the sets being numbers `first`, `first + 1`, ... of
    the seed's stream (so sets in two stores with disjoint ranges are independent).
    `counts[u]` is the number of stored sets that hold u."""

    def __init__(
        self,
        indptr: npt.NDArray[np.int64],
        indices: npt.NDArray[np.int32],
        thresholds: npt.NDArray[np.uint64],
        key: np.uint64,
        first: int = 0,
    ) -> None:
        self.indptr, self.indices, self.thresholds = indptr, indices, thresholds
        self.key = np.uint64(key)
        self.n = indptr.size - 1
        self.first = first
        self.count = 0
        self.nodes = np.empty(max(4 * self.n, 1 << 16), dtype=np.int32)
        self.offsets = np.zeros(1 << 12, dtype=np.int64)
        self.counts = np.zeros(self.n, dtype=np.int64)

    @property
    def used(self) -> int:
        return int(self.offsets[self.count])

    def _reserve(self, entries: int, sets: int) -> None:
        if self.nodes.size < entries:
            grown = np.empty(max(entries, 2 * self.nodes.size), dtype=np.int32)
            grown[: self.used] = self.nodes[: self.used]
            self.nodes = grown
        if self.offsets.size < sets + 1:
            offs = np.empty(max(sets + 1, 2 * self.offsets.size), dtype=np.int64)
            offs[: self.count + 1] = self.offsets[: self.count + 1]
            self.offsets = offs

    def _append(self, sizes: npt.NDArray[np.int64]) -> None:
        self._reserve(0, self.count + sizes.size)
        before = self.used
        np.cumsum(sizes, out=self.offsets[self.count + 1 : self.count + 1 + sizes.size])
        self.offsets[self.count + 1 : self.count + 1 + sizes.size] += before
        self.count += sizes.size
        _count_nodes(self.nodes, before, self.used, self.counts)

    def extend_to(self, target: int) -> None:
        """Draw sets until the store holds `target` of them."""
        while self.count < target:
            if self.count < PILOT_SETS:
                self._draw_serial(min(target, PILOT_SETS) - self.count)
            else:
                self._draw_parallel(target - self.count)

    def _draw_serial(self, count: int) -> None:
        # room for `count` sets of the worst size would be count × n: take what the sets
        # drawn so far suggest, at least one whole worst-case set, and loop on the rest
        used = self.used
        mean = used / self.count if self.count else 8.0
        cap = max(self.n, int(count * mean * 2) + 1024)
        self._reserve(used + cap, self.count + count)
        sizes = np.empty(count, dtype=np.int64)
        j0 = self.first + self.count
        jn, _ = _sample_range(
            self.indptr, self.indices, self.thresholds, self.n, self.key, j0, j0 + count,
            self.nodes, used, used + cap, sizes, j0, np.zeros(self.n, dtype=np.bool_),
        )  # fmt: skip
        self._append(sizes[: jn - j0])

    def _draw_parallel(self, count: int) -> None:
        used = self.used
        mean = used / self.count
        nchunks = -(-count // CHUNK_SETS)
        chunk_sets = min(count, CHUNK_SETS)
        # 1.5 × the expected size plus slack: an overflow only costs a redraw of later chunks
        cap = int(chunk_sets * mean * 1.5) + 8 * int(math.sqrt(chunk_sets) * (mean + 1)) + 1024
        self._reserve(used + nchunks * cap, self.count + count)
        sizes = np.empty(count, dtype=np.int64)
        next_j = np.empty(nchunks, dtype=np.int64)
        end_pos = np.empty(nchunks, dtype=np.int64)
        j0 = self.first + self.count
        _sample_chunks(
            self.indptr, self.indices, self.thresholds, self.n, self.key, j0, count,
            CHUNK_SETS, self.nodes, used, cap, sizes, next_j, end_pos,
        )  # fmt: skip
        # keep chunks in order up to and including the first that ran out of room
        write = used
        done = 0
        for c in range(nchunks):
            lo = used + c * cap
            length = int(end_pos[c]) - lo
            if write != lo:
                self.nodes[write : write + length] = self.nodes[lo : lo + length]
            write += length
            done = int(next_j[c]) - j0
            if next_j[c] < min(j0 + (c + 1) * CHUNK_SETS, j0 + count):
                break
        if done == 0:  # not even one set fit (a huge one): draw it with room for n nodes
            self._draw_serial(1)
            return
        self._append(sizes[:done])


@_jit
def kth_largest(values: npt.NDArray[np.float64], k: int) -> float:
    """The k-th largest of `values` (1 ≤ k ≤ size), by Hoare's quickselect on a copy.
    (numba's np.partition would do, but takes ~10 s to compile.)"""
    a = values.copy()
    target = k - 1  # its index in decreasing order
    lo, hi = 0, a.size - 1
    while lo < hi:
        x, y, z = a[lo], a[(lo + hi) >> 1], a[hi]
        pivot = max(min(x, y), min(max(x, y), z))  # median of three
        i, j = lo, hi
        while i <= j:
            while a[i] > pivot:
                i += 1
            while a[j] < pivot:
                j -= 1
            if i <= j:
                a[i], a[j] = a[j], a[i]
                i += 1
                j -= 1
        if target <= j:
            hi = j
        elif target >= i:
            lo = i
        else:
            break
    return float(a[target])


@_jit
def _index_rows(
    nodes: npt.NDArray[np.int32],
    offsets: npt.NDArray[np.int64],
    nsets: int,
    counts: npt.NDArray[np.int64],
    score: npt.NDArray[np.float64],
    rows: int,
    tol: float,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64], npt.NDArray[np.int32]]:
    """The node → RR-set index (CSR: row u is sets[ptr[u]:ptr[u + 1]], in increasing set
    order) for the `rows` nodes of highest score above `tol` (ties at the cut all in), and
    the flags of the nodes that got a row. Counting sort: one pass over the sets."""
    n = score.size
    has_row = np.zeros(n, dtype=np.bool_)
    cut = tol
    if rows < n:
        cut = max(tol, kth_largest(score, rows))
    ptr = np.zeros(n + 1, dtype=np.int64)
    for u in range(n):
        size = 0
        if score[u] > tol and score[u] >= cut:
            has_row[u] = True
            size = counts[u]
        ptr[u + 1] = ptr[u] + size
    fill = ptr[:n].copy()
    sets = np.empty(ptr[n], dtype=np.int32)
    if nsets == 0:
        return has_row, ptr, sets
    # one flat pass over the entries, the set number following along without a branch
    # (sets are never empty: each holds its root): a loop per set mispredicts its exits
    r = 0
    end = offsets[1]
    for t in range(offsets[nsets]):
        r += t == end
        end = offsets[r + 1]
        u = nodes[t]
        if has_row[u]:
            sets[fill[u]] = r
            fill[u] += 1
    return has_row, ptr, sets


@_jit
def greedy_cover(
    nodes: npt.NDArray[np.int32],
    offsets: npt.NDArray[np.int64],
    nsets: int,
    counts: npt.NDArray[np.int64],
    weights: npt.NDArray[np.float64],
    allowed: npt.NDArray[np.bool_],
    community: npt.NDArray[np.int64],
    cap: int,
    k: int,
    need: float,
    tol: float,
    rows: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], float, bool]:
    """Greedy maximum probabilistic coverage of the `nsets` RR sets; `counts[u]` is the
    number of them that hold u.

    Each RR set r keeps a residual mass res[r] = Π (1 − w[s]) over the seeds s chosen in it
    (1 at the start); the gain of node u is w[u] × Σ res[r] over the sets r that contain u, and
    choosing s multiplies the residual of each of its sets by 1 − w[s], lowering the gains of
    that set's members by w[u] × the mass removed (exact decrement: each set is walked once
    per chosen seed in it; with all weights 1 that is plain max coverage, integer-exact).
    Ties go to the lower node id; gains at or below `tol` count as zero, and selection stops
    when no allowed node has a positive gain.

    The sets holding a chosen seed come from a node → set index, kept for the `rows` nodes
    of largest gain only (the seeds come from the top few hundred; a full index costs a
    scattered write per stored node). Gains stay exact for every node; when the best one has
    no row, the index is rebuilt for twice as many nodes, by their current gains.

    `cap` ≥ 0 limits seeds per community: a node of a full community is taken only when no
    other allowed node has a positive gain. `need` ≥ 0 is an early exit: stop as soon as the
    coverage cannot reach `need` any more (by submodularity the remaining picks add at most
    their number × the current best gain); the returned flag says so.

    Returns (seeds in order, mass each one covered, total mass covered, stopped early)."""
    n = allowed.size
    gain = np.empty(n, dtype=np.float64)
    for u in range(n):
        gain[u] = weights[u] * counts[u] if allowed[u] else -np.inf
    rows = min(max(rows, 1), n)
    has_row, ptr, sets = _index_rows(nodes, offsets, nsets, counts, gain, rows, tol)
    residual = np.ones(nsets, dtype=np.float64)
    used = np.zeros(community.max() + 1 if community.size else 1, dtype=np.int64)
    seeds = np.empty(k, dtype=np.int64)
    gains = np.empty(k, dtype=np.float64)
    covered = 0.0
    m = 0
    while m < k:
        best_any, g_any = -1, tol
        best_ok, g_ok = -1, tol
        for u in range(n):
            g = gain[u]
            if g > g_ok and (cap < 0 or used[community[u]] < cap):
                best_ok, g_ok = u, g
            if g > g_any:
                best_any, g_any = u, g
        if best_any < 0:
            break
        if need >= 0.0 and covered + (k - m) * g_any < need:
            return seeds[:m], gains[:m], covered, True
        b = best_ok if best_ok >= 0 else best_any
        if not has_row[b]:
            rows = min(2 * rows, n)
            has_row, ptr, sets = _index_rows(nodes, offsets, nsets, counts, gain, rows, tol)
        wb = weights[b]
        before = covered
        for i in range(ptr[b], ptr[b + 1]):
            r = sets[i]
            old = residual[r]
            if old <= 0.0:
                continue
            delta = old * wb
            residual[r] = old - delta
            covered += delta
            for t in range(offsets[r], offsets[r + 1]):
                u = nodes[t]
                gain[u] -= weights[u] * delta
        gain[b] = -np.inf
        if cap >= 0:
            used[community[b]] += 1
        seeds[m] = b
        gains[m] = covered - before
        m += 1
    return seeds[:m], gains[:m], covered, False
