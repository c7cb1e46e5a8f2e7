"""Plans kept ready (issue 13: "a plan at a moment's notice"): after `karmabank rescore`,
everyone's likelihood to act is computed for the issue of each campaign still open, and cached
with the new scores exactly as the first plan on them would cache it
(`likelihood.plan_likelihood`), so the next `campaign plan` reads it instead of computing
456k people's features first (1.3 s of CPU at higgs-twitter's size; the plan itself 0.5 s).

A campaign is open while its deadline has not passed and some of its budget was not sent.
Nothing happens without one (an organization that does not mobilize pays nothing), nor when
the cache is there already. The model is the one the plan would use (the cached fit while it
is kept, else fitted now, `likelihood_refit`), so the plan is the same either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select

from karmabank.actions.freshness import ensure_scores
from karmabank.actions.likelihood import plan_likelihood
from karmabank.actions.mobilization import _scored  # who a plan may choose: what it reads
from karmabank.measures.settings import MeasureSettings
from karmabank.store.open import Store
from karmabank.store.tables import Ask, Campaign, Issue


@dataclass(frozen=True)
class PlansReady:
    campaigns: tuple[str, ...]  # the open campaigns whose plans' likelihood is ready
    computed: int  # issues (None counting as one) whose likelihood was computed now

    def as_json(self) -> dict[str, Any]:
        return {"campaigns": list(self.campaigns), "likelihoods_computed": self.computed}


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
    """Everyone's likelihood for each open campaign's issue, cached with the scores of `now`
    (rescored first if they are stale)."""
    campaigns = open_campaigns(store, now)
    if not campaigns:
        return PlansReady((), 0)
    last = ensure_scores(store=store, now=now, settings=settings)
    scored = _scored(store, last)
    ready = scored.people[scored.ready]  # the features a plan may explain: as it caches them
    computed = 0
    for issue in dict.fromkeys(issue for _name, issue in campaigns):
        found = plan_likelihood(store=store, last=last, now=now, settings=settings, issue=issue,
                                explained=ready)  # fmt: skip
        computed += found.cached_in is None
    return PlansReady(tuple(name for name, _issue in campaigns), computed)
