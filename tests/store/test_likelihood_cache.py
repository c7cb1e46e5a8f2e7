"""The likelihood caches beside the columnar copy: named by the scores' token and the issue,
read back as written, unreadable as missing, and a model saved for new scores prunes the
caches of older ones."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from karmabank.store.likelihood import (
    cache_chances,
    cache_features,
    cache_model,
    cached_chances,
    cached_features,
    cached_model,
)

CHANCE = pa.schema([("person_id", pa.int64()), ("likelihood", pa.float64())])


def test_caches_round_trip_per_token_and_issue(tmp_path: Path) -> None:
    chances = pa.table({"person_id": pa.array([1, 2], pa.int64()), "likelihood": [0.1, 0.2]})
    assert cached_model(tmp_path, "1-2", None) is None
    assert cached_chances(tmp_path, "1-2", None, CHANCE) is None
    cache_model(tmp_path, "1-2", None, '{"a": 1}')
    cache_model(tmp_path, "1-2", 7, '{"a": 7}')
    cache_chances(tmp_path, "1-2", 7, chances)
    assert cached_model(tmp_path, "1-2", None) == {"a": 1}
    assert cached_model(tmp_path, "1-2", 7) == {"a": 7}
    assert cached_chances(tmp_path, "1-2", None, CHANCE) is None  # not for this issue
    found = cached_chances(tmp_path, "1-2", 7, CHANCE)
    assert found is not None and found.equals(chances)
    assert not list(tmp_path.glob("*.tmp"))  # written to a temporary name, then renamed


def test_a_model_for_new_scores_prunes_the_older_caches(tmp_path: Path) -> None:
    chances = pa.table({"person_id": pa.array([1], pa.int64()), "likelihood": [0.5]})
    cache_model(tmp_path, "1-2", None, "{}")
    cache_chances(tmp_path, "1-2", None, chances)
    cache_model(tmp_path, "1-2", 3, "{}")
    (tmp_path / "scores-1-2.parquet").write_bytes(b"")  # not a likelihood cache: kept
    cache_model(tmp_path, "5-6", None, '{"b": 2}')
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "likelihood-5-6.json", "scores-1-2.parquet"
    ]  # fmt: skip


def test_an_unreadable_cache_reads_as_missing(tmp_path: Path) -> None:
    (tmp_path / "likelihood-1-2.json").write_text("{not json")
    (tmp_path / "likelihood-1-2.chance.parquet").write_text("not parquet")
    assert cached_model(tmp_path, "1-2", None) is None
    assert cached_chances(tmp_path, "1-2", None, CHANCE) is None
    (tmp_path / "likelihood-1-2.json").write_text("[1, 2]")  # JSON, but not a model's
    assert cached_model(tmp_path, "1-2", None) is None


def test_features_are_read_back_for_the_people_asked_only(tmp_path: Path) -> None:
    feats = pa.table({"person_id": pa.array([1, 2, 3], pa.int64()), "warmth": [0.5, 1.5, 2.5]})
    assert cached_features(tmp_path, "1-2", None, [2]) is None
    cache_features(tmp_path, "1-2", None, feats)
    found = cached_features(tmp_path, "1-2", None, [3, 1])
    assert found is not None and found.to_pydict() == {"person_id": [1, 3], "warmth": [0.5, 2.5]}
    assert cached_features(tmp_path, "1-2", 4, [1]) is None  # not for this issue
    cache_model(tmp_path, "7-8", None, "{}")  # new scores: the old features go
    assert cached_features(tmp_path, "1-2", None, [1]) is None
    (tmp_path / "likelihood-7-8.features.parquet").write_text("not parquet")
    assert cached_features(tmp_path, "7-8", None, [1]) is None
