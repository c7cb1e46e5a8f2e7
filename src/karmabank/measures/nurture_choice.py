"""The nurture queue's choice, pure: from every item the rules found, the day's few.

Not done, skipped or still snoozed; one item per person (their most pressing: highest
priority, then first key); spread across circles (each circle's best first, then each circle's
second...); at most `limit`. The rules (`measures.nurture`) give their items narrow, and only
the chosen are described (channel, give verb, the reason's detail).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import duckdb
import pyarrow as pa

from karmabank.frames import engine_over, micros
from karmabank.model import Circle

CANDIDATE_SCHEMA = pa.schema(
    [
        ("key", pa.string()),  # the item: its kind and subject, so that it is made once
        ("kind", pa.string()),
        ("person_id", pa.int64()),
        ("activity_id", pa.int64()),
        ("ask_id", pa.int64()),
        ("issue_id", pa.int64()),
        ("priority", pa.float64()),
        ("give_verb", pa.string()),
        ("channel", pa.string()),
        ("circle", pa.string()),
        ("detail", pa.string()),  # what the reason needs: verb, days, years, stage, terms
    ]
)
HANDLED_SCHEMA = pa.schema(
    [("key", pa.string()), ("status", pa.string()), ("snoozed_until", pa.int64())]
)  # fmt: skip
NARROW = ("key", "kind", "person_id", "activity_id", "ask_id", "issue_id", "priority", "circle")


def choose(found: pa.Table, *, handled: pa.Table, now: datetime, limit: int) -> pa.Table:
    """The queue (CANDIDATE_SCHEMA) from `found`, every candidate already described."""
    con = engine_over({"found": found, "handled": handled})
    try:
        return choose_in(con, f"cand AS (SELECT {', '.join(NARROW)} FROM found)", now, limit)
    finally:
        con.close()


def choose_in(
    con: duckdb.DuckDBPyConnection, ctes: str, now: datetime, limit: int,
    describe: Callable[[str], str] | None = None,
) -> pa.Table:  # fmt: skip
    """The queue, in one statement: `ctes` (common table expressions, without WITH) end in
    `cand`, the narrow candidates; `handled` is registered in `con`. The choice reads four
    narrow columns (carrying more through the per-person and per-circle picks costs more
    than the rules); then `describe(relation)` gives the SQL of the chosen rows described,
    or, without it, they are read from a registered `found` table."""
    order = " ".join(f"WHEN '{c}' THEN {i}" for i, c in enumerate(Circle))
    choice = f"""{ctes},
        open AS MATERIALIZED (
            SELECT c.key, c.person_id, c.priority, c.circle FROM cand c
            LEFT JOIN handled h USING (key)
            WHERE h.key IS NULL OR h.status = 'open'
               OR (h.status = 'snoozed' AND coalesce(h.snoozed_until, 0) <= {micros(now)})),
        -- each person's most pressing item: their top priority, and the first key at it (two
        -- plain aggregates cost less than one ordered by both)
        top AS (SELECT person_id, max(priority) AS priority FROM open GROUP BY person_id),
        best AS (
            SELECT o.person_id, min(o.key) AS key, any_value(o.priority) AS priority,
                   any_value(o.circle) AS circle
            FROM open o JOIN top t ON t.person_id IS NOT DISTINCT FROM o.person_id
                                  AND t.priority = o.priority
            GROUP BY o.person_id),
        -- each circle's best `limit` people, in order: only they can take a turn
        tops AS (
            SELECT min_by(struct_pack(key, person_id, priority, circle), (-priority, key),
                          {max(int(limit), 1)}) AS top
            FROM best GROUP BY coalesce(circle, '')),
        spread AS (SELECT unnest(top) AS t, generate_subscripts(top, 1) AS turn FROM tops),
        chosen AS MATERIALIZED (
            SELECT t.key AS key, t.person_id AS person_id, t.priority AS priority,
                   t.circle AS circle, row_number() OVER (
                   ORDER BY turn, t.priority DESC,
                            CASE t.circle {order} ELSE {len(Circle)} END, t.key) AS n
        FROM spread ORDER BY n LIMIT {int(limit)})"""
    if describe is not None:
        rel = con.sql(
            f"""WITH {choice} SELECT d.* FROM ({describe("chosen")}) d
            JOIN chosen c USING (key) ORDER BY c.n"""
        )
    else:  # (a key found twice, e.g. the same promotion twice in the window, is one item)
        rel = con.sql(
            f"""WITH {choice} SELECT f.* FROM found f JOIN chosen c USING (key)
            QUALIFY row_number() OVER (PARTITION BY c.n) = 1 ORDER BY c.n"""
        )
    return as_candidates(rel.to_arrow_table())


def as_candidates(table: pa.Table) -> pa.Table:
    """`table` as CANDIDATE_SCHEMA (a cast loads Arrow's compute functions: 50 ms of start-up,
    for nothing when the engine's types are already those)."""
    return table if table.schema == CANDIDATE_SCHEMA else table.cast(CANDIDATE_SCHEMA)
