"""What the importer benchmarks share: the least CPU time of several runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path


def best(
    fn: Callable[[Path], int], path: Path, repeat: int, before: Callable[[], None] | None = None
) -> tuple[float, int]:
    """The least CPU time of `repeat` runs of `fn(path)` and its result (CPU seconds, not wall:
    a loaded machine's waits are not counted); `before` runs, untimed, before each."""
    times, result = [], 0
    for _ in range(repeat):
        if before is not None:
            before()
        t = time.process_time()
        result = fn(path)
        times.append(time.process_time() - t)
    return min(times), result
