"""Node numbers: checking ids given to the graph code, and numbering person ids densely."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def node_ids(name: str, values: npt.ArrayLike, n: int) -> npt.NDArray[np.int64]:
    """`values` as int64 node ids in [0, n) (ValueError naming `name` otherwise)."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a one-dimensional array, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not np.issubdtype(arr.dtype, np.floating) or not np.all(arr == np.round(arr)):
            raise ValueError(f"{name} must hold integer node ids, got dtype {arr.dtype}")
    out = arr.astype(np.int64)
    if out.size and (out.min() < 0 or out.max() >= n):
        bad = out[(out < 0) | (out >= n)][0]
        raise ValueError(f"{name} holds node id {bad}, outside [0, {n}) for n = {n}")
    return out


def dense_ids(
    values: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(sorted distinct ids, each value's index among them), like `np.unique(...,
    return_inverse=True)`; in linear time through a presence table when ids are compact
    (person ids are: 1..N), which saves the sort of millions of ids."""
    if values.size == 0 or values.min() < 0 or values.max() > 64 * values.size + 1024:
        ids, inverse = np.unique(values, return_inverse=True)
        return ids, inverse.astype(np.int64, copy=False)
    present = np.zeros(int(values.max()) + 1, dtype=bool)
    present[values] = True
    ids = np.flatnonzero(present).astype(np.int64)
    index = np.cumsum(present, dtype=np.int64) - 1
    return ids, index[values]
