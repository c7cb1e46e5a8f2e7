"""Circles: one-size-fits-all friendship does not work (PRODUCT.md §3).

Among supporters (not team, not bots) with ≥ `min_activities` inbound activities, who are not
newcomers or observers, rank by warmth (ties: lower person id first). With N ranked people:
`core` = the first min(⌈2% N⌉, 15), `allies` up to ⌈10% N⌉, `friends` up to ⌈35% N⌉, then
`acquaintances` (who also takes people with fewer activities). `newcomers` (first seen less than
30 days ago) and `observers` (only likes/follows) override the rank. No inbound activity: no circle.

History: promote at once; demote only after the person has stayed below their circle for
`demotion_hold_days` (then to the highest circle they held meanwhile). A team member or bot is
left out of the measures, but their history is kept (`set_apart_sql`): unflagged, they resume
it, and a lower circle is held from then on as for anyone else.
"""

from __future__ import annotations

from karmabank.measures.settings import CircleSettings
from karmabank.model import RANKED_CIRCLES


def order_sql(circle: str) -> str:
    """Rank of a ranked circle (core 4 … acquaintances 1); null for other circles."""
    whens = " ".join(
        f"WHEN '{c}' THEN {len(RANKED_CIRCLES) - i}" for i, c in enumerate(RANKED_CIRCLES)
    )
    return f"(CASE {circle} {whens} END)"


def circle_of_order_sql(order: str) -> str:
    whens = " ".join(
        f"WHEN {len(RANKED_CIRCLES) - i} THEN '{c}'" for i, c in enumerate(RANKED_CIRCLES)
    )
    return f"(CASE {order} {whens} END)"


def sizes(n_ranked: int, c: CircleSettings) -> tuple[int, int, int]:
    """Cumulative positions where core, allies and friends end among `n_ranked` people."""

    def ceil_share(share: float) -> int:
        return -(-round(share * n_ranked * 1e9) // 10**9)  # ⌈share × N⌉ without float dust

    core = min(ceil_share(c.core_share), c.core_max)
    allies = max(core, ceil_share(c.core_share + c.allies_share))
    friends = max(allies, ceil_share(c.core_share + c.allies_share + c.friends_share))
    return core, allies, friends


def raw_circle_sql(pos: str, n_in: str, newcomer: str, observer: str,
                   cuts: tuple[int, int, int], c: CircleSettings) -> str:  # fmt: skip
    core, allies, friends = cuts
    return f"""CASE
        WHEN {n_in} = 0 THEN NULL
        WHEN {newcomer} THEN 'newcomers'
        WHEN {observer} THEN 'observers'
        WHEN {n_in} < {c.min_activities} THEN 'acquaintances'
        WHEN {pos} <= {core} THEN 'core'
        WHEN {pos} <= {allies} THEN 'allies'
        WHEN {pos} <= {friends} THEN 'friends'
        ELSE 'acquaintances' END"""


def history_sql(now_us: int, hold_us: int, use_previous: bool) -> str:
    """Apply the demotion hold to table `raw` (person_id, raw_circle) and `prev`.

    Output: person_id, circle, circle_since, pending_circle, pending_since."""
    if not use_previous:
        return f"""SELECT person_id, raw_circle AS circle,
                   CASE WHEN raw_circle IS NOT NULL THEN {now_us} END AS circle_since,
                   NULL::VARCHAR AS pending_circle, NULL::BIGINT AS pending_since FROM raw"""
    new, old = order_sql("r.raw_circle"), order_sql("p.circle")
    pend = f"greatest({order_sql('p.pending_circle')}, {new})"
    held = f"coalesce(p.pending_since, {now_us})"
    demoting = (
        f"(p.circle IS NOT NULL AND {new} IS NOT NULL AND {old} IS NOT NULL AND {new} < {old})"
    )
    due = f"({now_us} - {held} >= {hold_us})"
    return f"""
        SELECT r.person_id,
          CASE WHEN NOT {demoting} THEN r.raw_circle
               WHEN {due} THEN {circle_of_order_sql(pend)} ELSE p.circle END AS circle,
          CASE WHEN NOT {demoting} THEN
                 CASE WHEN r.raw_circle IS NULL THEN NULL
                      WHEN r.raw_circle = p.circle THEN p.circle_since ELSE {now_us} END
               WHEN {due} THEN {now_us} ELSE p.circle_since END AS circle_since,
          CASE WHEN {demoting} AND NOT {due} THEN {circle_of_order_sql(pend)} END
            AS pending_circle,
          CASE WHEN {demoting} AND NOT {due} THEN {held} END AS pending_since
        FROM raw r LEFT JOIN prev p USING (person_id)
    """


def set_apart_sql() -> str:
    """The history (PREVIOUS_SCHEMA columns of `prev`) of the people a team or bot flag keeps
    out of the scores (`flags`), who are not in `raw`: carried from rescore to rescore until
    the flag is cleared, so that `flag PERSON team` and back does not demote a core member at
    once. Erased people keep nothing."""
    return """SELECT p.person_id, p.circle, p.circle_since, p.pending_circle, p.pending_since,
          p.stage
        FROM prev p JOIN flags f USING (person_id)
        WHERE (f.team OR f.bot) AND NOT f.erased
          AND NOT EXISTS (SELECT 1 FROM raw r WHERE r.person_id = p.person_id)
        ORDER BY p.person_id"""
