"""The planner's helpers: each chosen person's likelihood, facts and reason, and the plan
written to the store with a drafted message per ask (`campaigns.plan_campaign` calls them)."""

from __future__ import annotations

import math
import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import delete, select

from karmabank.actions.templates import first_name, render_template, templates
from karmabank.frames import micros
from karmabank.measures import likelihood as lk
from karmabank.measures.settings import MeasureSettings, PlannerSettings
from karmabank.model import RhythmStatus
from karmabank.store import arrow_io
from karmabank.store.columns import ActivityColumns
from karmabank.store.open import Store
from karmabank.store.tables import Ask, Campaign, Organization, ScoreState

if TYPE_CHECKING:
    from karmabank.actions.campaigns import CampaignView
    from karmabank.graph.diffusion import DiffusionGraph
    from karmabank.graph.imm import InfluencePlan


@dataclass(frozen=True)
class PlannedAsk:
    person: dict[str, Any]
    marginal_reach: float
    likelihood: float
    reason: str
    draft: str

    def as_json(self) -> dict[str, Any]:
        return {"person": self.person, "marginal_reach": round(self.marginal_reach, 3),
                "likelihood": round(self.likelihood, 4), "reason": self.reason,
                "draft": self.draft}  # fmt: skip


def by_person(likely: pa.Table, people: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Each of `people`'s likelihood to act (0 where the model has no row for them)."""
    ids = likely.column("person_id").to_numpy()
    values = likely.column("likelihood").to_numpy(zero_copy_only=False).astype(float)
    order = np.argsort(ids)
    ids, values = ids[order], values[order]
    pos = np.clip(np.searchsorted(ids, people), 0, max(len(ids) - 1, 0))
    found = (pos < len(ids)) & (ids[pos] == people) if len(ids) else np.zeros(len(people), bool)
    return np.where(found, values[pos] if len(ids) else 0.0, 0.0)


# What a yes/no feature says when it is 0 for the person: the model's part for
# `never_given` is as large for someone we gave to (it is 0 for them, far from the average
# person's 1) as for someone we never gave to, and it must not say "never given" to them.
_WHEN_ABSENT: dict[str, str] = {
    "never_in": "came toward us",
    "never_peer_out": "wrote to others",
    "never_given": "we gave to them",
    "affinity_missing": "wrote something to judge affinity by",
    **{f"status_{s}": f"not {s} in their rhythm" for s in RhythmStatus},
}


# A rate of answers with nothing to answer is the usual rate (the smoothing prior): said so.
_NOT_YET: dict[str, tuple[str, str]] = {
    "ask_response": ("asked", "never asked: the usual answer rate"),
    "give_response": ("never_given", "never given to: the usual answer rate"),
}


def _never(rows: pa.Table, name: str, i: int) -> bool:
    """Whether the person of row `i` had nothing to answer for rate feature `name`."""
    other = _NOT_YET[name][0]
    if other not in rows.column_names:
        return False
    value = float(rows[other][i].as_py() or 0.0)
    return value >= 0.5 if other.startswith("never_") else value <= 0.0


def chance_of(model: lk.LikelihoodModel, feats: pa.Table) -> pa.Table:
    """person_id, likelihood: everyone's likelihood to act (column-wise, no explanation)."""
    return pa.table({"person_id": feats["person_id"], "likelihood": lk.predict(model, feats)})


_CHANCE = pa.schema([("person_id", pa.int64()), ("likelihood", pa.float64())])


@dataclass(frozen=True)
class PlanLikelihood:
    """Everyone's likelihood to act for a plan, and how to explain a few of them."""

    likely: pa.Table  # person_id, likelihood
    model: lk.LikelihoodModel | None  # with everyone's features, when they were computed
    feats: pa.Table | None


def plan_likelihood(
    store: Store, state: ScoreState, now: datetime, settings: MeasureSettings,
    issue: str | None,
) -> PlanLikelihood:  # fmt: skip
    """Everyone's likelihood to act (`likelihood_inputs`), cached beside the columnar copy
    for the scores `state` names and the issue: a second plan on the same scores reads it
    instead of computing everyone's features again (any change to the data, the flags or the
    settings makes new scores, and the cache of older ones is pruned with their model)."""
    from karmabank.actions.backtest import likelihood_inputs
    from karmabank.actions.issues import find_issue

    columns = ActivityColumns(store.url, store.engine)
    issue_id = find_issue(store=store, ref=issue).id if issue else None
    token = f"{state.scored_at}-{micros(state.computed_at)}"
    path = columns.dir / (
        f"likelihood-{token}{'' if issue_id is None else f'-issue{issue_id}'}.chance.parquet"
    )
    try:
        cached = pq.read_table(path, schema=_CHANCE)
        return PlanLikelihood(cached, None, None)
    except (OSError, pa.ArrowException):
        pass
    model, feats = likelihood_inputs(store=store, now=now, settings=settings, issue=issue)
    likely = chance_of(model, feats)
    columns.dir.mkdir(parents=True, exist_ok=True)
    tmp = columns.dir / f"likelihood.{uuid.uuid4().hex}.tmp"
    pq.write_table(likely, tmp)
    os.replace(tmp, path)
    return PlanLikelihood(likely, model, feats)


def explain(
    store: Store, now: datetime, settings: MeasureSettings, issue: str | None,
    known: PlanLikelihood, people: list[int],
) -> dict[int, str]:  # fmt: skip
    """`whys_of` for `people`: from everyone's features when they were computed, else from
    theirs alone."""
    from karmabank.actions.backtest import likelihood_inputs

    if not people:
        return {}
    model, feats = known.model, known.feats
    if model is None or feats is None:
        model, feats = likelihood_inputs(
            store=store, now=now, settings=settings, issue=issue, people=people
        )
    return whys_of(model, feats, people, settings.likelihood.parts)


def whys_of(
    model: lk.LikelihoodModel, feats: pa.Table, people: list[int], parts: int
) -> dict[int, str]:
    """person → the sentence of the `parts` biggest parts of their likelihood, each said as it
    is for them: "we gave to them (+1.9)", not the feature's name "never given anything",
    when they were given to. Only `people`'s rows are explained."""
    if not people or feats.num_rows == 0:
        return {}
    mask = pc.is_in(feats["person_id"], value_set=pa.array(people, pa.int64()))
    rows = feats.filter(mask)
    if rows.num_rows == 0:
        return {}
    c = lk.contributions(model, rows)
    k = min(parts, c.shape[1])
    top = np.argsort(-np.abs(c), axis=1, kind="stable")[:, :k]
    out: dict[int, str] = {}
    for i, person in enumerate(rows["person_id"].to_pylist()):
        said = []
        for j in top[i].tolist():
            name, part = model.features[j], float(c[i, j])
            value = float(rows[name][i].as_py() or 0.0)
            text = (_WHEN_ABSENT[name] if name in _WHEN_ABSENT and value < 0.5
                    else _NOT_YET[name][1] if name in _NOT_YET and _never(rows, name, i)
                    else lk.FEATURE_TEXT.get(name, name))  # fmt: skip
            said.append(f"{text} ({'+' if round(part, 1) >= 0 else '−'}{abs(part):.1f})")
        out[int(person)] = ", ".join(said)
    return out


_FACTS = pa.schema(
    [("person_id", pa.int64()), ("circle", pa.string()), ("status", pa.string()),
     ("stage", pa.string())]
)  # fmt: skip


def facts_of(
    store: Store, people: list[int]
) -> dict[int, tuple[str | None, str | None, str | None]]:
    """person → (circle, status, stage) of `people`, for the reasons (their rows only)."""
    if not people:
        return {}
    ids = ", ".join(str(int(p)) for p in people)
    with arrow_io.connect(store.url, store.engine) as conn:
        scores = arrow_io.read_table(
            conn, f"""(SELECT person_id, circle, status, stage FROM person_score
                   WHERE person_id IN ({ids})) f""", _FACTS,
        )  # fmt: skip
    return {
        int(p): (c, s, g)
        for p, c, s, g in zip(
            scores.column("person_id").to_pylist(),
            scores.column("circle").to_pylist(),
            scores.column("status").to_pylist(),
            scores.column("stage").to_pylist(),
            strict=True,
        )  # fmt: skip
    }


def _reason(
    facts: tuple[str | None, str | None, str | None], gain: float, chance: float, why: str
) -> str:
    """E.g. "core, active, engaged; 26% likely to act (...); if they do, about 12 more people
    hear of it through them (expected reach +3.4)"."""
    circle, status, stage = facts
    who = ", ".join(x for x in (circle or "in no circle", status, stage) if x)
    because = f" ({why})" if why else ""
    through = max(gain / chance - 1.0, 0.0) if chance > 0 else 0.0
    return (f"{who}; {chance:.0%} likely to act{because}; if they do, about {through:.0f} more "
            f"people hear of it through them (expected reach +{gain:.1f})")  # fmt: skip


def choose_seeds(
    graph: DiffusionGraph, candidates: npt.NDArray[np.int64], weights: npt.NDArray[np.float64],
    k: int, p: PlannerSettings,
) -> InfluencePlan:  # fmt: skip
    """IMM's `k` seeds among `candidates` (nodes of `graph`), at most `community_share` of
    them from one community. The communities are detected only when the plan without the cap
    would break it: with its seeds within the cap, the capped greedy takes the same ones."""
    from karmabank.graph import detect_communities, maximize_influence

    def plan(communities: npt.NDArray[np.int64] | None) -> InfluencePlan:
        return maximize_influence(
            graph.src, graph.dst, graph.prob, graph.n, k, epsilon=p.epsilon, ell=p.ell,
            candidates=candidates, weights=weights, communities=communities,
            max_per_community=cap if communities is not None else None, seed=p.seed,
            cap_rr_sets=p.max_rr_sets,
        )  # fmt: skip

    cap = max(1, math.ceil(p.community_share * k))
    free = plan(None)
    if free.seeds.size <= cap or not len(graph.src):
        return free
    communities = detect_communities(graph.src, graph.dst, graph.n, seed=p.seed)
    if np.bincount(communities[free.seeds]).max() <= cap:
        return free
    return plan(communities)


def write_plan(
    store: Store, view: CampaignView, now: datetime, chosen: list[tuple[int, float, float]],
    refs: dict[int, dict[str, Any]], facts: dict[int, tuple[str | None, str | None, str | None]],
    whys: dict[int, str], expected: float,
) -> list[PlannedAsk]:  # fmt: skip
    env = templates(store, "campaign")
    asks: list[PlannedAsk] = []
    with store.sessions.begin() as session:
        org = session.scalar(select(Organization.name).order_by(Organization.id).limit(1))
        session.execute(delete(Ask).where(Ask.campaign_id == view.id, Ask.status == "planned"))
        for position, (person_id, gain, chance) in enumerate(chosen, start=1):
            ref = refs[person_id]
            name = first_name(ref["name"])
            context = {
                "name": name, "hi": f"Hi {name}" if name else "Hi", "org": org or "us",
                "campaign": view.name, "action": view.action, "issue": view.issue or "",
                "deadline": view.deadline.strftime("%-d %B") if view.deadline else "",
            }  # fmt: skip
            channel = ref["identities"][0].split(":")[0] if ref["identities"] else "other"
            names = [f"ask.{view.action}.{channel}", f"ask.{view.action}", f"ask.{channel}", "ask"]
            draft = render_template(env, names, context, "campaign ask")
            fact = facts.get(person_id, (None, None, None))
            reason = _reason(fact, gain, chance, whys.get(person_id, ""))
            session.add(Ask(campaign_id=view.id, person_id=person_id, status="planned",
                            planned_at=now, position=position, marginal_reach=gain,
                            likelihood=chance, reason=reason, draft=draft))  # fmt: skip
            asks.append(PlannedAsk(ref, gain, chance, reason, draft))
        c = session.get(Campaign, view.id)
        assert c is not None
        c.planned_at, c.expected_reach = now, expected
    return asks
