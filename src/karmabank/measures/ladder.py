"""The ladder of engagement, awareness → action (PRODUCT.md §3).

Each inbound verb reaches a stage (follow/like: aware; comment/reply/mention/share: engaged;
attend/register/sign/donate: participant; volunteer/organize: leader). `advocate`: acted on an
ask, or shared our content and drew peer engagement (someone replied to / shared / mentioned them)
within `engagement_days`. `leader` too: acted on asks of ≥ `leader_campaigns` campaigns.
A person's stage is the highest reached in the last `window_days`; changes are transitions.
"""

from __future__ import annotations

import pyarrow as pa

from karmabank.measures.settings import LadderSettings
from karmabank.model import Stage

LEVEL: dict[str, int] = {stage: i + 1 for i, stage in enumerate(Stage)}


def stage_of_level_sql(level: str) -> str:
    whens = " ".join(f"WHEN {i} THEN '{s}'" for s, i in LEVEL.items())
    return f"(CASE {level} {whens} END)"


def verb_levels(lad: LadderSettings) -> pa.Table:
    return pa.table(
        {
            "verb": pa.array(list(lad.verbs), pa.string()),
            "level": pa.array([LEVEL[s] for s in lad.verbs.values()], pa.int32()),
        }
    )


def reached_sql(now_us: int, window_us: int, engage_us: int, lad: LadderSettings) -> str:
    """(person_id, level, reached_at): every step someone reached in the window, from the views
    `acts_in`, `verb_levels` and `acted`. A share counts when the first peer engagement of the
    sharer at or after it (a window over shares and engagements in time order, shares first at
    the same instant: what an ASOF join finds, in SQL Spark runs too) is within `engage_us`."""
    since = now_us - window_us
    default = LEVEL[lad.default_stage]
    return f"""
        SELECT a.person_id, coalesce(v.level, {default}) AS level, a.occurred_at AS reached_at
        FROM acts_in a LEFT JOIN verb_levels v USING (verb)
        WHERE a.direction = 'in' AND a.occurred_at > {since}
        UNION ALL
        SELECT person_id, {LEVEL["advocate"]}, acted_at FROM acted
        WHERE acted_at > {since} AND acted_at <= {now_us}
        UNION ALL
        SELECT person_id, {LEVEL["leader"]}, first_at FROM (
          SELECT person_id, first_at,
                 row_number() OVER (PARTITION BY person_id ORDER BY first_at) AS k
          FROM (SELECT person_id, campaign_id, min(acted_at) AS first_at FROM acted
                WHERE acted_at > {since} AND acted_at <= {now_us}
                GROUP BY person_id, campaign_id))
        WHERE k = {lad.leader_campaigns}
        UNION ALL
        SELECT person_id, {LEVEL["advocate"]}, occurred_at FROM (
          SELECT person_id, occurred_at, is_share,
                 min(engaged_at) OVER (PARTITION BY person_id ORDER BY occurred_at, is_share DESC
                   ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS next_engaged_at
          FROM (SELECT person_id, occurred_at, true AS is_share, NULL::BIGINT AS engaged_at
                FROM acts_in WHERE direction = 'in' AND verb = 'share' AND occurred_at > {since}
                UNION ALL
                SELECT target_id, occurred_at, false, occurred_at FROM acts_in
                WHERE direction = 'peer' AND target_id IS NOT NULL))
        WHERE is_share AND next_engaged_at - occurred_at <= {engage_us}
    """


def stage_sql() -> str:
    """Per person: stage = highest level reached, and when it was first reached, from `reached`."""
    return f"""
        SELECT person_id, {stage_of_level_sql("level")} AS stage, reached_at AS stage_at
        FROM (SELECT person_id, level, min(reached_at) AS reached_at,
                     row_number() OVER (PARTITION BY person_id ORDER BY level DESC) AS k
              FROM reached GROUP BY person_id, level)
        WHERE k = 1
    """
