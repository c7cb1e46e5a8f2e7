"""Files the store keeps beside the columnar copy (communities, likelihood models, plans'
chosen asks), each written whole: to a hidden temporary name in the same directory, then
renamed over the final one, so a reader sees the old file or the new one, never half of one,
and no cache's pruning (a glob on its own prefix) takes another writer's temporary file."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path


def write_whole(path: Path, write: Callable[[Path], object]) -> None:
    """`write(tmp)` a temporary file, then rename it to `path` (its directory made first);
    the temporary file is removed if writing fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
