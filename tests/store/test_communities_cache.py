"""The planner's communities cache: kept per graph (its content, whatever the scores), the
few used last kept, a miss when unreadable."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from karmabank.graph.communities import communities_key
from karmabank.store.communities import KEPT, cache_communities, cached_communities


def test_kept_per_graph_whatever_the_scores(tmp_path: Path) -> None:
    labels = np.array([0, 0, 1, 2], dtype=np.int64)
    key = communities_key([0, 1, 2], [1, 2, 3], 4, seed=0)
    assert cached_communities(tmp_path, key, 4) is None
    cache_communities(tmp_path, key, labels)
    got = cached_communities(tmp_path, key, 4)
    assert got is not None and got.tolist() == [0, 0, 1, 2]
    assert cached_communities(tmp_path, key, 5) is None  # another graph's size
    other = communities_key([0, 1, 2], [1, 2, 0], 4, seed=0)
    assert other != key and cached_communities(tmp_path, other, 4) is None
    cache_communities(tmp_path, other, labels)
    assert len(list(tmp_path.glob("communities-*"))) == 2  # both kept
    assert list(tmp_path.glob("*.tmp")) == []


def test_the_graphs_used_last_stay(tmp_path: Path) -> None:
    keys = [communities_key([0], [i + 1], i + 2) for i in range(KEPT + 2)]
    for age, key in enumerate(keys):
        cache_communities(tmp_path, key, np.zeros(age + 2, dtype=np.int64))
        path = tmp_path / f"communities-{key}.npy"
        os.utime(path, (1_000_000 + age, 1_000_000 + age))  # written in this order
    oldest = len(keys) - KEPT  # of those left: written first, of n = oldest + 2
    assert cached_communities(tmp_path, keys[oldest], oldest + 2) is not None  # used now
    cache_communities(tmp_path, communities_key([0], [9], 10), np.zeros(10, dtype=np.int64))
    left = {p.name for p in tmp_path.glob("communities-*.npy")}
    assert len(left) == KEPT
    assert f"communities-{keys[oldest]}.npy" in left  # used just now: kept
    assert f"communities-{keys[oldest + 1]}.npy" not in left  # used longest ago: gone


def test_the_key_changes_with_everything_the_communities_depend_on() -> None:
    base = communities_key([0, 1], [1, 2], 3, seed=0, iterations=2)
    assert communities_key([0, 1], [1, 2], 3, seed=0, iterations=2) == base
    assert communities_key([0, 1], [1, 2], 4, seed=0, iterations=2) != base
    assert communities_key([0, 1], [1, 2], 3, seed=1, iterations=2) != base
    assert communities_key([0, 1], [1, 2], 3, seed=0, iterations=3) != base
    assert communities_key([0, 2], [1, 2], 3, seed=0, iterations=2) != base
    assert communities_key([0, 1, 2], [1, 2], 3, seed=0, iterations=2) != base  # where src ends


def test_an_unreadable_file_is_a_miss(tmp_path: Path) -> None:
    key = communities_key([0], [1], 2)
    cache_communities(tmp_path, key, np.array([0, 0], dtype=np.int64))
    (tmp_path / f"communities-{key}.npy").write_bytes(b"not an array")
    assert cached_communities(tmp_path, key, 2) is None
