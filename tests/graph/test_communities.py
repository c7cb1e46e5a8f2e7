"""Communities, the NumPy searches they stand on, and igraph's process-global generator."""

from __future__ import annotations

import random
from typing import Any

import igraph as ig
import numpy as np
import pytest

from karmabank.graph.communities import detect_communities, seeded_igraph, simple_graph
from karmabank.graph.search import csr, reached, spread_labels, symmetric_csr, two_core


def _random_edges(n: int, m: int, seed: int) -> tuple[np.ndarray[Any, Any], ...]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, n, m), rng.integers(0, n, m)


def _igraph_draws() -> list[int]:
    """What igraph's generator gives next, as the edges of a small random graph."""
    return [v for e in ig.Graph.Erdos_Renyi(n=30, p=0.3).get_edgelist() for v in e]


def test_reached_is_what_a_plain_search_reaches() -> None:
    for seed in range(20):
        src, dst = _random_edges(60, 70, seed)
        indptr, indices = csr(src, dst, 60)
        sources = np.array([seed % 60, (7 * seed) % 60])
        want = set(sources.tolist())
        stack = list(want)
        while stack:
            u = stack.pop()
            for v in dst[src == u].tolist():
                if v not in want:
                    want.add(v)
                    stack.append(v)
        assert set(np.flatnonzero(reached(indptr, indices, sources)).tolist()) == want


def test_two_core_is_igraphs() -> None:
    for seed in range(20):
        src, dst = _random_edges(200, 230, seed)
        a, b = simple_graph(src, dst, 200)
        graph = ig.Graph(n=200, edges=list(zip(a.tolist(), b.tolist(), strict=True)))
        want = np.asarray(graph.coreness()) >= 2
        assert np.array_equal(two_core(*symmetric_csr(a, b, 200)), want)


def test_labels_spread_to_the_nearest_labelled_node() -> None:
    # a path 0 - 1 - 2 - 3 - 4 with 0 labelled 7 and 4 labelled 9; 5 is alone
    a, b = np.array([0, 1, 2, 3]), np.array([1, 2, 3, 4])
    labels = np.array([7, -1, -1, -1, 9, -1])
    out = spread_labels(*symmetric_csr(a, b, 6), labels)
    assert out.tolist() == [7, 7, 7, 9, 9, -1]  # 2 is as near to both: the lower id's, 1's


def test_communities_leave_igraphs_generator_and_randoms_stream_as_they_were() -> None:
    src, dst = _random_edges(300, 900, 1)
    random.seed(42)
    _igraph_draws()
    expected = _igraph_draws()  # igraph's default generator: the random module
    random.seed(42)
    _igraph_draws()
    first = detect_communities(src, dst, 300, seed=3)
    assert _igraph_draws() == expected  # random's stream did not move, igraph still uses it
    assert detect_communities(src, dst, 300, seed=3).tolist() == first.tolist()


def test_a_generator_of_the_programs_own_stays_in_place() -> None:
    src, dst = _random_edges(300, 900, 2)
    own = random.Random(5)
    ig.set_random_number_generator(own)
    try:
        before = own.getstate()
        detect_communities(src, dst, 300, seed=3)
        assert own.getstate() != before  # Leiden drew from it: it was not swapped out
        state, module_state = own.getstate(), random.getstate()
        _igraph_draws()
        assert own.getstate() != state  # and igraph still draws from it afterwards
        assert random.getstate() == module_state
    finally:
        ig.set_random_number_generator(random)


def test_seeded_igraph_hands_the_generator_back_after_an_error() -> None:
    random.seed(1)
    expected = _igraph_draws()
    random.seed(1)
    with pytest.raises(RuntimeError), seeded_igraph(0):
        raise RuntimeError("inside")
    assert _igraph_draws() == expected
