"""Reverse-reachable (RR) sets under the independent cascade (IC) model, drawn in NumPy: the
sample behind `karmabank.graph.imm` (greedy coverage over it is `karmabank.graph.greedy`).

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
  `nodes[offsets[r]:offsets[r + 1]]` (sorted by node id), grown by `RRStore`.

Randomness is counter-based: set number j has the key a_j = mix(seed ^ j × golden), its root
comes from the splitmix64 word mix(a_j + golden) and in-edge e is live in it when the word
mix(a_j + (e + 2) × golden) is under e's threshold. Every coin is a function of (seed, j, e)
alone, so a set's content never depends on how the sets are batched or on the order the
search meets the edges, and the sample is the same for a given seed on any machine.

How (why NumPy, not a compiled kernel): the sets are drawn a batch at a time, all their
searches advanced one level per step: the frontier's in-edges are listed at once, an edge
into a node its set already holds is dropped (a bit per (set, node) in a bitmap sized for the
batch), the coins of the rest are flipped as one array, and the new (set, node) pairs are
de-duplicated with `np.unique` on the combined key set × n + node. On higgs-twitter's plan
graph (118k nodes, 197k edges, 69,839 sets of 4.1 nodes on average) that is 0.06 s; the Numba
kernels it replaces took 0.03 s, but importing Numba and loading their cached machine code
cost 1.0-1.4 s of every fresh `karmabank campaign plan` process (`import numba` 0.5-0.9 s,
the kernels 0.5 s), more than the whole sample.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
Words = npt.NDArray[np.uint64]

# splitmix64 (Steele, Lea, Flood 2014; the constants of Vigna's reference code)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_P53 = float(2**53)
# bits of the (set, node) bitmap of one batch: 2**28 bits is 32 MiB; the batch holds
# BITMAP_BITS // n sets (at least one, at most MAX_BATCH_SETS)
BITMAP_BITS = 1 << 28
MAX_BATCH_SETS = 1 << 16


def mix(z: Words) -> Words:
    """splitmix64's output function on an array of words (wrapping uint64 arithmetic), in
    place: `z` is overwritten and returned (callers pass a temporary)."""
    z ^= z >> np.uint64(30)
    z *= _MIX1
    z ^= z >> np.uint64(27)
    z *= _MIX2
    z ^= z >> np.uint64(31)
    return z


def mix_seed(seed: int) -> np.uint64:
    """The 64-bit stream key of a user seed (any Python int, taken modulo 2**64)."""
    return np.uint64(mix(np.array([seed % 2**64], dtype=np.uint64))[0])


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


def ranges(starts: Ints, lengths: Ints) -> Ints:
    """The concatenation of arange(starts[i], starts[i] + lengths[i]) over i."""
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    return np.repeat(starts - (ends - lengths), lengths) + np.arange(total, dtype=np.int64)


class _Bitmap:
    """One bit per (set of the batch, node), keyed set × n + node; all clear between batches."""

    def __init__(self, bits: int) -> None:
        self.words = np.zeros((bits + 63) >> 6, dtype=np.uint64)

    def holds(self, keys: Ints) -> npt.NDArray[np.bool_]:
        bit = (keys & 63).astype(np.uint64)
        held: npt.NDArray[np.bool_] = (self.words[keys >> 6] >> bit) & np.uint64(1) != 0
        return held

    def add(self, keys: Ints) -> None:
        """Set the bits of `keys` (sorted, distinct)."""
        if not keys.size:
            return
        word = keys >> 6
        bits = np.uint64(1) << (keys & 63).astype(np.uint64)
        starts = np.flatnonzero(np.r_[True, word[1:] != word[:-1]])
        self.words[word[starts]] |= np.bitwise_or.reduceat(bits, starts)

    def clear(self, keys: Ints) -> None:
        self.words[keys >> 6] = 0


class _Graph:
    """The in-edge CSR with what drawing needs (n, the stream key)."""

    def __init__(
        self, indptr: Ints, indices: npt.NDArray[np.int32], thresholds: Words, key: np.uint64
    ) -> None:
        self.indptr, self.indices, self.thresholds = indptr, indices, thresholds
        self.key = np.uint64(key)
        self.n = indptr.size - 1

    def level(self, set_keys: Words, sets: Ints, nodes: Ints, seen: _Bitmap) -> Ints:
        """One step of every search: the (set × n + node) keys, sorted and new to their
        set, that the frontier (`sets[i]` holds `nodes[i]`) reaches through live in-edges."""
        lo = self.indptr[nodes]
        degree = self.indptr[nodes + 1] - lo
        edge = ranges(lo, degree)
        owner = np.repeat(sets, degree)
        # the coins first: most edges are not live (weighted cascade: p = 1 / in-degree), and
        # only live ones need the look-up of what their set already holds
        words = mix(set_keys[owner] + (edge.astype(np.uint64) + np.uint64(2)) * _GOLDEN)
        live = (words >> np.uint64(11)) < self.thresholds[edge]
        keys = owner[live] * self.n + self.indices[edge[live]]
        keys = keys[~seen.holds(keys)]
        reached = np.sort(keys, kind="stable")  # a radix sort: 3x np.unique's hash
        reached = reached[np.r_[True, reached[1:] != reached[:-1]]] if reached.size else reached
        seen.add(reached)
        return reached

    def draw(self, j0: int, count: int, seen: _Bitmap) -> tuple[npt.NDArray[np.int32], Ints]:
        """Sets j0 .. j0 + count − 1 (count × n ≤ the bitmap's bits): their nodes, flat,
        grouped by set and sorted by node within it, and their sizes."""
        n = self.n
        numbers = np.arange(j0, j0 + count, dtype=np.uint64)
        set_keys = mix(self.key ^ (numbers * _GOLDEN))
        roots = ((mix(set_keys + _GOLDEN) >> np.uint64(32)) * np.uint64(n)) >> np.uint64(32)
        found = [np.arange(count, dtype=np.int64) * n + roots.astype(np.int64)]
        seen.add(found[0])
        while found[-1].size:
            sets, nodes = np.divmod(found[-1], n)
            found.append(self.level(set_keys, sets, nodes, seen))
        keys = np.sort(np.concatenate(found), kind="stable")  # radix: 8x a stable argsort
        seen.clear(keys)
        owner, nodes = np.divmod(keys, n)
        return nodes.astype(np.int32), np.bincount(owner, minlength=count)


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
        self.graph = _Graph(indptr, indices, thresholds, key)
        self.n = self.graph.n
        self.first = first
        self.count = 0
        self.nodes = np.empty(max(4 * self.n, 1 << 16), dtype=np.int32)
        self.offsets = np.zeros(1 << 12, dtype=np.int64)
        self.counts = np.zeros(self.n, dtype=np.int64)
        self.batch = max(1, min(BITMAP_BITS // self.n, MAX_BATCH_SETS))
        self._seen: _Bitmap | None = None

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

    def _append(self, nodes: npt.NDArray[np.int32], sizes: Ints) -> None:
        before = self.used
        self._reserve(before + nodes.size, self.count + sizes.size)
        self.nodes[before : before + nodes.size] = nodes
        ends = self.offsets[self.count + 1 : self.count + 1 + sizes.size]
        np.cumsum(sizes, out=ends)
        ends += before
        self.count += sizes.size
        self.counts += np.bincount(nodes, minlength=self.n)

    def extend_to(self, target: int) -> None:
        """Draw sets until the store holds `target` of them."""
        if self.count >= target:
            return
        if self._seen is None:  # zeroed lazily by the OS: only the pages a batch uses cost
            self._seen = _Bitmap(self.batch * self.n)
        while self.count < target:
            count = min(self.batch, target - self.count)
            self._append(*self.graph.draw(self.first + self.count, count, self._seen))
