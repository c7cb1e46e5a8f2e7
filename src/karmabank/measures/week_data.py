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

# The flags are per person: the people left out are taken out of the (small) grouped results,
# not row by row out of every activity.
_LEFT_OUT = """SELECT person_id FROM flags WHERE team OR bot OR erased"""


def window_people_sql(since_us: int, now_us: int) -> str:
    """Everyone inbound in the window: their first time in it, their count in it, and their
    last inbound before it (null: never before, so new). The history is read for these people
    only (a semi-join), not grouped for the whole network."""
    return f"""
        WITH recent AS (
            SELECT person_id, min(occurred_at) AS back_at, count(*) AS activities
            FROM acts WHERE direction = 'in'
              AND occurred_at > {since_us} AND occurred_at <= {now_us}
              AND person_id NOT IN (SELECT person_id FROM left_out)
            GROUP BY person_id),
        before AS (
            SELECT c.person_id, max(c.occurred_at) AS before_at
            FROM acts c SEMI JOIN recent r ON c.person_id = r.person_id
            WHERE c.direction = 'in' AND c.occurred_at <= {since_us}
            GROUP BY c.person_id)
        SELECT r.person_id, r.back_at, r.activities, b.before_at
        FROM recent r LEFT JOIN before b ON b.person_id = r.person_id"""


def new_people_sql(limit: int) -> str:
    """Of `window_people`: those never inbound before it, most active first."""
    return f"""
        SELECT person_id, back_at AS first_at, activities, count(*) OVER () AS total
        FROM window_people WHERE before_at IS NULL
        ORDER BY activities DESC, first_at, person_id LIMIT {limit}"""


def returns_sql(gap_days: int, limit: int) -> str:
    """Of `window_people`: those back after at least `gap_days` of silence, longest first."""
    return f"""
        SELECT person_id, back_at, ((back_at - before_at) // {US_PER_DAY})::BIGINT AS silent_days,
               count(*) OVER () AS total
        FROM window_people
        WHERE before_at IS NOT NULL AND back_at - before_at >= {gap_days * US_PER_DAY}
        ORDER BY silent_days DESC, person_id LIMIT {limit}"""


def gives_sql(since_us: int, now_us: int, limit: int) -> str:
    """The organization's gives in the window per person, most first."""
    return f"""
        SELECT person_id, count(*) AS gives, max(occurred_at) AS last_at,
               sum(count(*)) OVER ()::BIGINT AS total
        FROM acts WHERE direction = 'give' AND occurred_at > {since_us}
          AND occurred_at <= {now_us} AND person_id NOT IN (SELECT person_id FROM left_out)
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
        con.execute(f"CREATE TEMP TABLE left_out AS {_LEFT_OUT}")
        con.execute(f"CREATE TEMP TABLE window_people AS {window_people_sql(since_us, now_us)}")
        new = rows_of(con.execute(new_people_sql(limit)))
        back = rows_of(con.execute(returns_sql(gap_days, limit)))
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
