"""The numbers the charts show (issue 19), computed column-wise on DuckDB: pure SQL builders and
one function that runs them over the columnar copy of activities and the last rescore's snapshot.

- **rhythm**: activities per week (weeks start on Monday, UTC) over the last `days`: inbound by
  channel, and the organization's gives and asks (all channels together) on the same weeks.
- **share**: gives and asks per calendar month over the last `months`, their ratio (none without
  asks) against the ledger's target.
- **funnel**: people per ladder stage now (the snapshot), and the moves between stages recorded
  in the last `days` (`ladder_transition`, counted by the caller's query: a small table).
- **circles**: the circles are not stored month by month (each rescore replaces the scores; only
  the circle each person holds now and *since when* is kept), so this chart shows what that
  allows honestly: at each month's end, how many of the people now in each circle already held it.

Like the measures, the team, bots and erased people are left out. Every row is a plain dict
(JSON-ready): the `--json` of a chart is exactly what its definition plots.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from karmabank.frames import US_PER_DAY, ParquetFiles, engine_over
from karmabank.model import Circle, Stage, from_micros, to_micros

RHYTHM_DAYS = 365
SHARE_MONTHS = 12
FUNNEL_DAYS = 90
CIRCLE_MONTHS = 12

_COUNTED = """SELECT a.* FROM acts a
    WHERE NOT EXISTS (SELECT 1 FROM flags f WHERE f.person_id = a.person_id
                      AND (f.team OR f.bot OR f.erased))"""


def month_starts(now: datetime, months: int) -> list[datetime]:
    """The first instants (UTC) of the last `months` calendar months, the current one last."""
    starts = []
    year, month = now.astimezone(UTC).year, now.astimezone(UTC).month
    for _ in range(months):
        starts.append(datetime(year, month, 1, tzinfo=UTC))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def rhythm_sql(now_us: int, days: int = RHYTHM_DAYS) -> str:
    """Per week and series: inbound activities by channel, gives and asks (channel null; every
    week of the window has a row for each, zero when there were none)."""
    start = now_us - days * US_PER_DAY
    week = "strftime(date_trunc('week', make_timestamp({})), '%Y-%m-%d')"
    return f"""
        WITH found AS (
            SELECT {week.format("occurred_at")} AS week, direction,
                   CASE WHEN direction = 'in' THEN coalesce(channel, 'other') END AS channel,
                   count(*) AS activities
            FROM counted
            WHERE direction IN ('in', 'give', 'ask')
              AND occurred_at > {start} AND occurred_at <= {now_us}
            GROUP BY ALL),
        weeks AS (
            SELECT DISTINCT {week.format("w")} AS week
            FROM range({start + 1}, {now_us + 1}, {7 * US_PER_DAY}) r(w)
            UNION SELECT {week.format(str(now_us))})
        SELECT week, direction, channel, activities FROM found WHERE direction = 'in'
        UNION ALL
        SELECT w.week, d.direction, NULL, coalesce(f.activities, 0)
        FROM weeks w CROSS JOIN (VALUES ('give'), ('ask')) d(direction)
        LEFT JOIN found f ON f.week = w.week AND f.direction = d.direction
        ORDER BY week, direction DESC, channel"""


def share_sql(start_us: int, now_us: int) -> str:
    """Gives and asks per calendar month from `start_us` (a month's first instant) to `now`."""
    return f"""
        SELECT strftime(date_trunc('month', make_timestamp(occurred_at)), '%Y-%m') AS month,
               count(*) FILTER (WHERE direction = 'give') AS gives,
               count(*) FILTER (WHERE direction = 'ask') AS asks
        FROM counted
        WHERE direction IN ('give', 'ask')
          AND occurred_at >= {start_us} AND occurred_at <= {now_us}
        GROUP BY 1"""


def stages_sql() -> str:
    """People per ladder stage now, from the snapshot `snap` (person_id, stage, circle, ...)."""
    return "SELECT stage, count(*) AS people FROM snap WHERE stage IS NOT NULL GROUP BY 1"


def circles_sql(ends_us: list[int]) -> str:
    """At each month end, the people now in each circle who held it by then (`snap`)."""
    ends = ", ".join(f"({e})" for e in ends_us)
    return f"""
        WITH held AS (SELECT circle, circle_since, count(*) AS people FROM snap
                      WHERE circle IS NOT NULL AND circle_since IS NOT NULL GROUP BY ALL)
        SELECT e.end_us, h.circle, sum(h.people)::BIGINT AS people
        FROM (VALUES {ends}) AS e(end_us) JOIN held h ON h.circle_since <= e.end_us
        GROUP BY ALL"""


@dataclass(frozen=True)
class NetworkChartData:
    """The numbers of the network's charts as of one time (the scores' `now`)."""

    as_of: datetime
    rhythm: list[dict[str, Any]]
    share: list[dict[str, Any]]
    share_target: float
    stages: list[dict[str, Any]]
    circles: list[dict[str, Any]]


def network_chart_data(
    acts: ParquetFiles | pa.Table, flags: pa.Table, snapshot: pa.Table, *, now: datetime,
    share_target: float, threads: int | None = None,
) -> NetworkChartData:  # fmt: skip
    """Every network chart's numbers in one engine: `acts` (ACTIVITY_SCHEMA), `flags`
    (FLAGS_SCHEMA), `snapshot` (person_id, stage, circle, circle_since)."""
    now_us = to_micros(now)
    con = engine_over({"acts": acts, "flags": flags, "snap": snapshot}, threads)
    try:
        con.execute(f"CREATE TEMP VIEW counted AS {_COUNTED}")
        rhythm = rows_of(con.execute(rhythm_sql(now_us)))
        starts = month_starts(now, SHARE_MONTHS)
        found = {r["month"]: r for r in rows_of(con.execute(share_sql(to_micros(starts[0]),
                                                                      now_us)))}  # fmt: skip
        share = [_share_row(m.strftime("%Y-%m"), found) for m in starts]
        by_stage = {r["stage"]: r["people"] for r in rows_of(con.execute(stages_sql()))}
        stages = [{"stage": s.value, "people": int(by_stage.get(s.value, 0))} for s in Stage]
        circles = _circles(con, now)
    finally:
        con.close()
    return NetworkChartData(now, rhythm, share, share_target, stages, circles)


def _share_row(month: str, found: dict[str, dict[str, Any]]) -> dict[str, Any]:
    gives = int(found.get(month, {}).get("gives", 0))
    asks = int(found.get(month, {}).get("asks", 0))
    return {"month": month, "gives": gives, "asks": asks,
            "ratio": round(gives / asks, 2) if asks else None}  # fmt: skip


def _circles(con: Any, now: datetime) -> list[dict[str, Any]]:
    starts = month_starts(now, CIRCLE_MONTHS)
    ends = [to_micros(s) - 1 for s in starts[1:]] + [to_micros(now)]
    labels = {e: s.strftime("%Y-%m") for e, s in zip(ends, starts, strict=True)}
    found = {(r["end_us"], r["circle"]): int(r["people"])
             for r in rows_of(con.execute(circles_sql(ends)))}  # fmt: skip
    return [
        {"month": labels[e], "circle": c.value, "people": found.get((e, c.value), 0)}
        for e in ends for c in Circle
    ]  # fmt: skip


def rows_of(result: Any) -> list[dict[str, Any]]:
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def strip_days(day_counts: list[tuple[int, int]]) -> list[dict[str, Any]]:
    """A person's active days (UTC day number, inbound activities that day) as dated rows."""
    return [
        {"day": from_micros(day * US_PER_DAY).strftime("%Y-%m-%d"), "activities": int(n)}
        for day, n in sorted(day_counts)
    ]
