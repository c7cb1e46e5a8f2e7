"""The planner's seed choice: communities are detected only when the cap would bind, and the
plan is then the capped one; a target reach keeps the first asks that meet it."""

from __future__ import annotations

import numpy as np

from karmabank.graph import detect_communities, maximize_influence
from karmabank.graph.diffusion import DiffusionGraph
from karmabank.measures.planning import Seeds, choose_seeds, to_target
from karmabank.measures.settings import PlannerSettings


def stars(sizes: list[int], joined: bool = True) -> DiffusionGraph:
    """Star hubs h_i (each a 4-clique with its first three leaves, so it has a 2-core) whose
    messages reach their leaves with probability 1; consecutive stars joined by one edge."""
    src, dst, start, hubs = [], [], 0, []
    for size in sizes:
        hub = start
        hubs.append(hub)
        for leaf in range(start + 1, start + 1 + size):
            src.append(hub)
            dst.append(leaf)
        for a in range(start, start + 4):
            for b in range(start + 1, start + 4):
                if a < b:
                    src.append(b)
                    dst.append(a)
        start += size + 1
    if joined:
        for a, b in zip(hubs, hubs[1:], strict=False):
            src.append(a + 1)
            dst.append(b + 1)
    people = np.arange(1, start + 1, dtype=np.int64)
    n = np.asarray(src, np.int64), np.asarray(dst, np.int64)
    return DiffusionGraph(people, n[0], n[1], np.ones(len(src)))


def test_the_cap_binds_only_when_the_free_plan_breaks_it() -> None:
    graph = stars([30, 25, 20, 15])
    hubs = np.asarray([0, 31, 57, 78], np.int64)
    weights = np.ones(graph.n)
    p = PlannerSettings(community_share=0.5)
    chosen = choose_seeds(graph, hubs, weights, 4, p)
    free = maximize_influence(graph.src, graph.dst, graph.prob, graph.n, 4, candidates=hubs,
                              weights=weights, seed=p.seed)  # fmt: skip
    communities = detect_communities(graph.src, graph.dst, graph.n, seed=p.seed)
    assert len(set(communities[hubs].tolist())) == 4  # four stars, four communities
    assert chosen.seeds.tolist() == free.seeds.tolist()  # within the cap: the free plan


def test_a_binding_cap_takes_the_next_community() -> None:
    # community A: hubs 0 (20 leaves) and 1 (15 leaves), their leaves densely linked by edges
    # no message crosses (probability 0); community B: hub 40 with 10 leaves
    src = [0] * 20 + [1] * 15 + [40] * 10
    dst = list(range(2, 22)) + list(range(22, 37)) + list(range(41, 51))
    prob = [1.0] * len(src)
    for a in range(2, 22):
        for b in range(22, 37):
            src.append(a)
            dst.append(b)
            prob.append(0.0)
    for a in range(41, 51):  # B's leaves in a ring: B has a 2-core too
        src.append(a)
        dst.append(41 + (a - 40) % 10)
        prob.append(0.0)
    graph = DiffusionGraph(np.arange(1, 52, dtype=np.int64), np.asarray(src, np.int64),
                           np.asarray(dst, np.int64), np.asarray(prob))  # fmt: skip
    hubs = np.asarray([0, 1, 40], np.int64)
    p = PlannerSettings(community_share=0.5)
    communities = detect_communities(graph.src, graph.dst, graph.n, seed=p.seed)
    assert communities[0] == communities[1] != communities[40]
    free = maximize_influence(graph.src, graph.dst, graph.prob, graph.n, 2, candidates=hubs,
                              seed=p.seed)  # fmt: skip
    assert free.seeds.tolist() == [0, 1]  # 21 and 16 reached, both in A
    capped = choose_seeds(graph, hubs, np.ones(graph.n), 2, p)  # at most 1 of 2 from one
    assert capped.seeds.tolist() == [0, 40]


def test_a_target_reach_keeps_the_first_asks_that_meet_it() -> None:
    seeds = Seeds([(7, 5.0, 0.9), (3, 3.0, 0.8), (9, 1.0, 0.5)], 9.0, 100, False)
    assert to_target(seeds, None) is seeds  # no target: the whole budget
    assert to_target(seeds, 20.0) is seeds  # not met: the whole budget still
    assert to_target(seeds, 9.0) is seeds  # met with the last ask: all of them
    two = to_target(seeds, 7.5)
    assert two.chosen == seeds.chosen[:2] and two.expected == 8.0
    assert (two.rr_sets, two.capped) == (100, False)
    assert to_target(seeds, 5.0).people == [7]  # met exactly by the first
    assert to_target(seeds, 7.5, already=4.0).people == [7]  # the sent asks count
    assert to_target(seeds, 7.5, already=8.0).chosen == []  # met by them alone
