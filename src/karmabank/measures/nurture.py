"""The nurture queue (PRODUCT.md §4), pure: who deserves which good thing today.

The rules themselves, one per kind of item, are a table: `measures.nurture_rules` (docs/nurture.md
lists them for users). Here, what they share: `candidates` finds every item any rule asks for;
`choose` (`measures.nurture_choice`) keeps the best one per person, drops what was done, skipped
or is still snoozed, spreads the rest across circles and cuts to the limit; `queue` does both in
one statement. A rescore keeps, per person, what the rules filter on (`snapshot_parts`), and the
`Pool` of people they may concern. Never for do-not-contact, erased, team or bot people.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from karmabank.frames import US_PER_DAY, ParquetFiles, engine_over, micros
from karmabank.measures.engines import DUCKDB, SqlEngine
from karmabank.measures.nurture_choice import (
    CANDIDATE_SCHEMA,
    HANDLED_SCHEMA,
    as_candidates,
    choose,
    choose_in,
)
from karmabank.measures.nurture_rules import (
    GIVES,
    Window,
    concerned_sql,
    decode_sql,
    describe_sql,
    items_sql,
)
from karmabank.measures.settings import MeasureSettings

__all__ = [
    "ASKS_SCHEMA", "CANDIDATE_SCHEMA", "HANDLED_SCHEMA", "MATCHES_SCHEMA", "SCORES_SCHEMA",
    "TRANSITIONS_SCHEMA", "Pool", "candidates", "choose", "concerned_column", "gives_sql",
    "pool_since", "queue", "snapshot_parts",
]  # fmt: skip

SCORES_SCHEMA = pa.schema(
    [("person_id", pa.int64()), ("circle", pa.string()), ("status", pa.string()),
     ("warmth", pa.float64()), ("tenure_days", pa.int32()), ("cadence_used", pa.float64()),
     ("last_in_before_window", pa.int64()), ("last_at", pa.int64()),
     *((f"gave_{name}", pa.int64()) for name in GIVES)]
)  # fmt: skip
TRANSITIONS_SCHEMA = pa.schema(
    [("person_id", pa.int64()), ("from_stage", pa.string()), ("to_stage", pa.string()),
     ("at", pa.int64())]
)  # fmt: skip
ASKS_SCHEMA = pa.schema(
    [("ask_id", pa.int64()), ("person_id", pa.int64()), ("acted_at", pa.int64()),
     ("campaign", pa.string())]
)  # fmt: skip
MATCHES_SCHEMA = pa.schema(
    [("activity_id", pa.int64()), ("issue_id", pa.int64()), ("affinity", pa.float64()),
     ("terms", pa.string())]
)  # fmt: skip


def concerned_column(settings: MeasureSettings) -> str:
    """The snapshot column a rescore adds for the queue: `concerned_sql` computed for its
    settings (the window is in the name, so a queue with another window does not use it)."""
    return f"nurture_concerned_{int(settings.nurture.window_days)}"


def gives_sql(where: str) -> str:
    """Our last give of each kind (GIVES) to each person, among the activities `where` says."""
    last = ", ".join(f"max(occurred_at) FILTER (WHERE {c}) AS {n}" for n, c in GIVES.items())
    return f"""SELECT person_id, {last} FROM acts
        WHERE direction = 'give' AND {where} GROUP BY person_id"""


def pool_since(settings: MeasureSettings, scored_at: int) -> int:
    """Who was active after this (µs) is in the pool of a rescore at `scored_at`: any window a
    queue at or after `scored_at` looks at starts later."""
    n = settings.nurture
    return scored_at - max(n.window_days, n.share_window_days) * US_PER_DAY


@dataclass(frozen=True)
class Pool:
    """The snapshot's rows some rule may concern at any time from the rescore on: the people
    the stored `concerned_column` marks, and everyone whose last activity is after `since`
    (µs). A queue reads them instead of the million rows, plus the few people it meets
    elsewhere (activity after the rescore, a promotion, an ask acted on)."""

    rows: ParquetFiles | pa.Table
    since: int


def snapshot_parts(
    scores: pa.Table, acts: ParquetFiles | pa.Table, *, now: datetime, settings: MeasureSettings,
    engine: SqlEngine = DUCKDB,
) -> tuple[pa.Table, pa.Table]:
    """What a rescore at `now` keeps for the queue: (`scores` with, per person, the
    `concerned_column` and our last give of each kind up to `now`, in `scores`' order; the
    `Pool` rows of it, cut at `pool_since`). Its two queries run on `engine`, the rescore's
    (`measures.engines`: DuckDB here, or Spark over the same Parquet files)."""
    import pyarrow.compute as pc

    con = engine.open(acts, "acts")
    try:
        con.register("s", scores)
        gives = con.arrow(gives_sql(f"occurred_at <= {micros(now)}"))
        concerned = con.arrow(
            f"SELECT person_id, coalesce({concerned_sql(settings)}, false) AS concerned FROM s"
        )
    finally:
        con.close()
    # aligned by person, not joined: no sort of a million wide rows (an engine need not keep
    # the rows' order)
    person = scores.column("person_id")
    flag = pc.take(concerned.column("concerned"),
                   pc.index_in(person, value_set=concerned.column("person_id")))  # fmt: skip
    at = pc.index_in(person, value_set=gives.column("person_id"))
    snapshot = scores.append_column(concerned_column(settings), flag)
    for name in GIVES:
        snapshot = snapshot.append_column(f"gave_{name}", pc.take(gives.column(name), at))
    recent = pc.greater(snapshot.column("last_at"), pool_since(settings, micros(now)))
    return snapshot, snapshot.filter(pc.or_kleene(flag, recent))


def candidates(
    acts: ParquetFiles | pa.Table, *, now: datetime, settings: MeasureSettings,
    scores: ParquetFiles | pa.Table, flags: pa.Table, transitions: pa.Table, asks: pa.Table,
    matches: pa.Table, scored_at: int | None = None, pool: Pool | None = None,
) -> pa.Table:  # fmt: skip
    """Every item some rule asks for at `now` (CANDIDATE_SCHEMA), before choosing, most
    pressing first.

    `scored_at` (µs) is the cutoff of the rescore that made `scores`: its `last_at` is each
    person's last activity up to it, and `last_in_before_window` their last inbound activity
    at or before `scored_at - window_days`, and its `gave_*` our last gives up to it. None when
    unknown: then the people a rule concerns are found through the window's activities, and
    returns and gives by scanning every activity. `pool`, when given, is the rescore's: its
    rows replace the million when it holds everyone this queue needs. Either way, the same
    items."""
    con = _engine(acts, scores, flags, transitions, asks, matches, None, pool)
    try:
        ctes = _find(con, now, settings, scored_at, pool)
        rel = con.sql(
            f"WITH {ctes} SELECT * FROM ({describe_sql('cand')}) ORDER BY priority DESC, key"
        )
        return as_candidates(rel.to_arrow_table())
    finally:
        con.close()


def queue(
    acts: ParquetFiles | pa.Table, *, now: datetime, settings: MeasureSettings,
    scores: ParquetFiles | pa.Table, flags: pa.Table, transitions: pa.Table, asks: pa.Table,
    matches: pa.Table, handled: pa.Table, limit: int, scored_at: int | None = None,
    pool: Pool | None = None,
) -> pa.Table:  # fmt: skip
    """`choose(candidates(...))` in one engine: the day's queue (CANDIDATE_SCHEMA). Per-channel
    opt-outs are applied to the chosen few by the caller (an item on a channel its person
    opted out of goes through another of theirs, `actions.opt_outs.Consent`); those opted out
    of every channel they have come in `flags` as do-not-contact."""
    con = _engine(acts, scores, flags, transitions, asks, matches, handled, pool)
    try:
        ctes = _find(con, now, settings, scored_at, pool)
        return choose_in(con, ctes, now, limit, _describe_chosen)
    finally:
        con.close()


def _engine(
    acts: ParquetFiles | pa.Table, scores: ParquetFiles | pa.Table, flags: pa.Table,
    transitions: pa.Table, asks: pa.Table, matches: pa.Table, handled: pa.Table | None,
    pool: Pool | None,
) -> duckdb.DuckDBPyConnection:  # fmt: skip
    inputs = {"acts": acts, "all_scores": scores, "flags": flags, "transitions": transitions,
              "asks": asks, "matches": matches}  # fmt: skip
    if handled is not None:
        inputs["handled"] = handled
    if pool is not None:
        inputs["pool"] = pool.rows
    return engine_over(inputs)


def _find(
    con: duckdb.DuckDBPyConnection, now: datetime, settings: MeasureSettings,
    scored_at: int | None, pool: Pool | None = None,
) -> str:  # fmt: skip
    """The common table expressions (without WITH) that end in `cand`: every rule's items
    (`nurture_rules.items_sql`), narrow, from the inputs registered in `con`. One statement: the
    engine keeps what several rules read (MATERIALIZED) for less than temporary tables cost."""
    w = Window.at(now, settings)
    # The rescore's `last_in_before_window` answers for returns when its window starts no
    # later than ours; its `last_at` (any activity up to its cutoff) finds who was active.
    window = settings.nurture.window_days * US_PER_DAY
    before_window = w.since if scored_at is None else scored_at - window
    known = scored_at is not None and before_window <= w.since
    in_since = min(w.since, before_window)  # the rescore's window start when it is known
    return ", ".join(
        [
            _cte("recent", _recent(con, w, in_since)),
            *_people(con, w, scored_at, pool, active_since=min(in_since, w.share_since)),
            *_gives(w, scored_at),
            _cte("back", _back(w, known)),
            _cte("cand", _cand(w), shared=False),
        ]
    )


def _cte(name: str, sql: str, shared: bool = True) -> str:
    return f"{name} AS {'MATERIALIZED ' if shared else ''}({sql})"


def _recent(con: duckdb.DuckDBPyConnection, w: Window, in_since: int) -> str:
    """Inbound activity of the window (and, for returns, since the rescore's window), and the
    recent content an issue matched (inbound or peer): every rule's activities. Simple
    filters, each part its own: the engine applies them while it reads the files."""
    s = w.settings
    weights = ", ".join(f"('{v}', {x!r})" for v, x in s.warmth.weights.items())
    activity = f"""SELECT a.id, a.person_id, a.verb, a.direction, a.channel, a.occurred_at,
               coalesce(a.weight, w.w, {s.warmth.default_weight!r}) AS w
        FROM acts a LEFT JOIN (VALUES {weights}) w(verb, w) USING (verb)
        WHERE a.occurred_at <= {w.now} AND """
    inbound = f"a.direction = 'in' AND a.occurred_at > {in_since}"
    recent = activity + inbound
    if con.sql("SELECT count(*) FROM matches").fetchall()[0][0]:
        recent += f"""
        UNION ALL {activity} a.direction IN ('in', 'peer') AND a.occurred_at > {w.share_since}
          AND NOT ({inbound}) AND a.id IN (SELECT activity_id FROM matches)"""
    return recent


def _people(
    con: duckdb.DuckDBPyConnection, w: Window, scored_at: int | None, pool: Pool | None,
    active_since: int,
) -> list[str]:  # fmt: skip
    """`scores`: the few people a rule can concern, read once. The rescore's pool holds them
    all when its cut is no later than this queue's; then only the people met elsewhere (active
    after the rescore, promoted, acted on an ask: `met`) are looked up outside it."""
    stored = concerned_column(w.settings)
    has_stored = stored in con.sql("SELECT * FROM all_scores LIMIT 0").columns
    concerned = stored if has_stored else concerned_sql(w.settings)
    names = ", ".join(SCORES_SCHEMA.names)
    if scored_at is None:
        return [
            _cte(
                "scores",
                f"""SELECT {names} FROM all_scores s
                WHERE {concerned} OR person_id IN (SELECT person_id FROM recent UNION
                    SELECT person_id FROM transitions UNION SELECT person_id FROM asks)""",
            )
        ]
    met = f"""SELECT person_id FROM recent WHERE occurred_at > {scored_at}
        UNION SELECT person_id FROM transitions UNION SELECT person_id FROM asks"""
    pooled = pool is not None and has_stored and pool.since <= active_since
    outside = f"""UNION ALL SELECT {names} FROM all_scores WHERE person_id IN (
            SELECT person_id FROM met EXCEPT SELECT person_id FROM pool)"""
    scores = f"""SELECT {names} FROM {"pool" if pooled else "all_scores"} s
        WHERE {concerned} OR s.last_at > {active_since}
           OR person_id IN (SELECT person_id FROM met)
        {outside if pooled else ""}"""
    return [_cte("met", met), _cte("scores", scores)]


def _gives(w: Window, scored_at: int | None) -> list[str]:
    """`gives`: our last gives to each person, by what they satisfy (one row per person): the
    rescore's up to its cutoff and those since, when the queue is not earlier; else all."""
    if scored_at is None or scored_at > w.now:
        return [_cte("gives", gives_sql(f"occurred_at <= {w.now}"))]
    since = gives_sql(f"occurred_at > {scored_at} AND occurred_at <= {w.now}")
    kept = ", ".join(f"gave_{n} AS {n}" for n in GIVES)
    latest = ", ".join(f"greatest(g.{n}, s.gave_{n}) AS {n}" for n in GIVES)
    gives = f"""SELECT person_id, {kept} FROM scores
        WHERE gave_any_at IS NOT NULL
          AND person_id NOT IN (SELECT person_id FROM given_since)
        UNION ALL
        SELECT g.person_id, {latest} FROM given_since g LEFT JOIN scores s USING (person_id)"""
    return [_cte("given_since", since), _cte("gives", gives)]


def _back(w: Window, known: bool) -> str:
    """`back`: a return, someone's first inbound activity of the window, after their last one
    before the window. (Silence counted inside the window would be < window_days, and
    welcome_back_days is longer: a settings check keeps it so.) The last one before the
    window: the rescore's, plus what came between its cutoff and ours; else a full scan."""
    previous = (
        f"""SELECT person_id, max(last_in) AS prev_at FROM (
              SELECT person_id, last_in_before_window AS last_in FROM scores
              WHERE person_id IN (SELECT person_id FROM recent WHERE direction = 'in')
              UNION ALL
              SELECT person_id, occurred_at FROM recent
              WHERE direction = 'in' AND occurred_at <= {w.since})
            GROUP BY person_id"""
        if known
        else f"""SELECT person_id, max(occurred_at) AS prev_at FROM acts
            WHERE direction = 'in' AND occurred_at <= {w.since}
              AND person_id IN (SELECT person_id FROM recent WHERE direction = 'in')
            GROUP BY person_id"""
    )
    return f"""SELECT f.id, p.prev_at
        FROM (SELECT arg_min(id, occurred_at) AS id, person_id FROM recent
              WHERE direction = 'in' AND occurred_at > {w.since} GROUP BY person_id) f
        JOIN ({previous}) p USING (person_id)
        WHERE p.prev_at IS NOT NULL"""


def _cand(w: Window) -> str:
    """`cand`: each rule's items, narrow (what the choice needs), with their priority (the
    kind's, plus up to 1 for warmth) and circle. Only the chosen few are described
    (`nurture_rules.describe_sql`), from the same tables."""
    return f"""SELECT c.key, c.kind, c.person_id, c.activity_id, c.ask_id, c.issue_id,
           c.base + least(coalesce(s.warmth, 0), 100) / 100.0 AS priority, s.circle, c.note
        FROM ({items_sql(w)}) c LEFT JOIN scores s USING (person_id)
        -- never for people we must not (or cannot) contact, whatever rule asked
        WHERE c.person_id NOT IN (SELECT person_id FROM flags WHERE person_id IS NOT NULL
                                  AND (team OR bot OR erased OR do_not_contact))"""


def _describe_chosen(chosen: str) -> str:
    return describe_sql(decode_sql(chosen))
