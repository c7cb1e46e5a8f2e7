"""The numbers of the weekly report (issue 19) over the last rescore's copy of activities,
column-wise on DuckDB: who came for the first time, who came back, and what we gave, in a window
`(since, now]`.

- **new people**: their first inbound activity ever falls in the window.
- **returns**: inbound in the window after a silence of at least `gap_days` (the nurture
  queue's `welcome_back_days`): from their last inbound before the window to their first in it.
- **gives**: the organization's gives in the window, per person (most first).

Like the measures and the charts, the team, bots and erased people are left out. Rows are
plain dicts (JSON-ready), people by id: the caller names them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from karmabank.frames import US_PER_DAY, ParquetFiles, engine_over
from karmabank.measures.charts_data import rows_of

_COUNTED = """SELECT a.person_id, a.direction, a.occurred_at FROM acts a
    WHERE NOT EXISTS (SELECT 1 FROM flags f WHERE f.person_id = a.person_id
                      AND (f.team OR f.bot OR f.erased))"""


def new_people_sql(since_us: int, now_us: int, limit: int) -> str:
    """People whose first inbound activity is in the window, with their inbound count in it."""
    return f"""
        WITH firsts AS (
            SELECT person_id, min(occurred_at) AS first_at,
                   count(*) FILTER (WHERE occurred_at > {since_us}) AS activities
            FROM counted WHERE direction = 'in' AND occurred_at <= {now_us}
            GROUP BY person_id)
        SELECT person_id, first_at, activities, count(*) OVER () AS total
        FROM firsts WHERE first_at > {since_us}
        ORDER BY activities DESC, first_at, person_id LIMIT {limit}"""


def returns_sql(since_us: int, now_us: int, gap_days: int, limit: int) -> str:
    """People inbound in the window after at least `gap_days` of silence before it."""
    return f"""
        WITH person AS (
            SELECT person_id,
                   max(occurred_at) FILTER (WHERE occurred_at <= {since_us}) AS before_at,
                   min(occurred_at) FILTER (WHERE occurred_at > {since_us}) AS back_at
            FROM counted WHERE direction = 'in' AND occurred_at <= {now_us}
            GROUP BY person_id)
        SELECT person_id, back_at, ((back_at - before_at) // {US_PER_DAY})::BIGINT AS silent_days,
               count(*) OVER () AS total
        FROM person
        WHERE back_at IS NOT NULL AND before_at IS NOT NULL
          AND back_at - before_at >= {gap_days * US_PER_DAY}
        ORDER BY silent_days DESC, person_id LIMIT {limit}"""


def gives_sql(since_us: int, now_us: int, limit: int) -> str:
    """The organization's gives in the window per person, most first."""
    return f"""
        SELECT person_id, count(*) AS gives, max(occurred_at) AS last_at,
               sum(count(*)) OVER ()::BIGINT AS total
        FROM counted WHERE direction = 'give' AND occurred_at > {since_us}
          AND occurred_at <= {now_us}
        GROUP BY person_id ORDER BY gives DESC, last_at DESC, person_id LIMIT {limit}"""


@dataclass(frozen=True)
class WeekData:
    """The window's people by id, each list at most `limit` long, with the full counts."""

    new_people: list[dict[str, Any]]
    new_total: int
    returns: list[dict[str, Any]]
    returns_total: int
    gives: list[dict[str, Any]]
    gives_total: int


def week_data(
    acts: ParquetFiles | pa.Table, flags: pa.Table, *, since_us: int, now_us: int,
    gap_days: int, limit: int = 10, threads: int | None = None,
) -> WeekData:  # fmt: skip
    """The report's numbers in one engine: `acts` (ACTIVITY_SCHEMA), `flags` (FLAGS_SCHEMA)."""
    con = engine_over({"acts": acts, "flags": flags}, threads)
    try:
        con.execute(f"CREATE TEMP VIEW counted AS {_COUNTED}")
        new = rows_of(con.execute(new_people_sql(since_us, now_us, limit)))
        back = rows_of(con.execute(returns_sql(since_us, now_us, gap_days, limit)))
        gives = rows_of(con.execute(gives_sql(since_us, now_us, limit)))
    finally:
        con.close()
    return WeekData(
        _without_total(new), _total(new), _without_total(back), _total(back),
        _without_total(gives), _total(gives),
    )  # fmt: skip


def _total(rows: list[dict[str, Any]]) -> int:
    return int(rows[0]["total"]) if rows else 0


def _without_total(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: int(v) for k, v in r.items() if k != "total"} for r in rows]
