"""The nurture queue's choice kept for a minute, beside the snapshot it came from.

Choosing the day's few among every item the rules find reads the window's activities and the
rescore's pool (at 1M people, 150,000 candidates: 0.3 s of DuckDB); the home page shows the
queue on every visit. What the choice depends on is small to read: the scores' token and the
data they were computed over, the settings, the limit, the database rows the rules read besides
the snapshot (flags and opt-outs, asks acted on, promotions, items handled, the issues) and
`now`. So the chosen rows are kept (`store.chart_cache`, `queue_<digest>.json`, the previous
one replaced) under a digest of all of them, and answer again for a `now` up to
`MAX_AGE_US` after the one they were chosen at: within that minute, only the window's edges
move (an activity turning exactly 7 days old, a snooze ending), as they would between two
clicks. Anything else that changes a read changes the digest: the choice is made again. The
drafts, names and per-channel consents are rendered per call from the kept rows, so they are
always current.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from karmabank.actions.scores import DataVersion, LastRescore, settings_digest
from karmabank.measures.settings import MeasureSettings
from karmabank.store import chart_cache
from karmabank.store.open import Store

MAX_AGE_US = 60_000_000  # a minute
NAME = "queue_"


@dataclass(frozen=True)
class QueueKey:
    """What names one choice: `digest` (everything it read) and the minute of `now` it starts."""

    digest: str
    at: int  # µs: the `now` it is for

    @property
    def name(self) -> str:
        return f"{NAME}{self.digest}"


def queue_key(
    *, last: LastRescore, data: DataVersion, settings: MeasureSettings, limit: int, at: int,
    tables: dict[str, pa.Table], issues: list[dict[str, Any]],
) -> QueueKey:  # fmt: skip
    """The key of a choice at `at` (µs) over these reads (`tables`: the rows the rules read
    from the database; `issues`: each issue's id, name, keywords and description)."""
    h = hashlib.sha256()
    head = {"token": last.token, "data": [data.revision, data.activity_max_id],
            "settings": settings_digest(settings), "limit": limit, "issues": issues,
            "minute": at // MAX_AGE_US}  # fmt: skip
    h.update(json.dumps(head, sort_keys=True, default=str).encode())
    for name in sorted(tables):
        h.update(name.encode())
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, tables[name].schema) as writer:
            writer.write_table(tables[name])
        h.update(sink.getvalue())
    return QueueKey(h.hexdigest()[:32], at)


def cached_choice(store: Store, last: LastRescore, key: QueueKey) -> list[dict[str, Any]] | None:
    """The rows chosen under `key`, if kept and chosen no later than its `now` and less than
    a minute before it."""
    found = chart_cache.cached_json(store.columns_dir, last.token, key.name)
    if found is None or not isinstance(found.get("at"), int):
        return None
    if not found["at"] <= key.at < found["at"] + MAX_AGE_US:
        return None
    rows = found.get("chosen")
    return rows if isinstance(rows, list) else None


def keep_choice(
    store: Store, last: LastRescore, key: QueueKey, chosen: list[dict[str, Any]]
) -> None:
    """Keep the rows chosen under `key` (the previous choice of these scores goes)."""
    chart_cache.keep_json(store.columns_dir, last.token, key.name,
                          {"at": key.at, "chosen": chosen}, replaces=NAME)  # fmt: skip
