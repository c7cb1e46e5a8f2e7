"""Score the whole network in one pass: every measure of PRODUCT.md §3 but reach, affinity,
influence and likelihood, for every person, column-wise on DuckDB.

`score_network` is pure: Arrow in (activities, flags, asks acted on, the previous rescore's
circles and stages), Arrow out (one row per person with every value and its parts, the ladder
transitions, and a network summary).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from karmabank.frames import (
    ACTED_SCHEMA,
    FLAGS_SCHEMA,
    PREVIOUS_SCHEMA,
    US_PER_DAY,
    empty,
    micros,
)
from karmabank.measures import circles, ladder, rhythm
from karmabank.measures.engines import DUCKDB, SqlEngine, SqlRunner
from karmabank.measures.ledger import ShareRatio, ask_rule_sql
from karmabank.measures.settings import MeasureSettings
from karmabank.measures.warmth import (
    decay_sql,
    default_weight_sql,
    multiplexity_sql,
    weights_table,
)
from karmabank.model import Circle, RhythmStatus, Stage

Activities = Any  # ParquetFiles, or a pyarrow Table or Dataset with ACTIVITY_SCHEMA's columns


@dataclass(frozen=True)
class NetworkSummary:
    """What the network looks like at `now`, and the thresholds that explain each person."""

    now: int  # UTC microseconds
    people: int
    ranked: int  # people ranked into core/allies/friends/acquaintances by warmth
    cuts: tuple[int, int, int]  # last positions of core, allies, friends
    network_cadence: float  # days; used for people with too few active days
    warmth_before_median: float  # top half of warmth `drift_lookback_days` ago starts here
    share: ShareRatio
    by_circle: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    by_stage: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class NetworkScores:
    scores: pa.Table  # one row per scored person: the columns of `_scores`' SELECT
    transitions: pa.Table  # person_id, from_stage, to_stage, at
    summary: NetworkSummary
    # PREVIOUS_SCHEMA: the history of people a team or bot flag keeps out of `scores`, for the
    # next rescore's `previous` (circles.set_apart_sql)
    set_apart: pa.Table = field(default_factory=lambda: empty(PREVIOUS_SCHEMA))


def score_network(
    acts: Activities,
    *,
    now: datetime,
    settings: MeasureSettings,
    flags: pa.Table | None = None,
    acted: pa.Table | None = None,
    previous: pa.Table | None = None,
    previous_now: int | None = None,
    threads: int | None = None,
    engine: SqlEngine = DUCKDB,
) -> NetworkScores:
    """Every person's scores at `now`. `previous` (from the last rescore, at `previous_now`)
    carries circle history and stages; a rescore at an earlier time than the last one starts
    history afresh and records no transitions. `engine` runs the SQL (`measures.engines`)."""
    s = settings
    now_us = micros(now)
    now_day = now_us // US_PER_DAY
    time_travel = previous_now is not None and previous_now > now_us
    use_previous = previous is not None and not time_travel
    con = engine.open(acts, "acts_src", threads)
    try:
        con.register("weights", weights_table(s))
        con.register("flags", flags if flags is not None else empty(FLAGS_SCHEMA))
        con.register("acted", acted if acted is not None else empty(ACTED_SCHEMA))
        con.register("prev", previous if use_previous else empty(PREVIOUS_SCHEMA))
        con.register("verb_levels", ladder.verb_levels(s.ladder))
        _define_activities(con, now_us, s)
        summary_parts = _aggregate(con, now_us, now_day, s)
        return _finish(con, now_us, now_day, s, use_previous, time_travel, summary_parts)
    finally:
        con.close()


def _define_activities(con: SqlRunner, now_us: int, s: MeasureSettings) -> None:
    """Table `acts_in`: activities up to `now` of people the measures count, with their resolved
    weight `w`, age in days and UTC day number. Materialized once: every measure reads it, and
    scanning a Parquet dataset again per measure (the ladder's share
    window above all) is many times slower."""
    con.create(
        "acts_in",
        f"""SELECT a.occurred_at, a.person_id, a.target_id, a.verb, a.direction, a.channel,
               coalesce(a.weight, wt.w, {default_weight_sql("a.direction", s.warmth, s.ledger)})
                 AS w,
               ({now_us} - a.occurred_at) / {float(US_PER_DAY)!r} AS age,
               {decay_sql(f"({now_us} - a.occurred_at) / {float(US_PER_DAY)!r}", s.warmth)} AS dk,
               a.occurred_at // {US_PER_DAY} AS day
        FROM acts_src a
        LEFT JOIN weights wt ON wt.direction = a.direction AND wt.verb = a.verb
        WHERE a.occurred_at <= {now_us}
          AND NOT EXISTS (SELECT 1 FROM flags f WHERE f.person_id = a.person_id
                          AND (f.team OR f.bot OR f.erased))""",
    )


@dataclass(frozen=True)
class _NetworkParts:
    """What `_aggregate` finds about the whole network, for `_finish`."""

    network_cadence: float  # days: the median cadence, or the default with too few people
    share: ShareRatio


def _aggregate(con: SqlRunner, now_us: int, now_day: int, s: MeasureSettings) -> _NetworkParts:
    """The per-person tables every score is made of (`agg`, `ch`, `person_days`, `rh`,
    `reached`, `st`), and the network's cadence and share ratio."""
    _sums(con, now_us, s)
    _channels(con, s)
    con.create("person_days", rhythm.person_days_sql(now_day, s.rhythm))
    con.create("rh", rhythm.rhythm_sql(now_day, s.rhythm))
    lad = s.ladder
    con.create(
        "reached",
        ladder.reached_sql(
            now_us, lad.window_days * US_PER_DAY, lad.engagement_days * US_PER_DAY, lad
        ),
    )
    con.create("st", ladder.stage_sql())
    lg, rh = s.ledger, s.rhythm
    cadence = con.row("SELECT median(cadence_days) FROM rh")
    share = con.row(
        f"""SELECT count(*) FILTER (WHERE direction = 'give'),
                  count(*) FILTER (WHERE direction = 'ask')
        FROM acts_in WHERE direction IN ('give', 'ask') AND age < {lg.share_ratio_days}"""
    )
    return _NetworkParts(
        float(cadence[0]) if cadence[0] is not None else rh.default_cadence_days,
        ShareRatio(lg.share_ratio_days, int(share[0]), int(share[1]), lg.share_ratio_target),
    )


def _sums(con: SqlRunner, now_us: int, s: MeasureSettings) -> None:
    """Table `agg`: per person, their first and last times, counts and decayed sums (warmth's
    base now and `drift_lookback_days` ago, the ledger's gives and asks)."""
    w, lg = s.warmth, s.ledger
    back = float(s.rhythm.drift_lookback_days)
    observer_verbs = ", ".join(f"'{v}'" for v in s.circles.observer_verbs) or "NULL"
    # the nurture queue's returns compare a person's first visit of its window with this
    before_window = now_us - s.nurture.window_days * US_PER_DAY
    con.create(
        "agg",
        f"""SELECT person_id,
          min(occurred_at) AS first_at,
          max(occurred_at) AS last_at,
          count(*) FILTER (WHERE direction = 'in') AS n_in,
          count(*) FILTER (WHERE direction = 'in' AND verb NOT IN ({observer_verbs}))
            AS n_in_active,
          max(occurred_at) FILTER (WHERE direction = 'in') AS last_in_at,
          max(occurred_at) FILTER (WHERE direction = 'in' AND occurred_at <= {before_window})
            AS last_in_before_window,
          sum(w * dk) FILTER (WHERE direction = 'in') AS warmth_base,
          sum(w * {decay_sql(f"age - {back!r}", w)})
            FILTER (WHERE direction = 'in' AND age >= {back!r}) AS warmth_base_before,
          coalesce(sum(w) FILTER (WHERE direction = 'give'), 0) AS given,
          coalesce(sum(w * dk) FILTER (WHERE direction = 'give'), 0) AS given_decayed,
          coalesce(sum(w) FILTER (WHERE direction = 'ask'), 0) AS asked,
          coalesce(sum(w * dk) FILTER (WHERE direction = 'ask'), 0) AS asked_decayed,
          count(*) FILTER (WHERE direction = 'ask' AND age < {lg.ask_cooldown_days}) AS asks_recent,
          count(*) FILTER (WHERE direction = 'ask' AND age < {lg.max_asks_days}) AS asks_year,
          max(occurred_at) FILTER (WHERE direction = 'ask') AS last_ask_at
        FROM acts_in GROUP BY person_id""",
    )


def _channels(con: SqlRunner, s: MeasureSettings) -> None:
    """Table `ch`: per person, the channels they came toward us on lately (multiplexity), now
    and `drift_lookback_days` ago."""
    m = s.warmth.multiplexity_days
    back = float(s.rhythm.drift_lookback_days)
    con.create(
        "ch",
        f"""SELECT person_id,
          count(*) FILTER (WHERE recent) AS channels,
          count(*) FILTER (WHERE before) AS channels_before
        FROM (SELECT person_id, channel, bool_or(age < {m}) AS recent,
                     bool_or(age >= {back!r} AND age < {back + m!r}) AS before
              FROM acts_in WHERE direction = 'in' AND channel IS NOT NULL
              GROUP BY person_id, channel)
        GROUP BY person_id""",
    )


def _finish(
    con: SqlRunner,
    now_us: int,
    now_day: int,
    s: MeasureSettings,
    use_previous: bool,
    time_travel: bool,
    parts: _NetworkParts,
) -> NetworkScores:
    """Everyone's scores from `_aggregate`'s tables: warmth, rhythm, circles (with their
    history), stages and the ledger's rule; the transitions and the summary."""
    _base(con, now_us, now_day, s, parts.network_cadence)
    ranked = _circles(con, now_us, s, use_previous)
    scores = _scores(con, s, ranked.warm_median)
    transitions = _transitions(con, now_us, record=not time_travel)
    counts = {
        name: _counts(scores, name, order)
        for name, order in (("circle", Circle), ("status", RhythmStatus), ("stage", Stage))
    }
    summary = NetworkSummary(
        now=now_us,
        people=scores.num_rows,
        ranked=ranked.n,
        cuts=ranked.cuts,
        network_cadence=parts.network_cadence,
        warmth_before_median=float(ranked.warm_median),
        share=parts.share,
        by_circle=counts["circle"],
        by_status=counts["status"],
        by_stage=counts["stage"],
    )
    set_apart = con.arrow(circles.set_apart_sql()).cast(PREVIOUS_SCHEMA)
    return NetworkScores(scores, transitions, summary, set_apart)


def _base(
    con: SqlRunner, now_us: int, now_day: int, s: MeasureSettings,
    network_cadence: float,
) -> None:  # fmt: skip
    """Table `base`: per person, every value the circles, the rhythm and the ledger's rule
    are decided from."""
    w, c = s.warmth, s.circles
    newcomer_us = c.newcomer_days * US_PER_DAY
    con.create(
        "base",
        f"""SELECT g.person_id, g.first_at, g.last_at, g.last_in_at,
          g.last_in_before_window, g.n_in,
          coalesce(g.warmth_base, 0) * {multiplexity_sql("coalesce(ch.channels, 0)", w)} AS warmth,
          coalesce(g.warmth_base, 0) AS warmth_base,
          {multiplexity_sql("coalesce(ch.channels, 0)", w)} AS multiplexity,
          coalesce(ch.channels, 0)::INTEGER AS channels,
          coalesce(g.warmth_base_before, 0)
            * {multiplexity_sql("coalesce(ch.channels_before, 0)", w)} AS warmth_before,
          ({now_day} - g.first_at // {US_PER_DAY})::INTEGER AS tenure_days,
          ({now_day} - g.last_in_at // {US_PER_DAY})::INTEGER AS silence_days,
          coalesce(r.presence_30, 0)::INTEGER AS presence_30,
          coalesce(r.presence_90, 0)::INTEGER AS presence_90,
          coalesce(r.presence_365, 0)::INTEGER AS presence_365,
          r.cadence_days::DOUBLE AS cadence_days,
          coalesce(r.cadence_days, {network_cadence!r})::DOUBLE AS cadence_used,
          g.given, g.asked, g.given - g.asked AS balance,
          g.given_decayed - g.asked_decayed AS balance_decayed,
          g.asks_recent::INTEGER AS asks_recent, g.asks_year::INTEGER AS asks_year,
          g.last_ask_at, coalesce(f.do_not_contact, false) AS do_not_contact,
          g.n_in > 0 AND {now_us} - g.first_at < {newcomer_us} AS newcomer,
          g.n_in > 0 AND g.n_in_active = 0 AS observer,
          st.stage, st.stage_at
        FROM agg g
        LEFT JOIN ch USING (person_id) LEFT JOIN rh r USING (person_id)
        LEFT JOIN st USING (person_id) LEFT JOIN flags f USING (person_id)""",
    )


@dataclass(frozen=True)
class _Ranked:
    n: int  # people ranked by warmth into the circles
    cuts: tuple[int, int, int]
    warm_median: Any  # the median warmth `drift_lookback_days` ago (of those with some)


def _circles(con: SqlRunner, now_us: int, s: MeasureSettings, use_previous: bool) -> _Ranked:
    """Tables `ranked` (warmth order of the people circles rank), `raw` (each person's circle
    by the cuts alone) and `held` (with the demotion hold and the previous history)."""
    c = s.circles
    eligible = f"n_in >= {c.min_activities} AND NOT newcomer AND NOT observer"
    con.create(
        "ranked",
        f"""SELECT person_id,
          row_number() OVER (ORDER BY warmth DESC, person_id) AS pos
        FROM base WHERE {eligible}""",
    )
    n_ranked = _scalar(con, "SELECT count(*) FROM ranked")
    cuts = circles.sizes(n_ranked, c)
    warm_median = _scalar(
        con, "SELECT coalesce(median(warmth_before), 0) FROM base WHERE warmth_before > 0"
    )
    raw = circles.raw_circle_sql("k.pos", "b.n_in", "b.newcomer", "b.observer", cuts, c)
    con.create(
        "raw",
        f"""SELECT b.person_id, k.pos, {raw} AS raw_circle
        FROM base b LEFT JOIN ranked k USING (person_id)""",
    )
    hold_us = c.demotion_hold_days * US_PER_DAY
    con.create("held", circles.history_sql(now_us, hold_us, use_previous))
    return _Ranked(n_ranked, cuts, warm_median)


def _scores(con: SqlRunner, s: MeasureSettings, warm_median: Any) -> pa.Table:
    """One row per scored person, with every value and its parts (`NetworkScores.scores`)."""
    warm_before = f"(b.warmth_before > 0 AND b.warmth_before >= {warm_median!r})"
    status = rhythm.status_sql("b.silence_days", "b.cadence_used", warm_before, s.rhythm)
    rule = ask_rule_sql(
        "b.do_not_contact", "b.balance_decayed", "b.asks_recent", "b.asks_year", s.ledger
    )
    return con.arrow(
        f"""SELECT b.person_id, b.first_at, b.last_at, b.last_in_at, b.last_in_before_window,
          b.n_in::INTEGER AS n_in,
          b.warmth, b.warmth_base, b.multiplexity, b.channels, b.warmth_before,
          b.tenure_days, b.silence_days, b.presence_30, b.presence_90, b.presence_365,
          b.cadence_days, b.cadence_used, {status} AS status,
          r.pos::INTEGER AS warmth_rank, r.raw_circle, h.circle, h.circle_since,
          h.pending_circle, h.pending_since, b.stage, b.stage_at,
          b.given, b.asked, b.balance, b.balance_decayed, b.asks_recent, b.asks_year,
          b.last_ask_at, {rule} IS NULL AS ask_ready, {rule} AS ask_rule
        FROM base b JOIN raw r USING (person_id) JOIN held h USING (person_id)
        ORDER BY b.person_id"""
    )


def _transitions(con: SqlRunner, now_us: int, *, record: bool) -> pa.Table:
    """A row per person whose stage changed since the previous rescore: promotions are dated
    when the new stage was first reached, demotions (aged out of the window) at `now`.
    None when rescoring at an earlier time than the last rescore (history is not rewritten)."""
    levels = " ".join(f"WHEN '{st}' THEN {i}" for st, i in ladder.LEVEL.items())
    return con.arrow(
        f"""SELECT b.person_id, p.stage AS from_stage, b.stage AS to_stage,
          CASE WHEN p.stage IS NULL OR (CASE b.stage {levels} END) > (CASE p.stage {levels} END)
               THEN b.stage_at ELSE {now_us} END AS at
        FROM base b LEFT JOIN prev p USING (person_id)
        WHERE b.stage IS NOT NULL AND b.stage IS DISTINCT FROM p.stage AND {record}
        ORDER BY b.person_id"""
    )


def _counts(scores: pa.Table, column: str, order: type[StrEnum]) -> dict[str, int]:
    """People per value of `column`, in the vocabulary's order (core first, active first...)."""
    counted = pc.value_counts(scores.column(column).drop_null()).to_pylist()
    found = {str(c["values"]): int(c["counts"]) for c in counted}
    return {k.value: found[k] for k in order if k in found}


def _scalar(con: SqlRunner, sql: str) -> Any:
    return con.row(sql)[0]
