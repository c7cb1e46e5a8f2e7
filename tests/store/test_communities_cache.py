"""The planner's communities cache: kept per scores' token and graph, pruned with old
scores, a miss when unreadable."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from karmabank.graph.communities import communities_key
from karmabank.store.communities import cache_communities, cached_communities


def test_kept_per_token_and_graph_and_pruned_with_old_scores(tmp_path: Path) -> None:
    labels = np.array([0, 0, 1, 2], dtype=np.int64)
    key = communities_key([0, 1, 2], [1, 2, 3], 4, seed=0)
    assert cached_communities(tmp_path, "t1", key, 4) is None
    cache_communities(tmp_path, "t1", key, labels)
    got = cached_communities(tmp_path, "t1", key, 4)
    assert got is not None and got.tolist() == [0, 0, 1, 2]
    assert cached_communities(tmp_path, "t2", key, 4) is None  # new scores: not theirs
    assert cached_communities(tmp_path, "t1", key, 5) is None  # another graph's size
    other = communities_key([0, 1, 2], [1, 2, 0], 4, seed=0)
    assert other != key and cached_communities(tmp_path, "t1", other, 4) is None
    cache_communities(tmp_path, "t1", other, labels)
    assert len(list(tmp_path.glob("communities-*"))) == 2  # same scores: both kept
    cache_communities(tmp_path, "t2", key, labels)
    assert [p.name for p in tmp_path.glob("communities-*")] == [f"communities-t2-{key}.npy"]
    assert list(tmp_path.glob("*.tmp")) == []


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
    cache_communities(tmp_path, "t", key, np.array([0, 0], dtype=np.int64))
    (tmp_path / f"communities-t-{key}.npy").write_bytes(b"not an array")
    assert cached_communities(tmp_path, "t", key, 2) is None
