"""What the importer benchmarks share: the least CPU time of several runs."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from pathlib import Path


def best(
    fn: Callable[[Path], int], path: Path, repeat: int, before: Callable[[], None] | None = None
) -> tuple[float, int]:
    """The least CPU time of `repeat` runs of `fn(path)` and its result (CPU seconds, not wall:
    a loaded machine's waits are not counted); `before` runs, untimed, before each, and so
    does a full garbage collection (a run does not pay for the garbage of the one before)."""
    times, result = [], 0
    for _ in range(repeat):
        if before is not None:
            before()
        gc.collect()
        t = time.process_time()
        result = fn(path)
        times.append(time.process_time() - t)
    return min(times), result


def best_of_each(
    fns: dict[str, Callable[[Path], int]], path: Path, repeat: int
) -> dict[str, tuple[float, int]]:
    """`best` of each function, their runs taken in turn (a, b, c, a, b, c, ...) so that a
    machine whose speed drifts during the benchmark slows each of them alike."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    results: dict[str, int] = {}
    for _ in range(repeat):
        for name, fn in fns.items():
            gc.collect()
            t = time.process_time()
            results[name] = fn(path)
            times[name].append(time.process_time() - t)
    return {name: (min(times[name]), results[name]) for name in fns}
