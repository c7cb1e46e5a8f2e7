"""The diffusion graph: a reply/share/mention by v of u is the edge u -> v, weighted cascade."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from karmabank.graph.diffusion import diffusion_graph


def peer(rows: list[tuple[int, int, float]]) -> pa.Table:
    src, dst, w = zip(*rows, strict=True) if rows else ((), (), ())
    return pa.table({"src": pa.array(src, pa.int64()), "dst": pa.array(dst, pa.int64()),
                     "weight": pa.array(w, pa.float64())})  # fmt: skip


def edges(g: object) -> dict[tuple[int, int], float]:
    people = g.people  # type: ignore[attr-defined]
    return {
        (int(people[s]), int(people[d])): round(float(p), 6)
        for s, d, p in zip(g.src, g.dst, g.prob, strict=True)  # type: ignore[attr-defined]
    }


def test_an_answer_carries_the_message_from_the_answered_to_who_answered() -> None:
    # 20 replied to 10 twice and to 30 once; 40 shared 10; 50 replied to itself (dropped)
    g = diffusion_graph(peer([(20, 10, 1), (20, 10, 1), (20, 30, 1), (40, 10, 1), (50, 50, 1)]))
    assert edges(g) == {(10, 20): round(2 / 3, 6), (30, 20): round(1 / 3, 6), (10, 40): 1.0}
    assert list(g.people) == [10, 20, 30, 40]  # the self-loop's person is not in the graph


def test_probabilities_into_each_person_add_up_to_one() -> None:
    rng = np.random.default_rng(3)
    rows = [(int(a), int(b), float(w)) for a, b, w in
            zip(rng.integers(0, 50, 400), rng.integers(0, 50, 400), rng.random(400) + 0.1,
                strict=True)]  # fmt: skip
    g = diffusion_graph(peer(rows))
    into = np.bincount(g.dst, weights=g.prob, minlength=g.n)
    has_in = np.bincount(g.dst, minlength=g.n) > 0
    assert np.allclose(into[has_in], 1.0)


def test_people_without_peer_activity_are_nodes_too() -> None:
    g = diffusion_graph(peer([(2, 1, 1)]), also=[7, 1])
    assert list(g.people) == [1, 2, 7]
    assert list(g.nodes_of([7, 1])) == [2, 0]
    with pytest.raises(ValueError):
        g.nodes_of([99])


def test_within_reach_keeps_only_what_the_sources_can_touch() -> None:
    # 1 -> 2 -> 3 (2 answered 1, 3 answered 2); 4 -> 5 apart; 6 alone
    g = diffusion_graph(peer([(2, 1, 1), (3, 2, 1), (5, 4, 1)]), also=[6])
    part = g.within_reach(g.nodes_of([2, 6]))
    assert list(part.people) == [2, 3, 6]
    assert edges(part) == {(2, 3): 1.0}
