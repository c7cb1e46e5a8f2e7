"""The peer graph's edges (who replied to, mentioned or shared whom), read from the activities
by DuckDB: the input of reach (`graph.reach`, for the influencers) and of the planner's
diffusion graph (`graph.diffusion`). Its own module so that the planner's fresh process does
not import what only the influencers need (scipy for affinity, igraph for reach: 0.3-0.6 s)."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa

from karmabank.frames import ParquetFiles, activities_engine, micros


def peer_edges(source: ParquetFiles | pa.Table, now: datetime) -> pa.Table:
    """(src, dst, weight) of every peer activity up to `now`: who replied to, mentioned or
    shared whom."""
    return peer_edges_and_span(source, now, span=False)[0]


def peer_edges_and_span(
    source: ParquetFiles | pa.Table, now: datetime, *, span: bool = True
) -> tuple[pa.Table, tuple[int, int]]:
    """`peer_edges`, and (the last peer activity's time up to `now`, the first one's after
    it), in µs since the epoch (the smallest and largest int64 when there is none; both of
    them without `span`): the same edges for any time in [first, second). A plan's choice
    made at one time answers for another in that span (`actions/mobilization.py`)."""
    con = activities_engine(source, "acts")
    try:
        edges = con.sql(
            f"""SELECT person_id AS src, target_id AS dst, coalesce(weight, 1.0) AS weight
            FROM acts WHERE direction = 'peer' AND target_id IS NOT NULL
              AND occurred_at <= {micros(now)}"""
        ).to_arrow_table()
        row = con.execute(
            f"""SELECT max(occurred_at) FILTER (WHERE occurred_at <= {micros(now)}),
                       min(occurred_at) FILTER (WHERE occurred_at > {micros(now)})
            FROM acts WHERE direction = 'peer' AND target_id IS NOT NULL"""
        ).fetchone() if span else None  # fmt: skip
    finally:
        con.close()
    before, after = row if row is not None else (None, None)
    return edges, (
        -(2**63) if before is None else int(before),
        2**63 - 1 if after is None else int(after),
    )
