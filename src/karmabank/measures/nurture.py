"""The nurture queue's rules (PRODUCT.md §4), pure: who deserves which good thing today.

`candidates` finds every item any rule asks for; `choose` (`measures.nurture_choice`) keeps the
best one per person, drops what was done, skipped or is still snoozed, spreads the rest across
circles and cuts to the limit; `queue` does both in one statement. A rescore keeps, per person,
what the rules filter on (`snapshot_parts`), and the `Pool` of people they may concern. Kinds,
and what satisfies them (so they leave the queue without anyone clicking):

| kind | when | satisfied by |
|---|---|---|
| thank_ask | acted on an ask, not thanked yet | the ask's thank (`nurture done`) |
| reply | a comment/mention/reply toward us in the window | a `reply` give after it |
| thank | inbound worth ≥ `thank_min_weight` in the window | a `thank` or `reply` after it |
| check_in | `drifting` and in core or allies (never `resting`) | any give in the cooldown |
| welcome_back | back after ≥ max(welcome_back_days, 4 × cadence) silent | a `welcome` after |
| celebrate | a tenure anniversary or a ladder promotion in the window | done once per milestone |
| share | their recent content (with a URL) matches an issue | a `share` give after it |
| welcome | a newcomer never welcomed | a `welcome` give, ever |

Never for do-not-contact, erased, team or bot people.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from karmabank.frames import US_PER_DAY, ParquetFiles, engine_over, micros
from karmabank.measures.nurture_choice import (
    CANDIDATE_SCHEMA,
    HANDLED_SCHEMA,
    as_candidates,
    choose,
    choose_in,
)
from karmabank.measures.settings import MeasureSettings

__all__ = [
    "ASKS_SCHEMA", "CANDIDATE_SCHEMA", "GIVES", "GIVE_VERBS", "HANDLED_SCHEMA", "MATCHES_SCHEMA",
    "SCORES_SCHEMA", "TRANSITIONS_SCHEMA", "Pool", "candidates", "choose", "concerned_column",
    "concerned_sql", "pool_since", "promoted", "queue", "snapshot_parts",
]  # fmt: skip

# Our last give of each kind to a person, and the verbs that count as one: what each rule asks.
GIVES = {
    "reply_at": "verb = 'reply'",
    "thank_at": "verb IN ('thank', 'reply')",
    "welcome_at": "verb = 'welcome'",
    "share_at": "verb = 'share'",
    "any_at": "true",
}
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
_STAGE_LEVEL = "CASE {} WHEN 'aware' THEN 1 WHEN 'engaged' THEN 2 WHEN 'participant' THEN 3 " \
    "WHEN 'advocate' THEN 4 WHEN 'leader' THEN 5 END"  # fmt: skip


def promoted(from_stage: str, to_stage: str) -> str:
    """SQL (any engine): the ladder transition from `from_stage` to `to_stage` is a promotion."""
    return f"({_STAGE_LEVEL.format(to_stage)}) > ({_STAGE_LEVEL.format(from_stage)})"


def concerned_column(settings: MeasureSettings) -> str:
    """The snapshot column a rescore adds for the queue: `concerned_sql` computed for its
    settings (the window is in the name, so a queue with another window does not use it)."""
    return f"nurture_concerned_{int(settings.nurture.window_days)}"


def concerned_sql(settings: MeasureSettings) -> str:
    """The people some rule may concern whatever they did lately, from their scores alone:
    drifting core and allies (check-in), newcomers (welcome), tenure anniversaries (celebrate).
    The rescore stores it per person, so the queue reads a boolean instead of three strings
    and a number for each of a million people."""
    return f"""((status = 'drifting' AND circle IN ('core', 'allies')) OR circle = 'newcomers'
        OR ({anniversary_sql("circle", "tenure_days", settings)}))"""


def anniversary_sql(circle: str, tenure_days: str, settings: MeasureSettings) -> str:
    """SQL: a tenure anniversary falls in the window. Only for people who came toward us:
    someone we only gave to or asked has no circle (no inbound activity) and no anniversary
    with us to celebrate."""
    window = int(settings.nurture.window_days)
    return f"""{circle} IS NOT NULL AND {tenure_days} >= 365
        AND {tenure_days} % 365 < {window}"""


def _gives_sql(where: str) -> str:
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
    scores: pa.Table, acts: ParquetFiles | pa.Table, *, now: datetime, settings: MeasureSettings
) -> tuple[pa.Table, pa.Table]:
    """What a rescore at `now` keeps for the queue: (`scores` with, per person, the
    `concerned_column` and our last give of each kind up to `now`, in `scores`' order; the
    `Pool` rows of it, cut at `pool_since`)."""
    import pyarrow.compute as pc

    con = engine_over({"s": scores, "acts": acts})
    try:
        gives = con.sql(_gives_sql(f"occurred_at <= {micros(now)}")).to_arrow_table()
        concerned = con.sql(f"SELECT coalesce({concerned_sql(settings)}, false) FROM s")
        flag = concerned.to_arrow_table().column(0)  # a projection keeps the rows' order
    finally:
        con.close()
    # aligned by position, not joined: no sort of a million wide rows
    at = pc.index_in(scores.column("person_id"), value_set=gives.column("person_id"))
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
            f"WITH {ctes} SELECT * FROM ({_describe('cand')}) ORDER BY priority DESC, key"
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
    """`choose(candidates(...))` in one engine: the day's queue (CANDIDATE_SCHEMA)."""
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
    """The common table expressions (without WITH) that end in `cand`: every rule's items,
    narrow, from the inputs registered in `con`. One statement: the engine keeps what several
    rules read (MATERIALIZED) for less than temporary tables cost."""
    ctes: list[str] = []

    def keep(name: str, sql: str, shared: bool = True) -> None:
        ctes.append(f"{name} AS {'MATERIALIZED ' if shared else ''}({sql})")

    n = settings.nurture
    now_us = micros(now)
    day = US_PER_DAY
    since = now_us - n.window_days * day
    share_since = now_us - n.share_window_days * day
    weights = ", ".join(f"('{v}', {w!r})" for v, w in settings.warmth.weights.items())
    reply_verbs = ", ".join(f"'{v}'" for v in n.reply_verbs) or "NULL"
    # The rescore's `last_in_before_window` answers for returns when its window starts no
    # later than ours; its `last_at` (any activity up to its cutoff) finds who was active.
    before_window = since if scored_at is None else scored_at - n.window_days * day
    known = scored_at is not None and before_window <= since
    in_since = min(since, before_window)  # the rescore's window start when it is known
    # Inbound activity of the window (and, for returns, since the rescore's window), and the
    # recent content an issue matched (inbound or peer): every rule's activities. Simple
    # filters, each part its own: the engine applies them while it reads the files.
    activity = f"""SELECT a.id, a.person_id, a.verb, a.direction, a.channel, a.occurred_at,
               coalesce(a.weight, w.w, {settings.warmth.default_weight!r}) AS w
        FROM acts a LEFT JOIN (VALUES {weights}) w(verb, w) USING (verb)
        WHERE a.occurred_at <= {now_us} AND """
    inbound = f"a.direction = 'in' AND a.occurred_at > {in_since}"
    recent = activity + inbound
    if con.sql("SELECT count(*) FROM matches").fetchall()[0][0]:
        recent += f"""
        UNION ALL {activity} a.direction IN ('in', 'peer') AND a.occurred_at > {share_since}
          AND NOT ({inbound}) AND a.id IN (SELECT activity_id FROM matches)"""
    keep("recent", recent)
    # Every rule reads the few people it can concern: read them once, keep them. The rescore's
    # pool holds them all when its cut is no later than this queue's; then only the people met
    # elsewhere (active after the rescore, promoted, acted on an ask) are looked up outside it.
    active_since = min(in_since, share_since)
    stored = concerned_column(settings)
    has_stored = stored in con.sql("SELECT * FROM all_scores LIMIT 0").columns
    concerned = stored if has_stored else concerned_sql(settings)
    names = ", ".join(SCORES_SCHEMA.names)
    if scored_at is None:
        keep(
            "scores",
            f"""SELECT {names} FROM all_scores s
            WHERE {concerned} OR person_id IN (SELECT person_id FROM recent UNION
                SELECT person_id FROM transitions UNION SELECT person_id FROM asks)""",
        )
    else:
        keep(
            "met",
            f"""SELECT person_id FROM recent WHERE occurred_at > {scored_at}
            UNION SELECT person_id FROM transitions UNION SELECT person_id FROM asks""",
        )
        pooled = pool is not None and has_stored and pool.since <= active_since
        outside = f"""UNION ALL SELECT {names} FROM all_scores WHERE person_id IN (
                SELECT person_id FROM met EXCEPT SELECT person_id FROM pool)"""
        keep(
            "scores",
            f"""SELECT {names} FROM {"pool" if pooled else "all_scores"} s
            WHERE {concerned} OR s.last_at > {active_since}
               OR person_id IN (SELECT person_id FROM met)
            {outside if pooled else ""}""",
        )
    # Our last gives to each person, by what they satisfy (one row per person): the rescore's
    # up to its cutoff and those since, when the queue is not earlier; else all of them.
    if scored_at is not None and scored_at <= now_us:
        keep("given_since", _gives_sql(f"occurred_at > {scored_at} AND occurred_at <= {now_us}"))
        kept = ", ".join(f"gave_{n} AS {n}" for n in GIVES)
        latest = ", ".join(f"greatest(g.{n}, s.gave_{n}) AS {n}" for n in GIVES)
        gives = f"""SELECT person_id, {kept} FROM scores
            WHERE gave_any_at IS NOT NULL
              AND person_id NOT IN (SELECT person_id FROM given_since)
            UNION ALL
            SELECT g.person_id, {latest} FROM given_since g LEFT JOIN scores s USING (person_id)"""
    else:
        gives = _gives_sql(f"occurred_at <= {now_us}")
    keep("gives", gives)
    # A return: someone's first inbound activity of the window, after their last one before
    # the window. (Silence counted inside the window would be < window_days, and
    # welcome_back_days is longer: a settings check keeps it so.) The last one before the
    # window: the rescore's, plus what came between its cutoff and ours; else a full scan.
    previous = (
        f"""SELECT person_id, max(last_in) AS prev_at FROM (
              SELECT person_id, last_in_before_window AS last_in FROM scores
              WHERE person_id IN (SELECT person_id FROM recent WHERE direction = 'in')
              UNION ALL
              SELECT person_id, occurred_at FROM recent
              WHERE direction = 'in' AND occurred_at <= {since})
            GROUP BY person_id"""
        if known
        else f"""SELECT person_id, max(occurred_at) AS prev_at FROM acts
            WHERE direction = 'in' AND occurred_at <= {since}
              AND person_id IN (SELECT person_id FROM recent WHERE direction = 'in')
            GROUP BY person_id"""
    )
    keep(
        "back",
        f"""SELECT f.id, p.prev_at
        FROM (SELECT arg_min(id, occurred_at) AS id, person_id FROM recent
              WHERE direction = 'in' AND occurred_at > {since} GROUP BY person_id) f
        JOIN ({previous}) p USING (person_id)
        WHERE p.prev_at IS NOT NULL""",
    )
    p = n.priorities

    def not_given(column: str, at: str) -> str:
        return f"coalesce(g.{column}, -1) < {at}"

    # Each rule's items, narrow: what the choice needs. Only the chosen few are described
    # (`_describe`: channel, give verb and the reason's detail), from the same tables.
    rows = f"""
    SELECT 'reply:' || r.id AS key, 'reply' AS kind, r.person_id, r.id AS activity_id,
           NULL::BIGINT AS ask_id, NULL::BIGINT AS issue_id, {p["reply"]!r} AS base,
           NULL::VARCHAR AS note
    FROM recent r LEFT JOIN gives g USING (person_id)
    WHERE r.direction = 'in' AND r.occurred_at > {since} AND r.verb IN ({reply_verbs})
      AND {not_given("reply_at", "r.occurred_at")}
    UNION ALL
    SELECT 'thank:' || r.id, 'thank', r.person_id, r.id, NULL, NULL, {p["thank"]!r}, NULL
    FROM recent r LEFT JOIN gives g USING (person_id)
    WHERE r.direction = 'in' AND r.occurred_at > {since} AND r.w >= {n.thank_min_weight!r}
      AND {not_given("thank_at", "r.occurred_at")}
    UNION ALL
    SELECT 'welcome_back:' || r.id, 'welcome_back', r.person_id, r.id, NULL, NULL,
           {p["welcome_back"]!r}, NULL
    FROM recent r JOIN back b USING (id) JOIN scores s USING (person_id)
         LEFT JOIN gives g USING (person_id)
    WHERE r.occurred_at - b.prev_at >= {day} * greatest({n.welcome_back_days},
              {settings.rhythm.resting_factor!r} * s.cadence_used)
      AND {not_given("welcome_at", "r.occurred_at")}
    UNION ALL
    SELECT 'share:' || r.id || ':' || m.issue_id, 'share', r.person_id, r.id, NULL,
           m.issue_id, {p["share"]!r} + m.affinity, NULL
    FROM recent r JOIN matches m ON m.activity_id = r.id LEFT JOIN gives g USING (person_id)
    WHERE r.occurred_at > {share_since} AND m.affinity > 0
      AND {not_given("share_at", "r.occurred_at")}
    UNION ALL
    SELECT 'thank_ask:' || k.ask_id, 'thank_ask', k.person_id, NULL, k.ask_id, NULL,
           {p["thank_ask"]!r}, NULL
    FROM asks k
    UNION ALL
    SELECT 'check_in:' || s.person_id || ':' || strftime(make_timestamp({now_us}), '%Y-%m'),
           'check_in', s.person_id, NULL, NULL, NULL, {p["check_in"]!r}, NULL
    FROM scores s LEFT JOIN gives g USING (person_id)
    WHERE s.status = 'drifting' AND s.circle IN ('core', 'allies')
      AND coalesce(g.any_at, -1) <= {now_us - n.check_in_cooldown_days * day}
    UNION ALL
    SELECT 'celebrate:' || s.person_id || ':tenure-' || (s.tenure_days // 365),
           'celebrate', s.person_id, NULL, NULL, NULL, {p["celebrate"]!r},
           'tenure ' || (s.tenure_days // 365)
    FROM scores s
    WHERE {anniversary_sql("s.circle", "s.tenure_days", settings)}
    UNION ALL
    SELECT 'celebrate:' || t.person_id || ':stage-' || t.to_stage, 'celebrate', t.person_id,
           NULL, NULL, NULL, {p["celebrate"]!r}, 'stage ' || t.to_stage
    FROM transitions t
    WHERE t.at > {since} AND t.at <= {now_us} AND t.from_stage IS NOT NULL
      AND {promoted("t.from_stage", "t.to_stage")}
    UNION ALL
    SELECT 'welcome:' || s.person_id, 'welcome', s.person_id, NULL, NULL, NULL,
           {p["welcome"]!r}, NULL
    FROM scores s LEFT JOIN gives g USING (person_id)
    WHERE s.circle = 'newcomers' AND g.welcome_at IS NULL
    """
    keep(
        "cand",
        f"""SELECT c.key, c.kind, c.person_id, c.activity_id, c.ask_id, c.issue_id,
               c.base + least(coalesce(s.warmth, 0), 100) / 100.0 AS priority, s.circle, c.note
        FROM ({rows}) c LEFT JOIN scores s USING (person_id)
        -- never for people we must not (or cannot) contact, whatever rule asked
        WHERE c.person_id NOT IN (SELECT person_id FROM flags WHERE person_id IS NOT NULL
                                  AND (team OR bot OR erased OR do_not_contact))""",
        shared=False,
    )
    return ", ".join(ctes)


# What each kind's `done` records.
GIVE_VERBS = {"reply": "reply", "thank": "thank", "welcome_back": "welcome", "share": "share",
              "thank_ask": "thank", "check_in": "check_in", "celebrate": "celebrate",
              "welcome": "welcome"}  # fmt: skip


def _describe(items: str) -> str:
    """CANDIDATE_SCHEMA rows of the narrow `items`: what the reason needs (`detail`: the
    activity's verb and time, the days of silence, the issue's terms, the campaign, the
    circle, the years or the stage, the days since first seen), the channel, the give verb."""
    verbs = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in GIVE_VERBS.items())
    return f"""SELECT c.key, c.kind, c.person_id, c.activity_id, c.ask_id, c.issue_id,
           c.priority, CASE c.kind {verbs} END AS give_verb,
           CASE WHEN c.activity_id IS NOT NULL THEN r.channel END AS channel, c.circle,
           CASE c.kind
             WHEN 'reply' THEN r.verb || ' ' || r.occurred_at
             WHEN 'thank' THEN r.verb || ' ' || r.occurred_at
             WHEN 'welcome_back' THEN ((r.occurred_at - b.prev_at) // {US_PER_DAY})::VARCHAR
                                      || ' ' || r.verb
             WHEN 'share' THEN m.terms
             WHEN 'thank_ask' THEN k.campaign
             WHEN 'check_in' THEN s.circle
             WHEN 'welcome' THEN s.tenure_days::VARCHAR
             ELSE c.note END AS detail
        FROM {items} c
        LEFT JOIN recent r ON r.id = c.activity_id
        LEFT JOIN back b ON b.id = c.activity_id AND c.kind = 'welcome_back'
        LEFT JOIN matches m ON m.activity_id = c.activity_id AND m.issue_id = c.issue_id
        LEFT JOIN asks k ON k.ask_id = c.ask_id
        LEFT JOIN scores s ON s.person_id = c.person_id AND c.kind IN ('check_in', 'welcome')"""


# The narrow columns an item's key holds (see `_find`): `<kind>:<activity>` for reply, thank
# and welcome_back, `share:<activity>:<issue>`, `thank_ask:<ask>`, `check_in:<person>:<month>`,
# `celebrate:<person>:tenure-<years>` or `:stage-<stage>`, `welcome:<person>`.
_KEY_PARTS = """CASE WHEN kind IN ('reply', 'thank', 'welcome_back', 'share')
         THEN split_part(key, ':', 2)::BIGINT END AS activity_id,
    CASE WHEN kind = 'thank_ask' THEN split_part(key, ':', 2)::BIGINT END AS ask_id,
    CASE WHEN kind = 'share' THEN split_part(key, ':', 3)::BIGINT END AS issue_id,
    CASE WHEN kind = 'celebrate'
         THEN regexp_replace(split_part(key, ':', 3), '-', ' ') END AS note"""


def _describe_chosen(chosen: str) -> str:
    kinds = f"(SELECT *, split_part(key, ':', 1) AS kind FROM {chosen})"
    return _describe(f"(SELECT *, {_KEY_PARTS} FROM {kinds})")
