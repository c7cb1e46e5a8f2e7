"""Tenure, presence and rhythm: each person's own cadence and where their silence stands.

Day-based measures count UTC calendar days: an *active day* is a day with an inbound activity;
presence counts active days in the last 30/90/365 days (today included); cadence is the median
gap between active days over the last `window_days` (needs `min_active_days`); silence is the
number of days since the last active day. Status (PRODUCT.md §3), with c = cadence:
`active` s ≤ 1.5c, `resting` s ≤ 4c, then `dormant` if s > 365, `drifting` if the person's
warmth 90 days ago was in the network's top half, else `quiet`.
"""

from __future__ import annotations

from karmabank.measures.settings import RhythmSettings


def person_days_sql(now_day: int, r: RhythmSettings) -> str:
    """Distinct (person, active day) in the cadence window, from view `acts_in`."""
    return f"""
        SELECT DISTINCT person_id, day FROM acts_in
        WHERE direction = 'in' AND day > {now_day - r.window_days}
    """


def rhythm_sql(now_day: int, r: RhythmSettings) -> str:
    """Per person: presence in 30/90/365 days and own cadence (null if too few active days),
    from table `person_days`."""
    return f"""
        SELECT person_id,
               count(*) FILTER (WHERE day > {now_day - 30}) AS presence_30,
               count(*) FILTER (WHERE day > {now_day - 90}) AS presence_90,
               count(*) FILTER (WHERE day > {now_day - 365}) AS presence_365,
               count(*) AS active_days,
               CASE WHEN count(*) >= {r.min_active_days}
                    THEN median(gap) END AS cadence_days
        FROM (SELECT person_id, day,
                     day - lag(day) OVER (PARTITION BY person_id ORDER BY day) AS gap
              FROM person_days)
        GROUP BY person_id
    """


def status_sql(silence: str, cadence: str, warm_before: str, r: RhythmSettings) -> str:
    """The rhythm status as a SQL CASE (null when the person never came in)."""
    return f"""CASE
        WHEN {silence} IS NULL THEN NULL
        WHEN {silence} <= {r.active_factor!r} * {cadence} THEN 'active'
        WHEN {silence} <= {r.resting_factor!r} * {cadence} THEN 'resting'
        WHEN {silence} > {r.dormant_days} THEN 'dormant'
        WHEN {warm_before} THEN 'drifting'
        ELSE 'quiet' END"""
