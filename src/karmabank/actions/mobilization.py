"""The mobilization planner (PRODUCT.md §5): whom to ask for a campaign, in order, and who is
left out by which rule. `plan_campaign` reads the ask-ready people and everyone's likelihood to
act (`actions/likelihood.py`), chooses the asks with IMM on the peer graph and counts who is
left out (`measures/planning.py`: pure), and writes the plan with a reason and a draft per ask
in one transaction (`campaign_plan.write_plan`)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlalchemy import select

from karmabank.actions.campaign_plan import PlannedAsk, facts_of, write_plan
from karmabank.actions.campaigns import CampaignView, campaign_view, find_campaign, reach_text
from karmabank.actions.freshness import ensure_scores
from karmabank.actions.likelihood import PlanLikelihood, explain_chosen, plan_likelihood
from karmabank.actions.opt_outs import opted_out_everywhere
from karmabank.actions.people import person_refs
from karmabank.errors import ConfigError
from karmabank.measures import planning
from karmabank.measures.settings import MeasureSettings, PlannerSettings
from karmabank.store import arrow_io
from karmabank.store.open import Store
from karmabank.store.tables import Ask

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from karmabank.actions.scores import LastRescore
    from karmabank.graph.diffusion import DiffusionGraph

_SCORES = pa.schema(
    [("person_id", pa.int64()), ("ask_ready", pa.bool_()), ("rule", pa.int64())]
)  # rule: 0 (none), else the position in planning.RULES, from 1
_READY = pa.schema(
    [("person_id", pa.int64()), ("ask_ready", pa.bool_()), ("ask_rule", pa.string())]
)  # the same, as the rescore's snapshot keeps them


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
    likelihood_model: str = ""  # the model the likelihoods came from, and its age
    sent_reach: float = 0.0  # the expected reach of the asks sent before this plan

    @property
    def target_met(self) -> bool | None:
        """Whether the asks sent and planned are expected to reach the campaign's target reach
        (None: it has none)."""
        target = self.campaign.target_reach
        if target is None:
            return None
        return self.sent_reach + self.expected_reach >= target

    @property
    def target_note(self) -> str | None:
        """What the plan says of the target reach: "target reach 500 met with 3 asks of 20",
        or not met when the budget (or the ask-ready people) ended first, and by how much."""
        target = self.campaign.target_reach
        if target is None:
            return None
        shown = reach_text(target)
        total = self.sent_reach + self.expected_reach
        asks = f"{len(self.asks)} ask{'' if len(self.asks) == 1 else 's'} of {self.budget_left}"
        if self.sent_reach:
            asks += f" (and the asks sent, expected reach {self.sent_reach:.1f})"
        if self.target_met and not self.asks:
            return (f"target reach {shown} met by the asks sent (expected reach {total:.1f}): "
                    "no more asks needed")  # fmt: skip
        if self.target_met:
            return f"target reach {shown} met with {asks}"
        return (f"target reach {shown} not met: expected reach {total:.1f} with {asks}, "
                f"{target - total:.1f} short")  # fmt: skip

    @property
    def excluded_count(self) -> int:
        """Everyone left out (`excluded` names the first few of them)."""
        return sum(self.excluded_by_rule.values())

    def as_json(self) -> dict[str, Any]:
        """The plan: the campaign's name, its expected reach, the asks and who is left out."""
        return {
            "campaign": self.campaign.name,
            "expected_reach": round(self.expected_reach, 3),
            "asks": [a.as_json() for a in self.asks],
            "excluded": self.excluded,
        }

    def report_json(self) -> dict[str, Any]:
        """What `campaign plan --json`, the API and the page show: the plan and its counts."""
        return {
            **self.as_json(), "excluded_count": self.excluded_count,
            "excluded_by_rule": self.excluded_by_rule, "budget_left": self.budget_left,
            "candidates": self.candidates, "likelihood_model": self.likelihood_model,
            "target_reach": self.campaign.target_reach, "target_met": self.target_met,
            "target_note": self.target_note,
        }  # fmt: skip


@dataclass(frozen=True)
class _Sent:
    """The campaign before the plan: what went out already, and how many asks are left."""

    view: CampaignView
    asked: set[int]
    reach: float  # the expected reach of the asks already sent

    @property
    def budget_left(self) -> int:
        return max(self.view.budget - len(self.asked), 0)


def _sent(store: Store, name: str) -> _Sent:
    """The campaign and its sent asks; ConfigError when its whole budget was sent."""
    with store.sessions() as session:
        c = find_campaign(session, name)
        view = campaign_view(session, c)
        sent = session.execute(
            select(Ask.person_id, Ask.marginal_reach).where(
                Ask.campaign_id == c.id, Ask.status != "planned"
            )
        ).all()
    found = _Sent(view, {int(p) for p, _ in sent}, sum(float(r or 0.0) for _, r in sent))
    if sent and not found.budget_left:
        raise ConfigError(
            f"campaign {view.name!r} was sent: all {view.budget} asks of its budget went out "
            f"(expected reach {view.expected_reach or 0.0:.1f}); nothing is left to plan "
            "(see `karmabank campaign show`, or start a new campaign)"
        )
    return found


@dataclass(frozen=True)
class _Scored:
    """Everyone scored: whether they are ask-ready, and the rule that keeps them out (0 for
    none, else the position in `planning.RULES` from 1), by person, in person order."""

    people: npt.NDArray[np.int64]
    ready: npt.NDArray[np.bool_]
    rule: npt.NDArray[np.int64]


def _scored(store: Store, last: LastRescore) -> _Scored:
    """Who is ask-ready and why not, from the last rescore's snapshot (three small columns of
    a local file) when the scores are those of the data as it is; else (a merge or an erasure
    since, while an import kept the rescore from running; an older snapshot) from
    `person_score`, which such a change updates at once. In person order either way (ties in
    likelihood among those left out keep it; PostgreSQL's heap order moves with updates)."""
    import numpy as np
    import pyarrow.compute as pc

    from karmabank.actions.scores import data_version

    fresh = data_version(store) == (last.revision, last.activity_max_id)
    found = last.snapshot(store).table(_READY) if fresh else None
    if found is not None:
        rules = pa.array(list(planning.RULES), pa.string())
        code = pc.add(pc.fill_null(pc.index_in(found["ask_rule"], value_set=rules), -1), 1)
        rule = code.to_numpy(zero_copy_only=False).astype(np.int64)
    else:
        codes = " ".join(f"WHEN '{r}' THEN {i}" for i, r in enumerate(planning.RULES, start=1))
        with arrow_io.connect(store.url, store.engine) as conn:  # small columns: no strings
            found = arrow_io.read_table(
                conn, f"""(SELECT person_id, ask_ready, CASE ask_rule {codes} ELSE 0 END AS rule
                       FROM person_score ORDER BY person_id) s""", _SCORES,
            )  # fmt: skip
        rule = found.column("rule").to_numpy(zero_copy_only=False).astype(np.int64)
    ready = found.column("ask_ready").to_numpy(zero_copy_only=False)
    return _Scored(found.column("person_id").to_numpy(), ready.astype(bool), rule)


def _pool(store: Store, scored: _Scored, likely: PlanLikelihood, asked: set[int]) -> planning.Pool:
    """Everyone scored: whether they are ask-ready, the rule that keeps them out, their
    likelihood to act."""
    with store.engine.connect() as db:
        opted_out = opted_out_everywhere(db)  # no channel left to ask them on
    return planning.pool_of(
        scored.people, scored.ready, scored.rule,
        planning.by_person(likely.likely, scored.people), asked, opted_out,
    )  # fmt: skip


def _communities(store: Store, last: LastRescore, seed: int) -> planning.Communities:
    """The diffusion graph's communities, read from the cache kept for this graph (by its
    content, whatever the scores: store/communities.py) or detected and kept there."""
    from karmabank.graph.communities import communities_key, detect_communities
    from karmabank.store.communities import cache_communities, cached_communities

    directory = last.snapshot(store).columns.dir

    def found(graph: DiffusionGraph) -> npt.NDArray[np.int64]:
        key = communities_key(graph.src, graph.dst, graph.n, seed=seed)
        labels = cached_communities(directory, key, graph.n)
        if labels is None:
            labels = detect_communities(graph.src, graph.dst, graph.n, seed=seed)
            cache_communities(directory, key, labels)
        return labels

    return found


@dataclass(frozen=True)
class Chosen:
    seeds: planning.Seeds  # IMM's, before the campaign's target reach shortens them
    kept: bool  # read from those kept for these scores (plan_ready), not chosen now


def chosen_seeds(
    store: Store, last: LastRescore, pool: planning.Pool, k: int, now: datetime,
    p: PlannerSettings,
) -> Chosen:  # fmt: skip
    """`planning.seeds_for` on the peer graph as of `now`: the seeds kept for these scores,
    this pool, `k` and settings when they answer for `now` (`store/plan_seeds.py`), else
    chosen now and kept."""
    from karmabank.frames import micros
    from karmabank.measures.peer_graph import peer_edges_and_span
    from karmabank.store.plan_seeds import cache_seeds, cached_seeds

    snapshot = last.snapshot(store)
    directory, key = snapshot.columns.dir, planning.seeds_key(pool, k, p)
    kept = cached_seeds(directory, last.token, key, micros(now))
    if kept is not None:
        try:
            return Chosen(planning.Seeds.from_json(kept), kept=True)
        except (ValueError, KeyError, TypeError):  # not what this version writes: chosen again
            pass
    edges, (since, until) = peer_edges_and_span(snapshot.activities(), now)
    seeds = planning.seeds_for(edges, pool, k, p, communities=_communities(store, last, p.seed))
    cache_seeds(directory, last.token, key, seeds.as_json(), since, until)
    return Chosen(seeds, kept=False)


@dataclass(frozen=True)
class Choice:
    """What a plan on some scores chooses from: everyone's likelihood, who may be asked, and
    IMM's seeds among them (None: no budget left, or nobody to ask)."""

    likely: PlanLikelihood
    pool: planning.Pool
    chosen: Chosen | None


def _choice(
    store: Store, last: LastRescore, sent: _Sent, now: datetime, settings: MeasureSettings
) -> Choice:
    scored = _scored(store, last)
    likely = plan_likelihood(
        store=store, last=last, now=now, settings=settings, issue=sent.view.issue,
        explained=scored.people[scored.ready],
    )  # fmt: skip
    pool = _pool(store, scored, likely, sent.asked)
    chosen = None
    if sent.budget_left and pool.candidates.size:
        k = min(sent.budget_left, int(pool.candidates.size))
        chosen = chosen_seeds(store, last, pool, k, now, settings.planner)
    return Choice(likely, pool, chosen)


def ready_choice(
    *, store: Store, last: LastRescore, name: str, now: datetime, settings: MeasureSettings
) -> Choice:
    """The choice `plan_campaign` would make for campaign `name` on the scores `last` at
    `now`, made and kept (everyone's likelihood, the seeds) so that the plan reads it."""
    return _choice(store, last, _sent(store, name), now, settings)


def plan_campaign(
    *, store: Store, name: str, now: datetime, settings: MeasureSettings,
    excluded_limit: int | None = None, actor: str = "cli",
) -> CampaignPlan:  # fmt: skip
    """Whom to ask, in order: ask-ready people chosen to reach the most people times their
    likelihood to act (IMM on the peer graph), at most the budget left, spread across the
    graph's communities, and no more once their expected reach (with that of the asks sent
    before) meets the campaign's target reach, if it has one; and everyone left out, with the
    rule that kept them out (the most likely to act first; the first `excluded_limit` of them,
    all by default; `excluded_by_rule` counts them all). Replaces the campaign's previous plan
    (asks already sent stay, and so do their expected reach). A campaign whose whole budget was
    sent cannot be planned again."""
    started = time.perf_counter()
    last = ensure_scores(store=store, now=now, settings=settings)
    sent = _sent(store, name)
    issue = sent.view.issue
    found = _choice(store, last, sent, now, settings)
    likely, pool = found.likely, found.pool
    seeds = planning.Seeds([])
    if found.chosen is not None:
        seeds = planning.to_target(found.chosen.seeds, sent.view.target_reach, sent.reach)
    out = planning.left_out(pool, excluded_limit)
    refs = person_refs(store, seeds.people + out.people)
    excluded = [{"person": refs[p], "rule": r} for p, r in zip(out.people, out.rules, strict=True)]
    whys = explain_chosen(store=store, now=now, settings=settings, issue=issue, known=likely,
                          people=seeds.people)  # fmt: skip
    asks, view = write_plan(
        store=store, view=sent.view, now=now, chosen=seeds.chosen, refs=refs,
        facts=facts_of(store, seeds.people), whys=whys, expected=sent.reach + seeds.expected,
        actor=actor,
    )  # fmt: skip
    return CampaignPlan(view, seeds.expected, asks, excluded, out.by_rule, sent.budget_left,
                        int(pool.candidates.size), seeds.rr_sets, seeds.capped,
                        time.perf_counter() - started, likely.note, sent.reach)  # fmt: skip
