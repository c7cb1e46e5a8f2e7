"""Reach (PRODUCT.md §3): how far a person's word carries.

Two parts, shown separately and combined as
`reach = followers_factor × log1p(followers) + pagerank_weight × pagerank_pct`:

- external: the audience a platform reports (followers), log-scaled;
- internal: the person's place in the peer graph (who replied to, mentioned or shared whom):
  weighted, directed PageRank and the k-core number of the undirected simple graph.

Why igraph: its C core has both algorithms built in (weighted PageRank through PRPACK, which
solves small graphs exactly by Gaussian elimination and larger ones by Gauss-Seidel, and the
linear-time Batagelj-Zaversnik k-core), it is maintained, and it ships abi3 wheels for Python
3.11, so nothing compiles at install time. scipy.sparse would give PageRank as a few lines of
power iteration but has no k-core, and a hand-written coreness is a loop over nodes in Python.
networkit is as fast but pulls in OpenMP and a larger install for two algorithms. rustworkx
has both (`pagerank`, `core_number`), but takes edge weights through a Python callback per
edge, where igraph takes a plain list; igraph's wider catalogue (communities, diffusion, the
influence maximization planned in `graph/`) also keeps the graph code on one library.
"""

from __future__ import annotations

from dataclasses import dataclass

import igraph as ig
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from karmabank.errors import ConfigError
from karmabank.graph.ids import dense_ids

REACH_SCHEMA = pa.schema(
    [
        ("person_id", pa.int64()),
        ("pagerank", pa.float64()),
        ("pagerank_pct", pa.float64()),
        ("core", pa.int32()),
        ("followers", pa.int64()),  # null: no platform reported an audience
        ("reach", pa.float64()),
    ]
)
# Values closer than this (relative to the largest |value|) rank as ties: PageRanks that are
# equal in exact arithmetic come out of the solver a few ulps apart.
TIE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class ReachSettings:
    damping: float = 0.85  # PageRank's probability of following an edge (not teleporting)
    followers_factor: float = 1.0  # reach = followers_factor × log1p(followers) ...
    pagerank_weight: float = 10.0  # ... + pagerank_weight × pagerank_pct


def percentile_rank(values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Each value's percentile among `values`: `(rank_min − 1) / (n − 1)`, where rank_min is
    the 1-based ascending rank of the first of its ties. That is the fraction of the *other*
    n − 1 values that are strictly lower: 0.0 for the lowest (and for everyone when all tie),
    1.0 for a single highest value, the same number for ties (values within a relative
    TIE_TOLERANCE of their neighbour in sorted order). One value: 1.0. NaN is a bug."""
    v = np.asarray(values, dtype=np.float64)
    n = v.size
    if np.isnan(v).any():
        raise ValueError("percentile_rank: NaN among the values")
    if n <= 1:
        return np.ones(n, dtype=np.float64)
    order = np.argsort(v, kind="stable")
    ordered = v[order]
    tol = TIE_TOLERANCE * float(np.max(np.abs(ordered)))
    starts = np.empty(n, dtype=bool)
    starts[0] = True
    starts[1:] = np.diff(ordered) > tol
    first_of_group = np.flatnonzero(starts)  # 0-based rank_min − 1 of each tie group
    out = np.empty(n, dtype=np.float64)
    out[order] = first_of_group[np.cumsum(starts) - 1] / (n - 1)
    return out


def _int64(values: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.int64]:
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.int64)


def _reported(
    followers: pa.Table | None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(person ids, audiences) of the rows of `followers` with both known."""
    if followers is None:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    known = pc.and_(pc.is_valid(followers["person_id"]), pc.is_valid(followers["followers"]))
    fv = followers.filter(known)
    return _int64(fv["person_id"]), _int64(fv["followers"])


def _pagerank_and_core(
    s: npt.NDArray[np.int64], d: npt.NDArray[np.int64], weight: npt.NDArray[np.float64],
    n: int, settings: ReachSettings,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int32]]:  # fmt: skip
    """Weighted directed PageRank and the undirected k-core number of nodes 0 .. n − 1 over
    the edges s → d (one per (s, d), weights summed; self-loops and weights ≤ 0 dropped)."""
    link = (s != d) & (weight > 0)
    pair, pair_of = np.unique(s[link] * n + d[link], return_inverse=True)
    pair_weight = np.bincount(pair_of, weights=weight[link], minlength=pair.size)
    tails, heads = np.divmod(pair, n)
    graph = ig.Graph(
        n=n, edges=list(zip(tails.tolist(), heads.tolist(), strict=True)), directed=True
    )
    pagerank = np.asarray(
        graph.pagerank(
            directed=True,
            damping=settings.damping,
            weights=pair_weight.tolist() if pair.size else None,
            implementation="prpack",
        ),
        dtype=np.float64,
    )
    core = np.asarray(graph.as_undirected(mode="collapse").coreness(mode="all"), dtype=np.int32)
    return pagerank, core


def reach(
    edges: pa.Table,
    *,
    people: pa.Array | pa.ChunkedArray | None = None,
    followers: pa.Table | None = None,
    settings: ReachSettings = ReachSettings(),
) -> pa.Table:
    """Every person's reach, sorted by person_id (columns of REACH_SCHEMA).

    `edges` (src, dst: int64 person ids; weight: float64, null = 1) has one row per peer
    activity, src acting on dst. The graph's nodes are the output people: every src and dst,
    every id in `people` and every person in `followers`; an id with no edge is an isolated
    node (PageRank as igraph gives it: the teleport share only; core 0). Edges with a null end,
    self-loops and rows of weight ≤ 0 link nobody; duplicate (src, dst) rows add their weights.

    pagerank: weighted, directed PageRank (PRPACK; dangling nodes spread their rank evenly),
    summing to 1 over the nodes. pagerank_pct: `percentile_rank(pagerank)`. core: the k-core
    number in the undirected simple graph (directions and multi-edges collapsed). followers:
    the largest audience reported for the person (null if none); negative counts count as 0.
    """
    if not 0 <= settings.damping < 1:
        raise ConfigError(f"reach.damping must be in [0, 1), not {settings.damping!r}")
    valid = pc.and_(pc.is_valid(edges["src"]), pc.is_valid(edges["dst"]))
    kept = edges.filter(valid)
    src, dst = _int64(kept["src"]), _int64(kept["dst"])
    weight = np.asarray(
        pc.fill_null(kept["weight"].cast(pa.float64()), 1.0).to_numpy(), dtype=np.float64
    )
    extra = [] if people is None else [_int64(pc.drop_null(people))]
    f_ids, f_counts = _reported(followers)
    ids, inverse = dense_ids(np.concatenate([src, dst, *extra, f_ids]))
    n, m = ids.size, src.size
    if n == 0:
        return REACH_SCHEMA.empty_table()

    pagerank, core = _pagerank_and_core(inverse[:m], inverse[m : 2 * m], weight, n, settings)
    pct = percentile_rank(pagerank)

    # the largest reported audience per person
    audience = np.full(n, -1, dtype=np.int64)
    np.maximum.at(audience, inverse[inverse.size - f_ids.size :], np.maximum(f_counts, 0))
    known = audience >= 0
    reach_value = (
        settings.followers_factor * np.log1p(np.where(known, audience, 0).astype(np.float64))
        + settings.pagerank_weight * pct
    )
    return pa.table(
        {
            "person_id": pa.array(ids, pa.int64()),
            "pagerank": pa.array(pagerank, pa.float64()),
            "pagerank_pct": pa.array(pct, pa.float64()),
            "core": pa.array(core, pa.int32()),
            "followers": pa.array(audience, pa.int64(), mask=~known),
            "reach": pa.array(reach_value, pa.float64()),
        },
        schema=REACH_SCHEMA,
    )
