"""The planner's communities cached beside the columnar copy, under a digest of the graph they
were detected on (`graph.communities.communities_key`: its edges, size, seed and iterations,
everything `detect_communities` depends on): `communities-<key>.npy`.

Leiden on higgs-twitter's plan graph costs 0.25-0.45 s of CPU in every fresh `karmabank
campaign plan` process when the diversity cap binds; a plan on the same graph reads 1 MB
instead. The key is the graph's content, not the scores': new scores (new data, a new `now`)
whose plan graph did not change (an inbound activity, a give, a new person out of the
candidates' reach) use the communities again, and a graph that changed has another key.
The `KEPT` files used last stay (a hit marks its file used); older ones are removed when one
is written. A file is written to a temporary name and renamed, so a reader never sees half of
one; one that cannot be read is a miss.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import numpy.typing as npt

from karmabank.store.cache_files import write_whole

PREFIX = "communities-"
KEPT = 4  # graphs whose communities stay cached (a campaign with an issue plans on another)


def _path(directory: Path, key: str) -> Path:
    return directory / f"{PREFIX}{key}.npy"


def cached_communities(directory: Path, key: str, n: int) -> npt.NDArray[np.int64] | None:
    """The communities kept for this graph (n nodes), if any and readable."""
    path = _path(directory, key)
    try:
        labels = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    if labels.shape != (n,) or labels.dtype != np.int64:
        return None
    try:
        os.utime(path)  # used: the last to be pruned
    except OSError:  # pruned meanwhile by another plan: the labels read are still right
        pass
    return np.asarray(labels, dtype=np.int64)


def cache_communities(directory: Path, key: str, labels: npt.NDArray[np.int64]) -> None:
    """Keep the communities for this graph; of the others, the `KEPT` - 1 used last stay."""
    def write(tmp: Path) -> None:
        with tmp.open("wb") as f:
            np.save(f, np.asarray(labels, dtype=np.int64), allow_pickle=False)

    write_whole(_path(directory, key), write)
    _prune(directory)


def _prune(directory: Path) -> None:
    def used(p: Path) -> float:
        try:
            return p.stat().st_mtime
        except OSError:  # removed meanwhile
            return 0.0

    for p in sorted(directory.glob(f"{PREFIX}*.npy"), key=used, reverse=True)[KEPT:]:
        p.unlink(missing_ok=True)
