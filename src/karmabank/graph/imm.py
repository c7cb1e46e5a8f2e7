"""Influence maximization: whom to ask first so that a message travels furthest.

`maximize_influence` picks k seeds that (approximately) maximize the expected spread
σ(S) under the independent cascade (IC) model: each edge u→v carries the probability that
u's message, once u has it, reaches v; every newly reached node gets one chance per out-edge.

Algorithm: IMM, Y. Tang, Y. Shi, X. Xiao, "Influence Maximization in Near-Linear Time: A
Martingale Approach", SIGMOD 2015 (Algorithms 1-3), over reverse-reachable (RR) sets
(`karmabank.graph.rr_sets`). With probability at least 1 − n^−ℓ the seeds' spread is at
least (1 − 1/e − ε) × the best possible spread of any k candidates.

1. Sampling (estimating a lower bound LB of OPT). With ε' = √2·ε and
   λ' = (2 + 2ε'/3)·(ln C(c, k) + ℓ·ln n + ln log₂ n)·n / ε'², for i = 1, 2, ...,
   ⌈log₂ n⌉ − 1: x = n / 2^i, grow the RR sets R to θ_i = λ'/x, pick S_i greedily on them;
   if n·F_R(S_i) ≥ (1 + ε')·x (F_R: the fraction of R that S_i covers), then
   LB = n·F_R(S_i) / (1 + ε') and stop.
2. θ = λ*/LB with λ* = 2n·((1 − 1/e)·α + β)²·ε⁻², α = √(ℓ·ln n + ln 2),
   β = √((1 − 1/e)·(ln C(c, k) + ℓ·ln n + ln 2)); grow R to θ sets (the paper reuses
   phase 1's sets; `independent_final=True` draws θ fresh ones instead, the fix proposed by
   W. Chen, "An Issue in the Martingale Analysis of the Influence Maximization Algorithm
   IMM", 2018, at the cost of sampling both phases).
3. Node selection: greedy maximum coverage of R, k times.

As in the paper, ℓ is first raised to ℓ·(1 + ln 2 / ln n) so that both phases together fail
with probability at most n^−ℓ; ln C(c, k) is taken with math.lgamma, c being the number of
candidates (the union bound runs over the seed sets that can actually be chosen). LB is
also never below the sum of the k largest candidate weights (k without weights): each seed
reaches at least itself, so that floor holds for sure, where the paper falls back to 1.

Seed weights. `weights[u]` ∈ [0, 1] is the probability that u acts at all when asked
(e.g. the likelihood the person forwards the message). The objective is the expected spread
when each seed independently starts the cascade with probability w[u]. An RR set R then
counts 1 − Π_{s ∈ S ∩ R} (1 − w[s]) (the chance that some active seed reaches R's root), so
σ_w(S) = n × the mean of that over the RR sets: probabilistic coverage, still monotone and
submodular, so greedy and IMM's bounds carry over. Greedy tracks each set's residual mass
Π (1 − w[s]); u's gain is w[u] × the residual mass of the sets holding u. Weight 1 everywhere
is plain max coverage; a node of weight 0 has gain 0 and is never chosen.

Sample size: θ grows like n·ln C(c, k)/(ε²·OPT). Where k seeds can reach only a handful of
nodes in a large graph (sparse or low-probability edges, small weights), that is tens of
millions of RR sets and gigabytes: `max_rr_sets` turns it into an error up front.

Speed: RR sampling and greedy are numba kernels (parallel over fixed-size chunks of sets,
deterministic for a given `seed`); the Python here only runs the ⌈log₂ n⌉ phase-1 rounds.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import igraph as ig
import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse import csgraph

from karmabank.graph.rr_sets import RRStore, greedy_cover, in_edge_csr, mix_seed

# greedy treats gains (in RR sets) at or below this as zero: float residue, not influence
GAIN_TOLERANCE = 1e-9
# greedy indexes the RR sets of this many nodes of largest coverage (more on demand)
INDEX_ROWS_PER_SEED = 8
INDEX_ROWS_MIN = 1024


# greedy_cover's result: seeds, covered mass per seed, total covered mass, stopped early
_Greedy = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], float, bool]


@dataclass(frozen=True, eq=False)
class InfluencePlan:
    """The seeds IMM chose and what the RR sets say they are worth.

    seeds: node ids, np.int64, in greedy order (the first is the single best one).
    marginal_gains: expected spread each seed adds to those before it (n × the RR mass it
        newly covered); same order, sums to `spread_estimate`.
    spread_estimate: n × the covered fraction of the final RR sets: the (weighted) expected
        number of nodes reached, an unbiased estimate for these seeds up to selection bias.
    rr_sets: RR sets the final selection ran on.
    theta: λ*/LB rounded up, the sample size phase 2 asked for (≤ rr_sets when phase 1
        already drew more and they were reused).
    lower_bound: LB, the lower bound on the best spread that sized the sample.
    capped: the sample stopped at `cap_rr_sets`, short of what IMM's guarantee needs.
    """

    seeds: npt.NDArray[np.int64]
    marginal_gains: npt.NDArray[np.float64]
    spread_estimate: float
    rr_sets: int
    theta: int
    lower_bound: float
    capped: bool = False


def _ids(name: str, values: npt.ArrayLike, n: int) -> npt.NDArray[np.int64]:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a one-dimensional array, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not np.issubdtype(arr.dtype, np.floating) or not np.all(arr == np.round(arr)):
            raise ValueError(f"{name} must hold integer node ids, got dtype {arr.dtype}")
    out = arr.astype(np.int64)
    if out.size and (out.min() < 0 or out.max() >= n):
        bad = out[(out < 0) | (out >= n)][0]
        raise ValueError(f"{name} holds node id {bad}, outside [0, {n}) for n = {n}")
    return out


def _unit_floats(name: str, values: npt.ArrayLike, size: int, what: str) -> npt.NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (size,):
        raise ValueError(f"{name} must have {size} values ({what}), got shape {arr.shape}")
    bad = ~((arr >= 0.0) & (arr <= 1.0))  # also catches NaN
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name}[{i}] = {arr[i]} is outside [0, 1]")
    return arr


def _log_binomial(c: int, k: int) -> float:
    return math.lgamma(c + 1) - math.lgamma(k + 1) - math.lgamma(c - k + 1)


def maximize_influence(
    src: npt.ArrayLike,
    dst: npt.ArrayLike,
    prob: npt.ArrayLike,
    n: int,
    k: int,
    *,
    epsilon: float = 0.1,
    ell: float = 1.0,
    candidates: npt.ArrayLike | None = None,
    weights: npt.ArrayLike | None = None,
    communities: npt.ArrayLike | None = None,
    max_per_community: int | None = None,
    seed: int = 0,
    independent_final: bool = False,
    max_rr_sets: int | None = None,
    cap_rr_sets: int | None = None,
) -> InfluencePlan:
    """The k seeds of largest expected IC spread, by IMM (see the module docstring).

    src, dst, prob: edge u→v with the probability that u's message reaches v (in [0, 1];
        parallel edges are independent chances, self-loops are ignored).
    n: number of nodes (ids 0 .. n − 1); k: number of seeds wanted (≥ 1).
    epsilon, ell: the approximation slack ε > 0 and confidence exponent ℓ > 0 (success
        probability 1 − n^−ℓ); smaller ε costs about 1/ε² more RR sets.
    candidates: the nodes that may be seeds (default: all). RR sets still run through every
        node; only coverage by candidates counts.
    weights: per node, the probability ∈ [0, 1] that it acts when asked (module docstring).
    communities, max_per_community: a community id per node (e.g. `detect_communities`) and
        the most seeds one community may get; a node of a full community is taken only when
        no other candidate adds a positive expected spread. Both or neither. IMM's guarantee
        is about the uncapped choice: with a cap, greedy is a diversity heuristic on top.
    seed: the random stream: the same seed gives the same plan, whatever the thread count.
    independent_final: draw phase 2's RR sets fresh instead of reusing phase 1's.
    max_rr_sets: raise ValueError instead of sampling more RR sets than this.
    cap_rr_sets: sample at most this many RR sets and go on with them: the plan is then a good
        greedy choice on a smaller sample, without IMM's guarantee (`capped` says so).

    Fewer than k seeds come back when fewer candidates add a positive expected spread (k
    above the number of candidates is not an error). Raises ValueError on bad input.
    """
    if not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    n = int(n)
    if not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    if not epsilon > 0.0:
        raise ValueError(f"epsilon must be > 0, got {epsilon}")
    if not ell > 0.0:
        raise ValueError(f"ell must be > 0, got {ell}")
    s = _ids("src", src, n)
    d = _ids("dst", dst, n)
    if s.size != d.size:
        raise ValueError(f"src and dst differ in length: {s.size} != {d.size}")
    p = _unit_floats("prob", prob, s.size, "one per edge, like src and dst")

    allowed = np.ones(n, dtype=np.bool_)
    if candidates is not None:
        cand = _ids("candidates", candidates, n)
        if cand.size == 0:
            raise ValueError("candidates is empty: there is nobody to choose from")
        allowed[:] = False
        allowed[cand] = True
    w = (
        np.ones(n, dtype=np.float64)
        if weights is None
        else _unit_floats("weights", weights, n, "one per node")
    )
    if (communities is None) != (max_per_community is None):
        raise ValueError("communities and max_per_community go together: give both or neither")
    community = np.zeros(n, dtype=np.int64)
    cap = -1
    if communities is not None and max_per_community is not None:
        labels = np.asarray(communities)
        if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"communities must be {n} integer ids, one per node")
        community = np.unique(labels, return_inverse=True)[1].astype(np.int64)  # 0 .. c − 1
        if max_per_community < 1:
            raise ValueError(f"max_per_community must be >= 1, got {max_per_community}")
        cap = int(max_per_community)

    # with weights, a weight-0 node can add nothing: not a candidate at all
    allowed &= w > 0.0
    c = int(allowed.sum())
    k = min(int(k), c)
    if k == 0:
        return InfluencePlan(np.empty(0, np.int64), np.empty(0, np.float64), 0.0, 0, 0, 0.0, False)

    # IMM's parameters (Tang et al. 2015, eqs. 6 and 9, and §4.2 for ℓ)
    log_n = math.log(max(n, 2))
    ell = ell * (1.0 + math.log(2.0) / log_n)
    eps_p = math.sqrt(2.0) * epsilon
    log_cnk = _log_binomial(c, k)
    lambda_p = (
        (2.0 + 2.0 / 3.0 * eps_p)
        * (log_cnk + ell * log_n + math.log(max(math.log2(n), 1.0)))
        * n
        / eps_p**2
    )
    e1 = 1.0 - 1.0 / math.e
    alpha = math.sqrt(ell * log_n + math.log(2.0))
    beta = math.sqrt(e1 * (log_cnk + ell * log_n + math.log(2.0)))
    lambda_star = 2.0 * n * (e1 * alpha + beta) ** 2 / epsilon**2
    floor = float(np.sort(w[allowed])[::-1][:k].sum())

    indptr, indices, thresholds = in_edge_csr(s, d, p, n)
    key = mix_seed(seed)
    store = RRStore(indptr, indices, thresholds, key)

    capped = False

    def check(target: int) -> int:
        """`target`, or the cap when it is past it (an error past `max_rr_sets`)."""
        nonlocal capped
        if cap_rr_sets is not None and target > cap_rr_sets:
            capped = True
            return cap_rr_sets
        if max_rr_sets is not None and target > max_rr_sets:
            raise ValueError(
                f"IMM needs {target:,} RR sets here, more than max_rr_sets = {max_rr_sets:,}"
                " (small weights or a large epsilon-to-spread ratio make the sample grow)"
            )
        return target

    def select(need: float) -> _Greedy | None:
        """Greedy on all stored sets; None when it cannot cover `need` (≥ 0) of them."""
        if need >= 0.0:
            # no k seeds cover more than the k largest single coverages together
            gain0 = np.where(allowed, w * store.counts, 0.0)
            if np.partition(gain0, n - k)[n - k :].sum() < need:
                return None
        result = greedy_cover(
            store.nodes, store.offsets, store.count, store.counts, w, allowed, community,
            cap, k, need, GAIN_TOLERANCE, max(INDEX_ROWS_PER_SEED * k, INDEX_ROWS_MIN),
        )  # fmt: skip
        return None if result[3] else result

    # phase 1: the lower bound
    lower_bound = floor
    last: _Greedy | None = None
    for i in range(1, math.ceil(math.log2(n))):
        x = n / 2.0**i
        theta_i = check(math.ceil(lambda_p / x))
        store.extend_to(theta_i)
        need = (1.0 + eps_p) * x / n * store.count
        last = select(need)
        if last is not None and last[2] >= need:
            lower_bound = max(floor, n * last[2] / store.count / (1.0 + eps_p))
            break
        last = None
        if capped:
            break

    # phase 2: the sample size, then node selection
    theta = check(math.ceil(lambda_star / lower_bound))
    if independent_final:
        store = RRStore(indptr, indices, thresholds, key, first=store.count)
        last = None
    if store.count < theta or last is None:
        store.extend_to(theta)
        last = select(-1.0)
    assert last is not None
    seeds, gains, covered, _ = last
    scale = n / store.count
    return InfluencePlan(
        seeds=seeds.copy(),
        marginal_gains=gains * scale,
        spread_estimate=covered * scale,
        rr_sets=store.count,
        theta=theta,
        lower_bound=lower_bound,
        capped=capped,
    )


def detect_communities(
    src: npt.ArrayLike, dst: npt.ArrayLike, n: int, *, seed: int = 0, iterations: int = 2
) -> npt.NDArray[np.int64]:
    """A community id per node (0 .. number of communities − 1), by the Leiden algorithm
    (V. A. Traag, L. Waltman, N. J. van Eck, "From Louvain to Leiden: guaranteeing
    well-connected communities", Scientific Reports 9, 2019) maximizing modularity on the
    2-core of the undirected simple graph (directions, parallel edges and self-loops
    dropped), run by igraph for `iterations` iterations (2, igraph's default).

    The rest of the graph is trees: a tree hanging off the 2-core joins the community of the
    core node it hangs from (for a leaf, joining its only neighbour's community always raises
    modularity), and a component with no 2-core (a tree, or an isolated node) is a community
    of its own. On higgs-twitter's diffusion graph (297k nodes) the 2-core has 89k: Leiden on it
    takes a third of the time on the whole graph, and 2 iterations a twelfth of running until
    none improves (modularity 0.812 against 0.814). `seed` makes it deterministic: igraph draws
    from a `random.Random(seed)` during the call and from the `random` module (its default)
    afterwards; not thread-safe."""
    if not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    n = int(n)
    s = _ids("src", src, n)
    d = _ids("dst", dst, n)
    if s.size != d.size:
        raise ValueError(f"src and dst differ in length: {s.size} != {d.size}")
    lo, hi = np.minimum(s, d), np.maximum(s, d)
    pair = np.sort(lo[lo != hi] * n + hi[lo != hi])  # the simple graph, in NumPy
    pair = pair[np.r_[True, pair[1:] != pair[:-1]]] if pair.size else pair
    a, b = np.divmod(pair, n)
    graph = ig.Graph(n=n, edges=list(zip(a.tolist(), b.tolist(), strict=True)))
    core = np.asarray(graph.coreness(), dtype=np.int64) >= 2
    membership = np.full(n, -1, dtype=np.int64)
    inner = np.flatnonzero(core)
    if inner.size:
        ig.set_random_number_generator(random.Random(seed))
        try:
            sub = graph.induced_subgraph(inner.tolist())  # keeps the nodes' order
            clustering = sub.community_leiden(
                objective_function="modularity", n_iterations=iterations
            )
        finally:
            ig.set_random_number_generator(random)
        membership[inner] = np.asarray(clustering.membership, dtype=np.int64)
    # the trees: each node takes its parent's label in a search from the whole 2-core
    sym = sparse.csr_matrix(
        (np.ones(2 * a.size + inner.size), (np.r_[a, b, np.full(inner.size, n)],
                                            np.r_[b, a, inner])), shape=(n + 1, n + 1),
    )  # fmt: skip
    order, parent = csgraph.breadth_first_order(sym, n, directed=True, return_predecessors=True)
    root = np.arange(n + 1)
    reached = order[1:]
    outside = reached[~core[reached]]
    root[outside] = parent[outside]
    for _ in range(64):  # pointer jumping: depth halves each round
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    membership[outside] = membership[root[outside]]
    # components with no 2-core: one community each
    rest = np.flatnonzero(membership < 0)
    if rest.size:
        _, component = csgraph.connected_components(sym[:n, :n], directed=False)
        _, local = np.unique(component[rest], return_inverse=True)
        membership[rest] = int(membership.max(initial=-1)) + 1 + local
    return _renumbered(membership)


def _renumbered(labels: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Labels as 0 .. c − 1 in order of first appearance."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    return rank[inverse.ravel()]
