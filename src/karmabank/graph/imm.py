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

Speed: RR sampling (`rr_sets`) and greedy (`greedy`) are vectorized NumPy, deterministic for
a given `seed`; the Python here only runs the ⌈log₂ n⌉ phase-1 rounds. Numba kernels did both
until 2026-12: they were faster per call, but every fresh process paid 1.0-1.4 s to import
Numba and load them (see `rr_sets`), more than the whole IMM run on higgs' plan graph.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from karmabank.graph.greedy import Cover, Limits, greedy_cover
from karmabank.graph.ids import node_ids
from karmabank.graph.rr_sets import RRStore, in_edge_csr, mix_seed

# greedy treats gains (in RR sets) at or below this as zero: float residue, not influence
GAIN_TOLERANCE = 1e-9
# greedy indexes the RR sets of this many nodes of largest coverage (more on demand)
INDEX_ROWS_PER_SEED = 8
INDEX_ROWS_MIN = 1024


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


Labels = npt.ArrayLike | Callable[[], npt.ArrayLike]


@dataclass(frozen=True)
class _Problem:
    """maximize_influence's checked inputs: the in-edge CSR, n, the greedy limits without
    the diversity cap (k at most the candidates), the number of candidates c, and the cap
    (the communities, or what gives them when asked, and the most seeds per community)."""

    csr: tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.uint64]]
    n: int
    limits: Limits
    c: int
    diversity: tuple[Labels, int] | None


def _community_ids(labels: npt.ArrayLike, n: int) -> npt.NDArray[np.int64]:
    """A community 0 .. c − 1 per node."""
    arr = np.asarray(labels)
    if arr.shape != (n,) or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"communities must be {n} integer ids, one per node")
    return np.unique(arr, return_inverse=True)[1].astype(np.int64)


def _diversity(
    communities: Labels | None, max_per_community: int | None, n: int
) -> tuple[Labels, int] | None:
    """The checked cap: (the communities, renumbered when given as an array, the cap)."""
    if (communities is None) != (max_per_community is None):
        raise ValueError("communities and max_per_community go together: give both or neither")
    if communities is None or max_per_community is None:
        return None
    if not callable(communities):
        communities = _community_ids(communities, n)
    if max_per_community < 1:
        raise ValueError(f"max_per_community must be >= 1, got {max_per_community}")
    return communities, int(max_per_community)


def _problem(
    edges: tuple[npt.ArrayLike, npt.ArrayLike, npt.ArrayLike], n: int, k: int,
    candidates: npt.ArrayLike | None, weights: npt.ArrayLike | None,
    communities: tuple[Labels | None, int | None],
) -> _Problem:  # fmt: skip
    """Checked inputs (ValueError naming the bad one)."""
    if not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    n = int(n)
    if not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    s, d = node_ids("src", edges[0], n), node_ids("dst", edges[1], n)
    if s.size != d.size:
        raise ValueError(f"src and dst differ in length: {s.size} != {d.size}")
    p = _unit_floats("prob", edges[2], s.size, "one per edge, like src and dst")
    allowed = np.ones(n, dtype=np.bool_)
    if candidates is not None:
        cand = node_ids("candidates", candidates, n)
        if cand.size == 0:
            raise ValueError("candidates is empty: there is nobody to choose from")
        allowed[:] = False
        allowed[cand] = True
    w = np.ones(n) if weights is None else _unit_floats("weights", weights, n, "one per node")
    diversity = _diversity(*communities, n)
    allowed &= w > 0.0  # with weights, a weight-0 node can add nothing: not a candidate at all
    c = int(allowed.sum())
    k = min(int(k), c)
    rows = max(INDEX_ROWS_PER_SEED * k, INDEX_ROWS_MIN)
    limits = Limits(k, w, allowed, np.zeros(n, dtype=np.int64), -1, GAIN_TOLERANCE, rows)
    return _Problem(in_edge_csr(s, d, p, n), n, limits, c, diversity)


@dataclass(frozen=True)
class _Bounds:
    """IMM's sample sizes (Tang et al. 2015, eqs. 6 and 9, and §4.2 for ℓ): ε', λ', λ*."""

    eps_p: float
    lambda_p: float
    lambda_star: float

    @classmethod
    def of(cls, n: int, c: int, k: int, epsilon: float, ell: float) -> _Bounds:
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
        return cls(eps_p, lambda_p, 2.0 * n * (e1 * alpha + beta) ** 2 / epsilon**2)


class _Sampler:
    """The growing sample and greedy on it, with the sample-size limits."""

    def __init__(self, problem: _Problem, seed: int, max_rr: int | None, cap_rr: int | None):
        self.problem, self.max_rr, self.cap_rr = problem, max_rr, cap_rr
        self.key = mix_seed(seed)
        self.store = RRStore(*problem.csr, self.key)
        self.capped = False

    def check(self, target: int) -> int:
        """`target`, or the cap when it is past it (an error past `max_rr_sets`)."""
        if self.cap_rr is not None and target > self.cap_rr:
            self.capped = True
            return self.cap_rr
        if self.max_rr is not None and target > self.max_rr:
            raise ValueError(
                f"IMM needs {target:,} RR sets here, more than max_rr_sets = {self.max_rr:,}"
                " (small weights or a large epsilon-to-spread ratio make the sample grow)"
            )
        return target

    def fresh(self) -> None:
        """Go on with sets independent of those drawn so far."""
        self.store = RRStore(*self.problem.csr, self.key, first=self.store.count)

    def select(self, need: float) -> Cover | None:
        """Greedy on all stored sets; None when it cannot cover `need` (≥ 0) of them."""
        limits, store, n = self.problem.limits, self.store, self.problem.n
        if need >= 0.0:
            # no k seeds cover more than the k largest single coverages together
            gain0 = np.where(limits.allowed, limits.weights * store.counts, 0.0)
            if np.partition(gain0, n - limits.k)[n - limits.k :].sum() < need:
                return None
        result = greedy_cover(store, limits, need=need)
        return None if result.stopped else result


def _lower_bound(sampler: _Sampler, bounds: _Bounds, floor: float) -> tuple[float, Cover | None]:
    """IMM's phase 1: LB, and greedy's choice on the sample when it was the one that set it."""
    n = sampler.problem.n
    for i in range(1, math.ceil(math.log2(n))):
        x = n / 2.0**i
        sampler.store.extend_to(sampler.check(math.ceil(bounds.lambda_p / x)))
        need = (1.0 + bounds.eps_p) * x / n * sampler.store.count
        last = sampler.select(need)
        if last is not None and last.covered >= need:
            return max(floor, n * last.covered / sampler.store.count / (1.0 + bounds.eps_p)), last
        if sampler.capped:
            break
    return floor, None


def _imm(sampler: _Sampler, bounds: _Bounds, independent_final: bool) -> InfluencePlan:
    """IMM's two phases and the node selection (module docstring)."""
    limits, n = sampler.problem.limits, sampler.problem.n
    floor = float(np.sort(limits.weights[limits.allowed])[::-1][: limits.k].sum())
    lower_bound, last = _lower_bound(sampler, bounds, floor)
    # phase 2: the sample size, then node selection
    theta = sampler.check(math.ceil(bounds.lambda_star / lower_bound))
    if independent_final:
        sampler.fresh()
        last = None
    if sampler.store.count < theta or last is None:
        sampler.store.extend_to(theta)
        last = sampler.select(-1.0)
    assert last is not None
    last = _diverse(sampler, last)
    scale = n / sampler.store.count
    return InfluencePlan(
        seeds=last.seeds.copy(),
        marginal_gains=last.gains * scale,
        spread_estimate=last.covered * scale,
        rr_sets=sampler.store.count,
        theta=theta,
        lower_bound=lower_bound,
        capped=sampler.capped,
    )


def _diverse(sampler: _Sampler, free: Cover) -> Cover:
    """The final choice under the diversity cap, on the same sample. The communities are
    asked for only when the choice without the cap has more seeds than the cap: while its
    seeds stay within the cap, the capped greedy takes the same ones, step for step."""
    problem = sampler.problem
    if problem.diversity is None or free.seeds.size <= problem.diversity[1]:
        return free
    labels, cap = problem.diversity
    community = _community_ids(labels() if callable(labels) else labels, problem.n)
    if np.bincount(community[free.seeds]).max() <= cap:
        return free
    limits = replace(problem.limits, community=community, cap=cap)
    return greedy_cover(sampler.store, limits, need=-1.0)


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
    communities: Labels | None = None,
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
    communities, max_per_community: a community id per node (e.g. `detect_communities`), or
        a function giving them, called only when the choice without the cap would break it,
        and the most seeds one community may get; a node of a full community is taken only
        when no other candidate adds a positive expected spread. Both or neither. IMM's
        guarantee is about the uncapped choice, so the sample is sized for it (phase 1 runs
        without the cap) and the cap applies to the final greedy on that same sample: a
        diversity heuristic on top, at no second sampling.
    seed: the random stream: the same seed gives the same plan, on any machine.
    independent_final: draw phase 2's RR sets fresh instead of reusing phase 1's.
    max_rr_sets: raise ValueError instead of sampling more RR sets than this.
    cap_rr_sets: sample at most this many RR sets and go on with them: the plan is then a good
        greedy choice on a smaller sample, without IMM's guarantee (`capped` says so).

    Fewer than k seeds come back when fewer candidates add a positive expected spread (k
    above the number of candidates is not an error). Raises ValueError on bad input.
    """
    if not epsilon > 0.0:
        raise ValueError(f"epsilon must be > 0, got {epsilon}")
    if not ell > 0.0:
        raise ValueError(f"ell must be > 0, got {ell}")
    problem = _problem(
        (src, dst, prob), n, k, candidates, weights, (communities, max_per_community)
    )
    if problem.limits.k == 0:
        return InfluencePlan(np.empty(0, np.int64), np.empty(0, np.float64), 0.0, 0, 0, 0.0, False)
    bounds = _Bounds.of(problem.n, problem.c, problem.limits.k, epsilon, ell)
    return _imm(_Sampler(problem, seed, max_rr_sets, cap_rr_sets), bounds, independent_final)
