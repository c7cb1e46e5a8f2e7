"""Plans kept ready (issue 13: "a plan at a moment's notice"): after `karmabank rescore`, the
choice each campaign still open would make on the new scores is made and cached with them,
exactly as its first plan on them would cache it: everyone's likelihood to act for its issue
(`likelihood.plan_likelihood`: 456k people's features at higgs-twitter's size, 1.3 s of CPU)
and IMM's seeds on the peer graph (`mobilization.chosen_seeds`: the diffusion graph, the
sample and the communities, 0.5-1 s). The next `campaign plan` reads both, and only names the
people, explains the few asks and writes them.

A campaign is open while its deadline has not passed and some of its budget was not sent.
Nothing happens without one (an organization that does not mobilize pays nothing), nor when
the caches are there already. The model is the one the plan would use (the cached fit while it
is kept, else fitted now, `likelihood_refit`), and the seeds are those its plan would choose
(the same inputs, the same seeded sampling), so the plan is the same either way. Seeds chosen
at the rescore's time answer for a plan at another time while no peer activity lies between
the two (`store/plan_seeds.py`); otherwise the plan chooses them itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select

from karmabank.actions.freshness import ensure_scores
from karmabank.actions.mobilization import ready_choice
from karmabank.measures.settings import MeasureSettings
from karmabank.store.open import Store
from karmabank.store.tables import Ask, Campaign, Issue


@dataclass(frozen=True)
class PlansReady:
    campaigns: tuple[str, ...]  # the open campaigns whose plans are ready
    computed: int  # issues (None counting as one) whose likelihood was computed now
    seeds_chosen: int = 0  # campaigns whose seeds were chosen now (not kept already)

    def as_json(self) -> dict[str, Any]:
        return {"campaigns": list(self.campaigns), "likelihoods_computed": self.computed,
                "seeds_chosen": self.seeds_chosen}  # fmt: skip


def open_campaigns(store: Store, now: datetime) -> list[tuple[str, str | None]]:
    """(name, issue name) of the campaigns whose deadline has not passed and whose budget was
    not all sent, oldest first."""
    sent = (
        select(func.count()).select_from(Ask)
        .where(Ask.campaign_id == Campaign.id, Ask.status != "planned")
        .scalar_subquery()
    )  # fmt: skip
    with store.sessions() as session:
        rows = session.execute(
            select(Campaign.name, Issue.name)
            .outerjoin(Issue, Issue.id == Campaign.issue_id)
            .where(or_(Campaign.deadline.is_(None), Campaign.deadline >= now))
            .where(sent < Campaign.budget)
            .order_by(Campaign.id)
        ).all()
    return [(str(name), issue) for name, issue in rows]


def ready_plans(*, store: Store, now: datetime, settings: MeasureSettings) -> PlansReady:
    """Each open campaign's choice (everyone's likelihood for its issue, its seeds), cached
    with the scores of `now` (rescored first if they are stale)."""
    campaigns = open_campaigns(store, now)
    if not campaigns:
        return PlansReady((), 0)
    last = ensure_scores(store=store, now=now, settings=settings)
    computed = chosen = 0
    for name, _issue in campaigns:
        found = ready_choice(store=store, last=last, name=name, now=now, settings=settings)
        computed += found.likely.cached_in is None  # (a second campaign on one issue reads it)
        chosen += found.chosen is not None and not found.chosen.kept
    return PlansReady(tuple(name for name, _issue in campaigns), computed, chosen)
