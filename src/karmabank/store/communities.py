"""The planner's communities cached beside the columnar copy, under the scores' token (the last
rescore's: `LastRescore.token`) and a digest of the graph they were detected on
(`graph.communities.communities_key`): `communities-<token>-<key>.npy`.

Leiden on higgs-twitter's plan graph costs 0.25 s of CPU in every fresh `karmabank campaign
plan` process when the diversity cap binds; a second plan on the same scores reads 1 MB
instead. New scores (any change to the data, the flags or the settings) have a new token:
the files of other tokens are removed when one is written. A file is written to a temporary
name and renamed, so a reader never sees half of one; one that cannot be read is a miss.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import numpy as np
import numpy.typing as npt

PREFIX = "communities-"


def _path(directory: Path, token: str, key: str) -> Path:
    return directory / f"{PREFIX}{token}-{key}.npy"


def cached_communities(
    directory: Path, token: str, key: str, n: int
) -> npt.NDArray[np.int64] | None:
    """The communities kept for these scores and this graph (n nodes), if any and readable."""
    try:
        labels = np.load(_path(directory, token, key), allow_pickle=False)
    except (OSError, ValueError):
        return None
    if labels.shape != (n,) or labels.dtype != np.int64:
        return None
    return np.asarray(labels, dtype=np.int64)


def cache_communities(directory: Path, token: str, key: str, labels: npt.NDArray[np.int64]) -> None:
    """Keep the communities for these scores and this graph; those of other scores go."""
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f"communities.{uuid.uuid4().hex}.tmp"  # not a name the pruning takes
    with tmp.open("wb") as f:
        np.save(f, np.asarray(labels, dtype=np.int64), allow_pickle=False)
    os.replace(tmp, _path(directory, token, key))
    for p in directory.glob(f"{PREFIX}*.npy"):
        if not p.name.startswith(f"{PREFIX}{token}-"):
            p.unlink(missing_ok=True)
