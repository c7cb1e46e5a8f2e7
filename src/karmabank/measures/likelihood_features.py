"""The features of likelihood to act: one row per person at `now`, from data up to `now` only.

What each says is in FEATURE_TEXT. Counts are log1p'd; durations are in units of the model's
window ("lately": the horizon, or the training window when history is short) and log1p'd, so
that a network of one week and one of ten years read alike; someone who never came toward us
(never wrote to others, was never given anything) has 0 and an indicator instead, not a value
that would depend on how long the data runs. Column-wise on DuckDB; no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from karmabank.frames import (
    ACTED_SCHEMA,
    FLAGS_SCHEMA,
    US_PER_DAY,
    ParquetFiles,
    empty,
    engine_over,
    micros,
)
from karmabank.measures import ladder
from karmabank.measures.network import score_network
from karmabank.measures.settings import MeasureSettings
from karmabank.model import RhythmStatus, from_micros

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection

# Each feature with what it says, in the model's order. Counts and days are log1p'd.
FEATURE_TEXT: dict[str, str] = {
    "warmth": "warmth",
    "recency": "time since they last came toward us",
    "never_in": "never came toward us",
    "n_in": "activities toward us",
    "in_recent": "activities toward us lately",
    "presence_30": "active days in the last 30",
    "presence_90": "active days in the last 90",
    "presence_365": "active days in the last 365",
    "silence_cadence": "silence for their own rhythm",
    **{f"status_{s}": f"{s} in their rhythm" for s in RhythmStatus},
    "stage": "ladder stage",
    "tenure": "time since first seen",
    "peer_out_recent": "activity toward others lately",
    "peer_out_90": "activity toward others in 90 days",
    "peer_out_365": "activity toward others in 365 days",
    "peer_out_recency": "time since they last wrote to others",
    "never_peer_out": "never wrote to others",
    "peer_in_recent": "activity from others lately",
    "peer_in_90": "activity from others in 90 days",
    "peer_in_365": "activity from others in 365 days",
    "given": "our gives to them",
    "give_recent": "our gives to them lately",
    "give_recency": "time since our last give",
    "never_given": "never given anything",
    "give_response": "how they answered our gives",
    "asked": "our asks to them",
    "ask_response": "how they answered our asks",
    "affinity": "affinity to the issue",
    "affinity_missing": "no text to judge affinity",
}
AFFINITY_INPUT = pa.schema([("person_id", pa.int64()), ("affinity", pa.float64())])
_SCORE_COLUMNS = pa.schema(
    [("person_id", pa.int64()), ("warmth", pa.float64()), ("status", pa.string()),
     ("stage", pa.string()), ("cadence_used", pa.float64())]
)  # fmt: skip


def _day(expr: str, now_us: int) -> str:
    return f"(({now_us} - {expr}) / {float(US_PER_DAY)!r})"


def features(
    acts: ParquetFiles | pa.Table,
    *,
    now: datetime,
    settings: MeasureSettings,
    flags: pa.Table | None = None,
    scores: pa.Table | None = None,
    asks: pa.Table | None = None,
    affinity: pa.Table | None = None,
    window_days: float | None = None,
    threads: int | None = None,
) -> pa.Table:
    """One row per person with an activity up to `now` (team, bots and erased people left out),
    sorted by person_id: person_id and FEATURES, from data up to `now` only.

    `scores`: score_network's scores at `now` (person_id, warmth, status, stage, cadence_used);
    computed when not given. `asks`: asks people acted on (ACTED_SCHEMA). `affinity`: person_id,
    affinity (0–1) for one issue; people without a row have `affinity_missing` = 1. The window
    is `window_days` (default `likelihood.horizon_days`): "lately" counts each activity
    e^(−age / window), times are in windows. Ages are exact (fractional days), so a network of
    one week is measured in hours. Presence counts UTC days, as the rhythm measure does."""
    window = float(window_days if window_days is not None else settings.likelihood.horizon_days)
    if scores is None:
        scores = score_network(acts, now=now, settings=settings, flags=flags, acted=asks).scores
    now_us = micros(now)
    con = engine_over(
        {"acts_src": acts, "flags": flags if flags is not None else empty(FLAGS_SCHEMA),
         "acted": asks if asks is not None else empty(ACTED_SCHEMA),
         "sc": scores.select(_SCORE_COLUMNS.names).cast(_SCORE_COLUMNS),
         "aff": affinity.select(AFFINITY_INPUT.names).cast(AFFINITY_INPUT)
         if affinity is not None else empty(AFFINITY_INPUT)},
        threads,
    )  # fmt: skip
    try:
        _events(con, now_us)
        _sums(con, window, now_us // US_PER_DAY)
        _responses(con, float(settings.likelihood.response_days), now_us)
        table = con.sql(_rows_sql(settings, window)).to_arrow_table()
    finally:
        con.close()
    return table.cast(
        pa.schema([("person_id", pa.int64()), *((f, pa.float64()) for f in FEATURE_TEXT)])
    )


def _events(con: DuckDBPyConnection, now_us: int) -> None:
    """Table `a`: the activities up to `now_us` (team, bots and erased people left out), with
    their age in days and their UTC day."""
    con.execute(
        f"""CREATE TEMP TABLE a AS
        SELECT a.person_id, a.target_id, a.direction, a.occurred_at,
               {_day("a.occurred_at", now_us)} AS age, a.occurred_at // {US_PER_DAY} AS day
        FROM acts_src a
        WHERE a.occurred_at <= {now_us}
          AND NOT EXISTS (SELECT 1 FROM flags f WHERE f.person_id = a.person_id
                          AND (f.team OR f.bot OR f.erased))"""
    )


def _sums(con: DuckDBPyConnection, w: float, now_day: int) -> None:
    """Tables `g` (per person: counts, "lately" sums and silences by direction), `pres` (active
    days) and `pin` (peer activity toward them), over `a`, in windows of `w` days."""
    recent = f"exp(-age / {w!r})"  # an activity `window` old counts 1/e
    con.execute(
        f"""CREATE TEMP TABLE g AS SELECT person_id,
          max(age) AS tenure,
          min(age) FILTER (WHERE direction = 'in') AS silence,
          count(*) FILTER (WHERE direction = 'in') AS n_in,
          coalesce(sum({recent}) FILTER (WHERE direction = 'in'), 0) AS in_recent,
          coalesce(sum({recent}) FILTER (WHERE direction = 'peer'), 0) AS out_recent,
          count(*) FILTER (WHERE direction = 'peer' AND age < 90) AS out_90,
          count(*) FILTER (WHERE direction = 'peer' AND age < 365) AS out_365,
          min(age) FILTER (WHERE direction = 'peer') AS out_silence,
          count(*) FILTER (WHERE direction = 'give') AS given,
          coalesce(sum({recent}) FILTER (WHERE direction = 'give'), 0) AS give_recent,
          min(age) FILTER (WHERE direction = 'give') AS give_silence,
          count(*) FILTER (WHERE direction = 'ask') AS asked
        FROM a GROUP BY person_id"""
    )
    # active days: the distinct (person, day) pairs first, then counted (three
    # count(DISTINCT) per person took a third of the features' time on 456k people)
    con.execute(
        f"""CREATE TEMP TABLE pres AS SELECT person_id,
          count(*) FILTER (WHERE day > {now_day - 30}) AS p30,
          count(*) FILTER (WHERE day > {now_day - 90}) AS p90,
          count(*) AS p365
        FROM (SELECT DISTINCT person_id, day FROM a
              WHERE direction = 'in' AND day > {now_day - 365}) d
        GROUP BY person_id"""
    )
    con.execute(
        f"""CREATE TEMP TABLE pin AS SELECT target_id AS person_id,
          sum({recent}) AS in_recent,
          count(*) FILTER (WHERE age < 90) AS in_90,
          count(*) FILTER (WHERE age < 365) AS in_365
        FROM a WHERE direction = 'peer' AND target_id IS NOT NULL GROUP BY target_id"""
    )


def _responses(con: DuckDBPyConnection, r: float, now_us: int) -> None:
    """Tables `resp` (gives and asks answered within `r` days) and `did` (asks acted on)."""
    # a give or ask is answered when the person comes toward us within `response_days`;
    # one too recent to tell (and not answered yet) is left out of the rate
    con.execute(
        f"""CREATE TEMP TABLE resp AS SELECT t.person_id,
          count(*) FILTER (WHERE t.direction = 'give' AND {_answered(r)}) AS give_yes,
          count(*) FILTER (WHERE t.direction = 'give' AND ({_answered(r)} OR t.age >= {r!r}))
            AS give_n,
          count(*) FILTER (WHERE t.direction = 'ask' AND {_answered(r)}) AS ask_yes,
          count(*) FILTER (WHERE t.direction = 'ask' AND ({_answered(r)} OR t.age >= {r!r}))
            AS ask_n
        FROM (SELECT person_id, direction, occurred_at, age FROM a
              WHERE direction IN ('give', 'ask')) t
        ASOF LEFT JOIN (SELECT person_id, occurred_at AS next_at FROM a
                        WHERE direction = 'in') n
          ON n.person_id = t.person_id AND n.next_at > t.occurred_at
        GROUP BY t.person_id"""
    )
    con.execute(
        f"""CREATE TEMP TABLE did AS SELECT person_id, count(*) AS acted FROM acted
        WHERE acted_at <= {now_us} GROUP BY person_id"""
    )


def _rows_sql(settings: MeasureSettings, w: float) -> str:
    """The SELECT of one row of features per person, from the tables of `_sums` and
    `_responses` and the scores (`sc`) and affinity (`aff`)."""
    lk = settings.likelihood
    levels = " ".join(f"WHEN '{st}' THEN {i}" for st, i in ladder.LEVEL.items())
    a0, b0 = float(lk.response_prior_acted), float(lk.response_prior_asked)
    status = ",\n".join(
        f"coalesce((sc.status = '{s}')::DOUBLE, 0) AS status_{s}" for s in RhythmStatus
    )
    cadence = (
        "coalesce(sc.cadence_used, (SELECT median(cadence_used) FROM sc), "
        f"{settings.rhythm.default_cadence_days!r})"
    )
    return f"""SELECT g.person_id,
          ln(1 + greatest(coalesce(sc.warmth, 0), 0)) AS warmth,
          ln(1 + coalesce(g.silence, 0) / {w!r}) AS recency,
          (g.silence IS NULL)::DOUBLE AS never_in,
          ln(1 + g.n_in) AS n_in,
          ln(1 + g.in_recent) AS in_recent,
          ln(1 + coalesce(pres.p30, 0)) AS presence_30,
          ln(1 + coalesce(pres.p90, 0)) AS presence_90,
          ln(1 + coalesce(pres.p365, 0)) AS presence_365,
          ln(1 + coalesce(g.silence, 0) / greatest({cadence}, 1e-9)) AS silence_cadence,
          {status},
          coalesce(CASE sc.stage {levels} END, 0)::DOUBLE AS stage,
          ln(1 + g.tenure / {w!r}) AS tenure,
          ln(1 + g.out_recent) AS peer_out_recent, ln(1 + g.out_90) AS peer_out_90,
          ln(1 + g.out_365) AS peer_out_365,
          ln(1 + coalesce(g.out_silence, 0) / {w!r}) AS peer_out_recency,
          (g.out_silence IS NULL)::DOUBLE AS never_peer_out,
          ln(1 + coalesce(pin.in_recent, 0)) AS peer_in_recent,
          ln(1 + coalesce(pin.in_90, 0)) AS peer_in_90,
          ln(1 + coalesce(pin.in_365, 0)) AS peer_in_365,
          ln(1 + g.given) AS given, ln(1 + g.give_recent) AS give_recent,
          ln(1 + coalesce(g.give_silence, 0) / {w!r}) AS give_recency,
          (g.give_silence IS NULL)::DOUBLE AS never_given,
          (coalesce(resp.give_yes, 0) + {a0!r}) / (coalesce(resp.give_n, 0) + {b0!r})
            AS give_response,
          ln(1 + g.asked) AS asked,
          (least(greatest(coalesce(resp.ask_yes, 0), coalesce(did.acted, 0)), g.asked)
            + {a0!r}) / (greatest(coalesce(resp.ask_n, 0), least(coalesce(did.acted, 0),
            g.asked)) + {b0!r}) AS ask_response,
          coalesce(aff.affinity, 0)::DOUBLE AS affinity,
          (aff.affinity IS NULL)::DOUBLE AS affinity_missing
        FROM g LEFT JOIN sc USING (person_id) LEFT JOIN pres USING (person_id)
          LEFT JOIN pin USING (person_id)
          LEFT JOIN resp USING (person_id) LEFT JOIN did USING (person_id)
          LEFT JOIN aff USING (person_id)
        ORDER BY g.person_id"""


def activities_of(source: ParquetFiles | pa.Table, people: Sequence[int]) -> pa.Table:
    """The activities by or toward `people`: what their features are made of (`features` on
    them gives their rows of everyone's, in a fraction of the time)."""
    con = engine_over({"acts": source, "who": pa.table({"id": pa.array(list(people), pa.int64())})})
    try:
        return con.sql(
            """SELECT * FROM acts WHERE person_id IN (SELECT id FROM who)
               OR target_id IN (SELECT id FROM who)"""
        ).to_arrow_table()
    finally:
        con.close()


def _answered(response_days: float) -> str:
    return f"(n.next_at - t.occurred_at <= {response_days * US_PER_DAY!r})"


def acted_between(
    acts: ParquetFiles | pa.Table, *, after: datetime, until: datetime
) -> npt.NDArray[np.int64]:
    """The people (sorted ids) with an inbound activity in (after, until]: who acted."""
    con = engine_over({"acts_src": acts})
    try:
        ids = con.sql(
            f"""SELECT DISTINCT person_id FROM acts_src WHERE direction = 'in'
            AND occurred_at > {micros(after)} AND occurred_at <= {micros(until)}
            ORDER BY person_id"""
        ).fetchnumpy()["person_id"]
    finally:
        con.close()
    return np.asarray(ids, dtype=np.int64)


Floats = npt.NDArray[np.float64]


def labels_for(people: pa.Table | pa.ChunkedArray, acted: npt.NDArray[np.int64]) -> Floats:
    """1.0 for each person of `people` (a person_id column or a table with one) in `acted`."""
    column = people["person_id"] if isinstance(people, pa.Table) else people
    ids = np.asarray(column.to_numpy(), dtype=np.int64)
    return np.isin(ids, acted).astype(np.float64)


def first_time(acts: ParquetFiles | pa.Table, now_us: int, flags: pa.Table | None) -> int | None:
    """The time of the first activity up to `now_us` (people left out of the measures aside)."""
    con = engine_over(
        {"acts_src": acts, "flags": flags if flags is not None else empty(FLAGS_SCHEMA)}
    )
    try:
        first = con.execute(
            f"""SELECT min(occurred_at) FROM acts_src a WHERE occurred_at <= {now_us}
            AND NOT EXISTS (SELECT 1 FROM flags f WHERE f.person_id = a.person_id
                            AND (f.team OR f.bot OR f.erased))"""
        ).fetchall()[0][0]
    finally:
        con.close()
    return None if first is None else int(first)


def training_times(
    acts: ParquetFiles | pa.Table,
    *,
    now: datetime,
    horizon_days: float,
    training_days: float = 0,
    max_splits: int = 1,
    flags: pa.Table | None = None,
) -> tuple[list[datetime], float] | None:
    """The time splits of the history before `now`, and h: the horizon, or half the history if
    shorter (a network of one week still trains on its last days). The times are
    t_k = now − k·h for k = 1, 2, … as long as k·h ≤ `training_days` (t_1 always), at most
    `max_splits` of them, each with at least h days of history before it. None without history
    before `now`."""
    now_us = micros(now)
    start = first_time(acts, now_us, flags)
    if start is None or start >= now_us:
        return None
    h = min(float(horizon_days), (now_us - start) / US_PER_DAY / 2)
    step = round(h * US_PER_DAY)
    count = max(1, min(max_splits, int(training_days / h + 1e-9)))
    times = [now_us - k * step for k in range(1, count + 1)]
    return [from_micros(t) for t in times if t == times[0] or t - start >= step], h
