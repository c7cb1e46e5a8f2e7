"""Reach: weighted directed PageRank, k-core and followers, on graphs small enough to work by hand."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pytest

from karmabank.errors import ConfigError
from karmabank.graph.reach import REACH_SCHEMA, ReachSettings, percentile_rank, reach

D = 0.85  # the default damping


def edges(*rows: tuple[int, int] | tuple[int, int, float | None]) -> pa.Table:
    """An edge table from (src, dst) or (src, dst, weight) tuples."""
    return pa.table(
        {
            "src": pa.array([r[0] for r in rows], pa.int64()),
            "dst": pa.array([r[1] for r in rows], pa.int64()),
            "weight": pa.array([r[2] if len(r) == 3 else None for r in rows], pa.float64()),
        }
    )


def followers(**by_person: int | None) -> pa.Table:
    """A followers table from p<id>=count keywords."""
    return pa.table(
        {
            "person_id": pa.array([int(k[1:]) for k in by_person], pa.int64()),
            "followers": pa.array(list(by_person.values()), pa.int64()),
        }
    )


def rows(table: pa.Table) -> dict[int, dict[str, Any]]:
    """person_id -> that person's row."""
    return {r["person_id"]: r for r in table.to_pylist()}


def power_iteration(
    n: int, links: list[tuple[int, int, float]], damping: float
) -> npt.NDArray[np.float64]:
    """The test's own PageRank: r = (1 − d)/n + d × (r P + dangling rank spread evenly), where
    P is the row-normalised weight matrix; iterated until the change is below 1e-15."""
    w = np.zeros((n, n))
    for s, t, x in links:
        w[s, t] += x
    out = w.sum(axis=1)
    p = np.divide(w, out[:, None], out=np.zeros_like(w), where=out[:, None] > 0)
    dangling = out == 0
    r = np.full(n, 1 / n)
    for _ in range(10_000):
        nxt = (1 - damping) / n + damping * (r @ p + r[dangling].sum() / n)
        if np.abs(nxt - r).max() < 1e-15:
            return np.asarray(nxt, dtype=np.float64)
        r = nxt
    raise AssertionError("power iteration did not converge")


def test_star_hub_has_the_top_pagerank_and_leaves_tie() -> None:
    # everyone replies to the hub 1; the hub replies to no one (dangling: spreads evenly)
    result = rows(reach(edges((2, 1), (3, 1), (4, 1), (5, 1))))
    # hub + 4 leaf = 1 and leaf = (1 − d)/5 + d × hub/5  =>  hub = (1 − 4(1 − d)/5) / (1 + 4d/5)
    hub = (1 - 4 * (1 - D) / 5) / (1 + 4 * D / 5)  # = 0.88 / 1.68
    leaf = (1 - D) / 5 + D * hub / 5
    assert result[1]["pagerank"] == pytest.approx(hub, abs=1e-12)
    assert hub == pytest.approx(0.5238095238095238)
    for p in (2, 3, 4, 5):
        assert result[p]["pagerank"] == pytest.approx(leaf, abs=1e-12)
        assert result[p]["pagerank_pct"] == 0.0  # the four leaves tie at the bottom
        assert result[p]["core"] == 1
    assert result[1]["pagerank_pct"] == 1.0
    assert result[1]["core"] == 1


def test_three_cycle_is_one_third_each() -> None:
    result = reach(edges((1, 2), (2, 3), (3, 1)))
    assert result.column("pagerank").to_pylist() == pytest.approx([1 / 3] * 3, abs=1e-12)
    # all tie: nobody is strictly above anyone
    assert result.column("pagerank_pct").to_pylist() == [0.0, 0.0, 0.0]
    assert result.column("core").to_pylist() == [2, 2, 2]


def test_pagerank_matches_a_power_iteration_to_1e_9() -> None:
    # people 10..60 as vertices 0..5; weighted, with a dangling node (60) and a reciprocal pair
    links = [
        (0, 1, 1.0), (0, 2, 3.0), (1, 2, 2.0), (2, 0, 1.0), (2, 3, 0.5),
        (3, 4, 4.0), (4, 3, 1.0), (4, 5, 2.0), (1, 5, 1.0), (3, 0, 2.5),
    ]  # fmt: skip
    table = edges(*[((s + 1) * 10, (t + 1) * 10, w) for s, t, w in links])
    for damping in (0.85, 0.5):
        result = reach(table, settings=ReachSettings(damping=damping))
        expected = power_iteration(6, links, damping)
        assert result.column("person_id").to_pylist() == [10, 20, 30, 40, 50, 60]
        got = np.array(result.column("pagerank").to_pylist())
        assert np.abs(got - expected).max() < 1e-9
        assert got.sum() == pytest.approx(1.0, abs=1e-12)


def test_a_larger_random_graph_matches_the_power_iteration() -> None:
    # 300 nodes: PRPACK iterates here rather than solving exactly
    rng = np.random.default_rng(42)
    src, dst = rng.integers(0, 300, 1500), rng.integers(0, 300, 1500)
    w = rng.uniform(0.5, 5.0, 1500)
    keep = src != dst
    links = list(zip(src[keep].tolist(), dst[keep].tolist(), w[keep].tolist(), strict=True))
    result = reach(edges(*links))
    ids = result.column("person_id").to_pylist()
    expected = power_iteration(300, links, D)
    assert ids == sorted(set(src[keep].tolist()) | set(dst[keep].tolist()))
    assert np.abs(np.array(result.column("pagerank").to_pylist()) - expected[ids]).max() < 1e-9


def test_k_core_of_a_triangle_with_a_pendant() -> None:
    # triangle 1-2-3 (directions mixed, one reciprocal pair), pendant 4 hanging on 3
    result = reach(edges((1, 2), (2, 1), (2, 3), (1, 3), (4, 3)))
    assert result.column("core").to_pylist() == [2, 2, 2, 1]


def test_k_core_of_a_4_clique_is_3() -> None:
    result = reach(edges((1, 2), (1, 3), (1, 4), (2, 3), (4, 2), (3, 4), (3, 4), (4, 3)))
    assert result.column("core").to_pylist() == [3, 3, 3, 3]
    assert result.schema.field("core").type == pa.int32()


def test_k_core_of_two_triangles_joined_by_a_path() -> None:
    # triangles 1-2-3 and 5-6-7 joined by the path 3-4-5: every degree is at least 2 (4 has
    # exactly 2) and the graph has no 3-core, so everyone is core 2
    result = rows(reach(edges((1, 2), (2, 3), (3, 1), (3, 4), (4, 5), (5, 6), (6, 7), (7, 5))))
    assert {p: r["core"] for p, r in result.items()} == {p: 2 for p in range(1, 8)}
    # a pendant path is peeled away: 8 hangs on 7 and 9 on 8
    result = rows(
        reach(edges((1, 2), (2, 3), (3, 1), (3, 4), (4, 5), (5, 6), (6, 7), (7, 5), (7, 8), (8, 9)))
    )
    assert (result[8]["core"], result[9]["core"], result[7]["core"]) == (1, 1, 2)


def test_multi_edges_sum_their_weights_and_self_loops_are_ignored() -> None:
    split = reach(edges((1, 2, 1.0), (1, 2, 2.0), (1, 3, 3.0), (2, 3), (3, 1, None)))
    whole = reach(edges((1, 2, 3.0), (1, 3, 3.0), (2, 3, 1.0), (3, 1, 1.0)))
    looped = reach(edges((1, 2, 3.0), (1, 3, 3.0), (2, 3, 1.0), (3, 1, 1.0), (1, 1, 50.0)))
    assert split.equals(whole)
    assert looped.equals(whole)
    # and the weights matter: 1 sends as much to 2 as to 3, 2 sends everything to 3
    pr = whole.column("pagerank").to_pylist()
    assert pr[2] > pr[1]


def test_null_weight_is_one() -> None:
    assert reach(edges((1, 2, None), (2, 1, None), (2, 3, None))).equals(
        reach(edges((1, 2, 1.0), (2, 1, 1.0), (2, 3, 1.0)))
    )


def test_edges_of_weight_zero_or_less_link_nobody_but_keep_their_people() -> None:
    result = rows(reach(edges((1, 2), (2, 1), (3, 1, 0.0), (4, 4))))
    assert set(result) == {1, 2, 3, 4}
    assert (result[3]["core"], result[4]["core"]) == (0, 0)
    assert result[3]["pagerank"] == result[4]["pagerank"]


def test_followers_combine_as_log1p_plus_ten_times_the_percentile() -> None:
    table = reach(edges((2, 1), (3, 1)), followers=followers(p1=99, p2=0, p9=1000))
    result = rows(table)
    assert set(result) == {1, 2, 3, 9}  # 9 has an audience but no peer edge
    assert result[1]["reach"] == pytest.approx(math.log1p(99) + 10 * 1.0)
    assert result[2]["reach"] == 0.0  # no followers, at the bottom with 3 and 9
    assert result[9]["reach"] == pytest.approx(math.log1p(1000))
    assert result[3]["followers"] is None and result[3]["reach"] == 0.0
    assert [result[p]["followers"] for p in (1, 2, 9)] == [99, 0, 1000]
    assert table.schema == REACH_SCHEMA


def test_followers_settings_scale_the_two_parts() -> None:
    settings = ReachSettings(followers_factor=2.0, pagerank_weight=0.5)
    result = rows(reach(edges((2, 1)), followers=followers(p1=9), settings=settings))
    assert result[1]["reach"] == pytest.approx(2 * math.log1p(9) + 0.5 * 1.0)


def test_the_largest_reported_audience_counts_and_negative_is_zero() -> None:
    audience = pa.table(
        {
            "person_id": pa.array([1, 1, 2, 3], pa.int64()),
            "followers": pa.array([10, 40, -5, None], pa.int64()),
        }
    )
    result = rows(reach(edges((1, 2)), followers=audience))
    assert (result[1]["followers"], result[2]["followers"]) == (40, 0)
    assert result[2]["reach"] == 10 * 1.0  # 2 is the top of the graph; -5 followers count as 0
    assert 3 not in result  # a null count tells nothing


def test_people_adds_isolated_people() -> None:
    table = reach(edges((1, 2), (2, 3), (3, 1)), people=pa.array([3, 7], pa.int64()))
    result = rows(table)
    # 7 is dangling: iso = (1 − d)/4 + d × iso/4  =>  iso = 0.0375 / 0.7875 = 1/21
    assert result[7]["pagerank"] == pytest.approx(1 / 21, abs=1e-12)
    for p in (1, 2, 3):
        assert result[p]["pagerank"] == pytest.approx(20 / 63, abs=1e-12)
        assert result[p]["pagerank_pct"] == pytest.approx(1 / 3)
    assert (result[7]["core"], result[7]["pagerank_pct"], result[7]["reach"]) == (0, 0.0, 0.0)
    assert table.column("person_id").to_pylist() == [1, 2, 3, 7]


def test_people_alone_is_a_graph_of_isolated_people() -> None:
    result = reach(edges(), people=pa.array([5, None, 2], pa.int64()))
    assert result.column("person_id").to_pylist() == [2, 5]
    assert result.column("pagerank").to_pylist() == pytest.approx([0.5, 0.5])
    assert result.column("core").to_pylist() == [0, 0]


def test_no_one_gives_an_empty_table() -> None:
    assert reach(edges()).equals(REACH_SCHEMA.empty_table())


def test_one_person_is_at_the_top() -> None:
    result = reach(edges(), people=pa.array([4], pa.int64())).to_pylist()
    assert result == [
        {"person_id": 4, "pagerank": 1.0, "pagerank_pct": 1.0, "core": 0, "followers": None,
         "reach": 10.0}
    ]  # fmt: skip


def test_sparse_large_ids_map_to_dense_vertices() -> None:
    big = 10**15
    result = reach(edges((big, 3), (3, -big)))
    assert result.column("person_id").to_pylist() == [-big, 3, big]
    assert result.column("pagerank_pct").to_pylist() == [1.0, 0.5, 0.0]


def test_bad_damping_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="damping"):
        reach(edges((1, 2)), settings=ReachSettings(damping=1.5))


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([3.0, 1.0, 2.0, 2.0], [1.0, 0.0, 1 / 3, 1 / 3]),
        ([5.0, 5.0, 1.0], [0.5, 0.5, 0.0]),
        ([2.0, 2.0], [0.0, 0.0]),
        ([7.0], [1.0]),
        ([], []),
        ([0.1 + 0.2, 0.3, 0.0], [0.5, 0.5, 0.0]),  # equal but for floating noise
    ],
)
def test_percentile_rank(values: list[float], expected: list[float]) -> None:
    assert percentile_rank(values).tolist() == pytest.approx(expected)


def test_percentile_rank_refuses_nan() -> None:
    with pytest.raises(ValueError, match="NaN"):
        percentile_rank([1.0, float("nan")])


@pytest.mark.parametrize(
    "values",
    [[5, 3, 5, 9, 3], [0, 1, 2], [7], [10**12, 3, 10**12], [4, 2, 2, 10_000]],
)
def test_dense_ids_match_numpy_unique(values: list[int]) -> None:
    from karmabank.graph.ids import dense_ids

    array = np.asarray(values, dtype=np.int64)
    ids, inverse = dense_ids(array)
    want_ids, want_inverse = np.unique(array, return_inverse=True)
    assert ids.tolist() == want_ids.tolist() and inverse.tolist() == want_inverse.tolist()
