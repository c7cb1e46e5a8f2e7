"""Small hand-made networks for the measure tests: `act` one activity, `score` a list of them.

Every time is relative to `NOW` (noon UTC, so `at(k)` falls on the UTC day `k` days before
today and the fractional age is exactly `k` days)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from karmabank.frames import (
    ACTED_SCHEMA,
    FLAGS_SCHEMA,
    PREVIOUS_SCHEMA,
    activities_table,
    micros,
)
from karmabank.measures.network import NetworkScores, score_network
from karmabank.measures.settings import MeasureSettings

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
DEFAULTS = MeasureSettings()
NOW_US = micros(NOW)


def at(days_ago: float, now: datetime = NOW) -> int:
    """UTC microseconds `days_ago` days before `now`."""
    return micros(now - timedelta(days=days_ago))


def later(days: float) -> datetime:
    """`days` after NOW (a later rescore)."""
    return NOW + timedelta(days=days)


def act(
    person_id: int,
    days_ago: float,
    verb: str,
    direction: str = "in",
    *,
    channel: str | None = "email",
    weight: float | None = None,
    target_id: int | None = None,
    occurred_at: int | None = None,
) -> dict[str, object]:
    """One activity `days_ago` days before NOW (or at `occurred_at`)."""
    return {
        "occurred_at": at(days_ago) if occurred_at is None else occurred_at,
        "person_id": person_id,
        "target_id": target_id,
        "verb": verb,
        "direction": direction,
        "channel": channel,
        "weight": weight,
    }


def activities(rows: list[dict[str, object]]) -> pa.Table:
    """The activity table of `rows`, with ids 1, 2, ..."""
    return activities_table([{**r, "id": i} for i, r in enumerate(rows, start=1)])


def flags(*rows: dict[str, object]) -> pa.Table:
    """A flags table; missing booleans are false."""
    names = ("team", "bot", "do_not_contact", "erased")
    full = [
        {"person_id": r["person_id"], **{n: bool(r.get(n, False)) for n in names}} for r in rows
    ]
    return pa.Table.from_pylist(full, schema=FLAGS_SCHEMA)


def acted(*rows: tuple[int, int, int]) -> pa.Table:
    """Asks acted on: (person_id, campaign_id, acted_at)."""
    return pa.Table.from_pylist(
        [{"person_id": p, "campaign_id": c, "acted_at": t} for p, c, t in rows],
        schema=ACTED_SCHEMA,
    )


def previous(*rows: dict[str, object]) -> pa.Table:
    """A previous rescore's history; missing columns are null."""
    return pa.Table.from_pylist(
        [{n: r.get(n) for n in PREVIOUS_SCHEMA.names} for r in rows], schema=PREVIOUS_SCHEMA
    )


def previous_of(result: NetworkScores) -> pa.Table:
    """What a rescore leaves for the next one."""
    return result.scores.select(PREVIOUS_SCHEMA.names).cast(PREVIOUS_SCHEMA)


def score(
    rows: list[dict[str, object]],
    *,
    now: datetime = NOW,
    settings: MeasureSettings = DEFAULTS,
    flags: pa.Table | None = None,
    acted: pa.Table | None = None,
    previous: pa.Table | None = None,
    previous_now: int | None = None,
) -> NetworkScores:
    return score_network(
        activities(rows),
        now=now,
        settings=settings,
        flags=flags,
        acted=acted,
        previous=previous,
        previous_now=previous_now,
    )


def person(result: NetworkScores, person_id: int) -> dict[str, Any]:
    """The score row of one person (fails if there is not exactly one)."""
    rows: list[dict[str, Any]] = [
        r for r in result.scores.to_pylist() if r["person_id"] == person_id
    ]
    assert len(rows) == 1, f"person {person_id}: {len(rows)} score rows"
    return rows[0]


def column(result: NetworkScores, name: str) -> dict[int, Any]:
    """person_id -> value of one score column."""
    return dict(
        zip(
            result.scores.column("person_id").to_pylist(),
            result.scores.column(name).to_pylist(),
            strict=True,
        )
    )


def scored_ids(result: NetworkScores) -> list[int]:
    ids: list[int] = result.scores.column("person_id").to_pylist()
    return ids
