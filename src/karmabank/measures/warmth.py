"""Warmth (Orbit's "love"): Σ over inbound activities of weight × decay^(age/decay_days), times
`1 + step × (channels in the last multiplexity_days − 1)`. PRODUCT.md §3."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa

from karmabank.frames import US_PER_DAY, micros, small_engine
from karmabank.measures.settings import LedgerSettings, MeasureSettings, WarmthSettings


def weights_table(s: MeasureSettings) -> pa.Table:
    """(direction, verb, weight) for every verb with a default weight."""
    rows = [("in", v, w) for v, w in s.warmth.weights.items()]
    rows += [("give", v, w) for v, w in s.ledger.give_weights.items()]
    return pa.table(
        {"direction": pa.array([r[0] for r in rows], pa.string()),
         "verb": pa.array([r[1] for r in rows], pa.string()),
         "w": pa.array([r[2] for r in rows], pa.float64())}
    )  # fmt: skip


def default_weight_sql(direction: str, w: WarmthSettings, ledger: LedgerSettings) -> str:
    """The weight of a verb with no default of its own, by direction."""
    return (
        f"CASE {direction} WHEN 'in' THEN {w.default_weight!r}"
        f" WHEN 'give' THEN {ledger.default_give_weight!r}"
        f" WHEN 'ask' THEN {ledger.ask_weight!r} ELSE 0.0 END"
    )


def decay_sql(age_days: str, w: WarmthSettings) -> str:
    """decay^(age/decay_days) as SQL over an expression in days."""
    return f"pow({w.decay!r}, ({age_days}) / {w.decay_days!r})"


def multiplexity_sql(channels: str, w: WarmthSettings) -> str:
    """1 + step × (channels − 1); no channel counts as one (no penalty)."""
    return f"(1 + {w.multiplexity_step!r} * (greatest({channels}, 1) - 1))::DOUBLE"


def multiplexity(channels: int, w: WarmthSettings) -> float:
    return 1 + w.multiplexity_step * (max(channels, 1) - 1)


def warmth_parts(acts: pa.Table, now: datetime, s: MeasureSettings) -> pa.Table:
    """Each inbound activity's contribution, newest first: the "why" of one person's warmth.

    Columns: activity_id, verb, channel, occurred_at, weight, age_days, decay, contribution.
    Σ contribution × multiplexity(channels) = the person's warmth (the network run uses the same
    SQL expressions, so the two agree to the last bit)."""
    now_us = micros(now)
    age = f"(({now_us} - a.occurred_at) / {float(US_PER_DAY)!r})"
    sql = f"""
        SELECT a.id AS activity_id, a.verb, a.channel, a.occurred_at,
               coalesce(a.weight, wt.w, {default_weight_sql("a.direction", s.warmth, s.ledger)})
                 AS weight,
               {age} AS age_days,
               {decay_sql(age, s.warmth)} AS decay
        FROM acts a LEFT JOIN weights wt ON wt.direction = a.direction AND wt.verb = a.verb
        WHERE a.direction = 'in' AND a.occurred_at <= {now_us}
    """
    with small_engine() as con:
        con.register("acts", acts)
        con.register("weights", weights_table(s))
        return con.sql(
            f"SELECT *, weight * decay AS contribution FROM ({sql}) ORDER BY occurred_at DESC, "
            "activity_id DESC"
        ).to_arrow_table()
