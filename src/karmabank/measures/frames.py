"""The column shapes the measures read, and the in-memory engine they compute on."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pyarrow as pa

from karmabank.model import to_micros

US_PER_DAY = 86_400_000_000

# One row per activity: what the measures need and nothing else (no text, no keys).
ACTIVITY_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("occurred_at", pa.int64()),  # UTC microseconds
        ("person_id", pa.int64()),
        ("target_id", pa.int64()),
        ("verb", pa.string()),
        ("direction", pa.string()),
        ("channel", pa.string()),
        ("weight", pa.float64()),  # null: the verb's default weight
    ]
)
# People the measures treat specially (everyone else is an ordinary supporter).
FLAGS_SCHEMA = pa.schema(
    [
        ("person_id", pa.int64()),
        ("team", pa.bool_()),
        ("bot", pa.bool_()),
        ("do_not_contact", pa.bool_()),
        ("erased", pa.bool_()),
    ]
)
# Asks people acted on (for the ladder's advocate and leader stages).
ACTED_SCHEMA = pa.schema(
    [("person_id", pa.int64()), ("campaign_id", pa.int64()), ("acted_at", pa.int64())]
)
# What the previous rescore left: the history circles and the ladder need.
PREVIOUS_SCHEMA = pa.schema(
    [
        ("person_id", pa.int64()),
        ("circle", pa.string()),
        ("circle_since", pa.int64()),
        ("pending_circle", pa.string()),
        ("pending_since", pa.int64()),
        ("stage", pa.string()),
    ]
)


def empty(schema: pa.Schema) -> pa.Table:
    return schema.empty_table()


def activities_table(rows: list[dict[str, object]]) -> pa.Table:
    """A small activity table from dicts (missing columns are null): for tests and one person."""
    return pa.Table.from_pylist(
        [{name: r.get(name) for name in ACTIVITY_SCHEMA.names} for r in rows],
        schema=ACTIVITY_SCHEMA,
    )


def engine(threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """A private in-memory DuckDB: the measures' calculator (it touches no file)."""
    config: dict[str, str | bool | int | float | list[str]] = {
        "enable_external_access": False,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    if threads:
        config["threads"] = threads
    return duckdb.connect(":memory:", config=config)


def micros(now: datetime) -> int:
    return to_micros(now)
