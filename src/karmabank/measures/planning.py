"""The mobilization planner's arithmetic (PRODUCT.md §5), pure: whom a plan may ask and who is
left out by which rule (`pool_of`, `left_out`), each person's likelihood to act on the
diffusion graph and IMM's seeds within the community cap (`seeds_for`, `choose_seeds`), and the
reason said for each ask (`whys_of`, `ask_reason`).

Arrow tables and NumPy arrays in, the same out; no store, no clock. The use case
(`actions/mobilization.py`) reads the scores and the likelihood, calls these, and writes the
plan (`actions/campaign_plan.py`). The graph code (`karmabank.graph`) is imported when a plan
needs it: it takes a second to import (Numba, igraph).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from karmabank.frames import micros
from karmabank.measures import likelihood as lk
from karmabank.measures.settings import PlannerSettings
from karmabank.model import RhythmStatus

if TYPE_CHECKING:
    from karmabank.graph.diffusion import DiffusionGraph
    from karmabank.graph.imm import InfluencePlan
    from karmabank.measures.affinity import IssueText

Ids = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

# the rules that keep someone out of a plan: the ledger's ask rules (PRODUCT.md §3), named as
# the plan shows them, and one of the campaign's own
RULES = {
    "do_not_contact": "do_not_contact",  # asked not to be contacted
    "balance": "balance",  # we have not given them enough to ask: give first
    "cooldown": "recent_ask",  # asked within ledger.ask_cooldown_days
    "frequency": "yearly_cap",  # ledger.max_asks asks within ledger.max_asks_days
    "campaign": "asked_in_campaign",  # already asked in this campaign
    "opted_out": "opted_out",  # opted out of every channel they have (actions/opt_outs.py)
}
_SHOWN = np.asarray([None, *RULES.values()], dtype=object)  # by rule code (0: none)
CHANCE_SCHEMA = pa.schema([("person_id", pa.int64()), ("likelihood", pa.float64())])
LIKELIHOOD_SCHEMA = pa.schema(
    [("person_id", pa.int64()), ("likelihood", pa.float64()),
     ("parts", pa.list_(pa.struct([("feature", pa.string()), ("contribution", pa.float64())]))),
     ("why", pa.string())]
)  # fmt: skip


# -- everyone's likelihood -------------------------------------------------------------------
def chance_of(model: lk.LikelihoodModel, feats: pa.Table) -> pa.Table:
    """person_id, likelihood (CHANCE_SCHEMA): everyone's likelihood to act (column-wise, no
    explanation)."""
    return pa.table({"person_id": feats["person_id"], "likelihood": lk.predict(model, feats)})


def likelihood_table(model: lk.LikelihoodModel, feats: pa.Table, parts: int) -> pa.Table:
    """Everyone's likelihood to act with its `parts` largest parts, in numbers and in words
    (LIKELIHOOD_SCHEMA)."""
    top = lk.top_parts(model, feats, parts)
    return pa.table(
        {"person_id": feats["person_id"], "likelihood": lk.predict(model, feats),
         "parts": top, "why": lk.why_text(top)},
        schema=LIKELIHOOD_SCHEMA,
    )  # fmt: skip


def affinity_at(texts: pa.Table, issue: IssueText, until: datetime) -> pa.Table:
    """person_id, affinity to `issue`, from the `texts` (person_id, occurred_at, text) up to
    `until` only."""
    from karmabank.measures.affinity import affinity

    upto = texts.filter(pc.less_equal(texts["occurred_at"], micros(until)))
    return affinity(upto.select(["person_id", "text"]), [issue]).select(["person_id", "affinity"])


def by_person(likely: pa.Table, people: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Each of `people`'s likelihood to act (0 where the model has no row for them)."""
    ids = likely.column("person_id").to_numpy()
    values = likely.column("likelihood").to_numpy(zero_copy_only=False).astype(float)
    order = np.argsort(ids)
    ids, values = ids[order], values[order]
    pos = np.clip(np.searchsorted(ids, people), 0, max(len(ids) - 1, 0))
    found = (pos < len(ids)) & (ids[pos] == people) if len(ids) else np.zeros(len(people), bool)
    return np.where(found, values[pos] if len(ids) else 0.0, 0.0)


# -- who may be asked, and who is left out by which rule --------------------------------------
@dataclass(frozen=True)
class Pool:
    """Everyone scored, as a plan sees them: their likelihood, whether the plan may ask them,
    and the rule that keeps them out (a code: 0 for none, else the position in RULES from 1)."""

    people: Ids
    chance: Floats
    eligible: npt.NDArray[np.bool_]
    code: Ids

    @property
    def candidates(self) -> Ids:
        return self.people[self.eligible]


def pool_of(people: Ids, ready: npt.NDArray[np.bool_], code: Ids, chance: Floats,
            asked: set[int], opted_out: set[int] | None = None) -> Pool:  # fmt: skip
    """The ask-ready people not `asked` in this campaign yet are eligible; the asked are kept
    out by the campaign's own rule, the ask-ready `opted_out` of every channel they have by
    theirs."""
    in_campaign = np.isin(people, np.fromiter(asked, np.int64, len(asked)))
    code = np.array(code, dtype=np.int64)
    code[in_campaign] = list(RULES).index("campaign") + 1
    out = set() if opted_out is None else opted_out
    no_channel = np.isin(people, np.fromiter(out, np.int64, len(out))) & ready & ~in_campaign
    code[no_channel] = list(RULES).index("opted_out") + 1
    return Pool(people, chance, ready & ~in_campaign & ~no_channel, code)


@dataclass(frozen=True)
class LeftOut:
    """Everyone a plan leaves out, counted by rule, and the first few by likelihood to act."""

    by_rule: dict[str, int]
    people: list[int]  # the most likely to act first
    rules: list[str]  # each one's rule

    @property
    def count(self) -> int:
        return sum(self.by_rule.values())


def left_out(pool: Pool, limit: int | None) -> LeftOut:
    """Who `pool` leaves out: all counted by rule, the first `limit` (all: None) named."""
    out = ~pool.eligible
    counts = np.bincount(pool.code[out], minlength=_SHOWN.size)
    by_rule = {str(_SHOWN[i]): int(n) for i, n in enumerate(counts.tolist()) if n}
    order = np.argsort(-pool.chance[out], kind="stable")[:limit]
    rules = _SHOWN[pool.code[out][order]]
    return LeftOut(by_rule, pool.people[out][order].tolist(), [str(r) for r in rules.tolist()])


# -- the seeds: IMM on the peer graph --------------------------------------------------------
@dataclass(frozen=True)
class Seeds:
    """The chosen asks in IMM's order: (person, marginal reach, likelihood) each, their
    expected reach, how many reverse-reachable sets it took, and whether the sample stopped
    at `planner.max_rr_sets` (no IMM guarantee then)."""

    chosen: list[tuple[int, float, float]]
    expected: float = 0.0
    rr_sets: int = 0
    capped: bool = False

    @property
    def people(self) -> list[int]:
        return [p for p, _, _ in self.chosen]

    def as_json(self) -> dict[str, Any]:
        return {"chosen": [list(c) for c in self.chosen], "expected": self.expected,
                "rr_sets": self.rr_sets, "capped": self.capped}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Seeds:
        """The seeds `as_json` wrote (ValueError, KeyError or TypeError when they are not)."""
        chosen = [(int(p), float(g), float(c)) for p, g, c in data["chosen"]]
        return cls(chosen, float(data["expected"]), int(data["rr_sets"]), bool(data["capped"]))


def seeds_key(pool: Pool, k: int, p: PlannerSettings) -> str:
    """A digest of what `seeds_for` depends on besides the peer edges: everyone's likelihood,
    who may be asked, `k` and the planner's settings. With the same edges, equal keys choose
    the same seeds (the sampling is seeded)."""
    import xxhash

    digest = xxhash.xxh3_128()
    digest.update(f"{int(k)}:{p!r}:".encode())
    for column in (pool.people, pool.chance, pool.eligible):
        digest.update(np.ascontiguousarray(column).tobytes())
        digest.update(b"|")
    return digest.hexdigest()


Communities = Callable[["DiffusionGraph"], npt.NDArray[np.int64]]


def seeds_for(
    edges: pa.Table, pool: Pool, k: int, p: PlannerSettings, *,
    communities: Communities | None = None,
) -> Seeds:  # fmt: skip
    """`k` of `pool`'s candidates chosen to reach the most people times their likelihood to
    act (IMM on the diffusion graph of the peer `edges`, within reach of the candidates:
    nobody else can be reached), at most `planner.community_share` of them from one
    community."""
    from karmabank.graph.diffusion import diffusion_graph

    candidates = pool.candidates
    whole = diffusion_graph(edges, also=candidates)
    graph = whole.within_reach(whole.nodes_of(candidates))
    weights = np.zeros(graph.n)
    known = np.isin(pool.people, graph.people)
    weights[graph.nodes_of(pool.people[known])] = pool.chance[known]
    plan = choose_seeds(graph, graph.nodes_of(candidates), weights, k, p, communities=communities)
    chosen = [
        (int(graph.people[node]), float(gain), float(weights[node]))
        for node, gain in zip(plan.seeds.tolist(), plan.marginal_gains.tolist(), strict=True)
    ]
    return Seeds(chosen, float(plan.spread_estimate), int(plan.rr_sets), plan.capped)


def to_target(seeds: Seeds, target: float | None, already: float = 0.0) -> Seeds:
    """The first of `seeds` (in the plan's order) whose expected reach, added to `already`
    (that of the asks sent before), meets `target`; all of them when there is no target or
    when they do not meet it (the budget ends first). The expected reach of a shortened plan
    is the sum of its asks' marginal reach (IMM's gains sum to its estimate)."""
    if target is None or already + seeds.expected < target:
        return seeds
    if already >= target:  # met by the asks sent before: nothing more to ask
        return Seeds([], 0.0, seeds.rr_sets, seeds.capped)
    reach = already
    for n, (_, gain, _) in enumerate(seeds.chosen[:-1], start=1):
        reach += gain
        if reach >= target:
            kept = seeds.chosen[:n]
            return Seeds(kept, sum(g for _, g, _ in kept), seeds.rr_sets, seeds.capped)
    return seeds  # it takes them all


def choose_seeds(
    graph: DiffusionGraph, candidates: Ids, weights: Floats, k: int, p: PlannerSettings, *,
    communities: Communities | None = None,
) -> InfluencePlan:  # fmt: skip
    """IMM's `k` seeds among `candidates` (nodes of `graph`), at most `community_share` of
    them from one community. The communities (`communities(graph)`; by default detected now)
    are asked for only when the plan without the cap would break it: with its seeds within
    the cap, the capped greedy takes the same ones."""
    from karmabank.graph import detect_communities, maximize_influence

    def found() -> npt.NDArray[np.int64]:
        if communities is not None:
            return communities(graph)
        return detect_communities(graph.src, graph.dst, graph.n, seed=p.seed)

    # one IMM run: the communities are asked for only when its choice would break the cap
    return maximize_influence(
        graph.src, graph.dst, graph.prob, graph.n, k, epsilon=p.epsilon, ell=p.ell,
        candidates=candidates, weights=weights, communities=found if len(graph.src) else None,
        max_per_community=max(1, math.ceil(p.community_share * k)) if len(graph.src) else None,
        seed=p.seed, cap_rr_sets=p.max_rr_sets,
    )  # fmt: skip


# -- the reasons -----------------------------------------------------------------------------
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


def _part_text(rows: pa.Table, name: str, i: int) -> str:
    """What feature `name` says of the person of row `i`, as it is for them."""
    value = float(rows[name][i].as_py() or 0.0)
    if name in _WHEN_ABSENT and value < 0.5:
        return _WHEN_ABSENT[name]
    if name in _NOT_YET and _never(rows, name, i):
        return _NOT_YET[name][1]
    return lk.FEATURE_TEXT.get(name, name)


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
            text = _part_text(rows, name, i)
            said.append(f"{text} ({'+' if round(part, 1) >= 0 else '−'}{abs(part):.1f})")
        out[int(person)] = ", ".join(said)
    return out


Facts = tuple[str | None, str | None, str | None]  # circle, rhythm status, ladder stage


def ask_reason(facts: Facts, gain: float, chance: float, why: str) -> str:
    """E.g. "core, active, engaged; 26% likely to act (...); if they do, about 12 more people
    hear of it through them (expected reach +3.4)"."""
    circle, status, stage = facts
    who = ", ".join(x for x in (circle or "in no circle", status, stage) if x)
    because = f" ({why})" if why else ""
    through = max(gain / chance - 1.0, 0.0) if chance > 0 else 0.0
    return (f"{who}; {chance:.0%} likely to act{because}; if they do, about {through:.0f} more "
            f"people hear of it through them (expected reach +{gain:.1f})")  # fmt: skip
