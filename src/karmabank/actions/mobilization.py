"""The mobilization planner (PRODUCT.md §5): whom to ask for a campaign, in order, and who is
left out by which rule. `plan_campaign` reads the ask-ready people and everyone's likelihood to
act, chooses the asks with IMM on the peer graph (`campaign_plan.choose_seeds`), and writes the
plan with a reason and a draft per ask (`campaign_plan.write_plan`). Also exported by
`karmabank.actions.campaigns`, with the rest of the campaign's life."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import select

from karmabank.actions.campaign_plan import (
    PlannedAsk,
    by_person,
    choose_seeds,
    explain,
    facts_of,
    plan_likelihood,
    write_plan,
)
from karmabank.actions.campaigns import RULES, CampaignView, _campaign, _view
from karmabank.actions.freshness import ensure_scores
from karmabank.actions.people import person_refs
from karmabank.errors import ConfigError
from karmabank.measures.settings import MeasureSettings
from karmabank.store import arrow_io
from karmabank.store.columns import ActivityColumns
from karmabank.store.open import Store
from karmabank.store.tables import Ask

_SCORES = pa.schema(
    [("person_id", pa.int64()), ("ask_ready", pa.bool_()), ("rule", pa.int64())]
)  # rule: 0 (none), else the position in RULES, from 1


@dataclass(frozen=True)
class CampaignPlan:
    campaign: CampaignView
    expected_reach: float
    asks: list[PlannedAsk]
    excluded: list[dict[str, Any]]  # {"person", "rule"}, most likely to act first
    excluded_by_rule: dict[str, int]  # everyone left out, counted by rule
    budget_left: int
    candidates: int
    rr_sets: int
    capped: bool  # the sample stopped at planner.max_rr_sets: no IMM guarantee
    seconds: float

    def as_json(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign.name,
            "expected_reach": round(self.expected_reach, 3),
            "asks": [a.as_json() for a in self.asks],
            "excluded": self.excluded,
        }


def plan_campaign(
    *, store: Store, name: str, now: datetime, settings: MeasureSettings,
    excluded_limit: int | None = None,
) -> CampaignPlan:  # fmt: skip
    """Whom to ask, in order: ask-ready people chosen to reach the most people times their
    likelihood to act (IMM on the peer graph), at most the budget left, spread across the
    graph's communities; and everyone left out, with the rule that kept them out (the most
    likely to act first; the first `excluded_limit` of them, all by default; `excluded_by_rule`
    counts them all). Replaces the campaign's previous plan (asks already sent stay, and so do
    their expected reach). A campaign whose whole budget was sent cannot be planned again."""
    from karmabank.actions.influencers import peer_edges
    from karmabank.graph.diffusion import diffusion_graph

    started = time.perf_counter()
    state = ensure_scores(store=store, now=now, settings=settings)
    with store.sessions() as session:
        c = _campaign(session, name)
        view = _view(session, c)
        sent = session.execute(
            select(Ask.person_id, Ask.marginal_reach).where(
                Ask.campaign_id == c.id, Ask.status != "planned"
            )
        ).all()
    asked = {int(p) for p, _ in sent}
    sent_reach = sum(float(r or 0.0) for _, r in sent)
    budget_left = max(view.budget - len(asked), 0)
    if sent and not budget_left:
        raise ConfigError(
            f"campaign {view.name!r} was sent: all {view.budget} asks of its budget went out "
            f"(expected reach {view.expected_reach or 0.0:.1f}); nothing is left to plan "
            "(see `karmabank campaign show`, or start a new campaign)"
        )
    columns = ActivityColumns(store.url, store.engine)
    source = columns.up_to(state.activity_max_id).source()
    codes = " ".join(f"WHEN '{r}' THEN {i}" for i, r in enumerate(RULES, start=1))
    with arrow_io.connect(store.url, store.engine) as conn:  # small columns: no strings
        scores = arrow_io.read_table(
            conn, f"""(SELECT person_id, ask_ready, CASE ask_rule {codes} ELSE 0 END AS rule
                   FROM person_score) s""", _SCORES,
        )  # fmt: skip
    found_likely = plan_likelihood(store, state, now, settings, view.issue)
    likely = found_likely.likely
    people = scores.column("person_id").to_numpy()
    chance = by_person(likely, people)
    ready = scores.column("ask_ready").to_numpy(zero_copy_only=False).astype(bool)
    in_campaign = np.isin(people, np.fromiter(asked, np.int64, len(asked)))
    code = np.array(scores.column("rule").to_numpy(zero_copy_only=False), dtype=np.int64)
    code[in_campaign] = list(RULES).index("campaign") + 1
    shown_rules = np.asarray([None, *RULES.values()], dtype=object)
    rules = shown_rules[code]
    eligible = ready & ~in_campaign
    candidates = people[eligible]

    chosen: list[tuple[int, float, float]] = []  # person, marginal reach, likelihood
    expected, rr_sets = 0.0, 0
    capped = False
    if budget_left and len(candidates):
        whole = diffusion_graph(peer_edges(source, now), also=candidates)
        graph = whole.within_reach(whole.nodes_of(candidates))  # nobody else can be reached
        weights = np.zeros(graph.n)
        known = np.isin(people, graph.people)
        weights[graph.nodes_of(people[known])] = chance[known]
        k = min(budget_left, len(candidates))
        plan = choose_seeds(graph, graph.nodes_of(candidates), weights, k, settings.planner)
        expected, rr_sets, capped = float(plan.spread_estimate), int(plan.rr_sets), plan.capped
        for node, gain in zip(plan.seeds.tolist(), plan.marginal_gains.tolist(), strict=True):
            person = int(graph.people[node])
            chosen.append((person, float(gain), float(weights[node])))

    left_out = ~eligible
    counts = np.bincount(code[left_out], minlength=shown_rules.size)
    by_rule = {str(shown_rules[i]): int(n) for i, n in enumerate(counts.tolist()) if n}
    order = np.argsort(-chance[left_out], kind="stable")[:excluded_limit]
    out_people = people[left_out][order]
    out_rules = rules[left_out][order]
    refs = person_refs(store, [p for p, _, _ in chosen] + out_people.tolist())
    excluded = [{"person": refs[int(p)], "rule": str(r)}
                for p, r in zip(out_people.tolist(), out_rules.tolist(), strict=True)]  # fmt: skip
    facts = facts_of(store, [p for p, _, _ in chosen])
    whys = explain(store, now, settings, view.issue, found_likely, [p for p, _, _ in chosen])
    asks = write_plan(store, view, now, chosen, refs, facts, whys, sent_reach + expected)
    with store.sessions() as session:
        view = _view(session, _campaign(session, name))
    return CampaignPlan(view, expected, asks, excluded, by_rule, budget_left, len(candidates),
                        rr_sets, capped, time.perf_counter() - started)  # fmt: skip
