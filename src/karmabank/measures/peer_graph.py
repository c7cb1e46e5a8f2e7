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
    con = activities_engine(source, "acts")
    try:
        return con.sql(
            f"""SELECT person_id AS src, target_id AS dst, coalesce(weight, 1.0) AS weight
            FROM acts WHERE direction = 'peer' AND target_id IS NOT NULL
              AND occurred_at <= {micros(now)}"""
        ).to_arrow_table()
    finally:
        con.close()
