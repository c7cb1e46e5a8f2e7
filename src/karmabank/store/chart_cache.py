"""The charts' numbers and drawings cached beside the columnar copy, under the scores' token (the
last rescore's: `LastRescore.token`): `charts-<token>-<name>.json` and `.svg`; the nurture
queue's choice too (`actions/nurture_cache.py`: `queue_<digest>.json`, one kept).

The charts answer for the scores' time and are made from the rescore's snapshot and the copy it
saw, so while the token holds they cannot change: the home page reads a few kilobytes instead
of scanning the activities and starting Vega (~0.1–0.5 s a drawing, seconds for the first of a
process). New scores have a new token: the files of other tokens are removed when one is
written. A file is written to a temporary name and renamed, so a reader never sees half of one;
one that cannot be read is a miss.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path
from typing import Any

PREFIX = "charts-"
_NAME = re.compile(r"[a-z0-9_.]+")  # chart names and person ids: nothing a path could misread


def _path(directory: Path, token: str, name: str, suffix: str) -> Path:
    if not _NAME.fullmatch(name):
        raise ValueError(f"not a chart cache name: {name!r}")
    return directory / f"{PREFIX}{token}-{name}{suffix}"


def cached_text(directory: Path, token: str, name: str, suffix: str) -> str | None:
    """What was kept for these scores under `name` (`suffix` ".json" or ".svg"), if readable."""
    try:
        return _path(directory, token, name, suffix).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def cached_json(directory: Path, token: str, name: str) -> dict[str, Any] | None:
    text = cached_text(directory, token, name, ".json")
    try:
        found = json.loads(text) if text is not None else None
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def keep_text(
    directory: Path, token: str, name: str, suffix: str, text: str, *, replaces: str = ""
) -> None:
    """Keep `text` for these scores under `name`; the files of other scores go, and with
    `replaces` (a name's start), this token's other files whose name starts with it."""
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f"charts.{uuid.uuid4().hex}.tmp"  # not a name the pruning takes
    tmp.write_text(text, encoding="utf-8")
    kept = _path(directory, token, name, suffix)
    os.replace(tmp, kept)
    mine = f"{PREFIX}{token}-"
    for p in directory.glob(f"{PREFIX}*"):
        if not p.name.startswith(mine) or (
            replaces and p.name.startswith(mine + replaces) and p != kept
        ):
            p.unlink(missing_ok=True)


def keep_json(
    directory: Path, token: str, name: str, value: dict[str, Any], *, replaces: str = ""
) -> None:
    keep_text(directory, token, name, ".json", json.dumps(value), replaces=replaces)


def drop_all(directory: Path) -> int:
    """Remove every cached chart, whatever its token (after an erasure: a drawing made before it
    may show the erased person); how many files went."""
    gone = 0
    for p in directory.glob(f"{PREFIX}*") if directory.is_dir() else ():
        p.unlink(missing_ok=True)
        gone += 1
    return gone
