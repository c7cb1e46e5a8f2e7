"""The first plan after new data reuses what did not change, and says exactly what a plan
computed from nothing says: on SQLite and PostgreSQL, a plan right after one new activity
(new scores: the communities of an unchanged peer graph read from their cache, the last fit
kept) gives the same asks, reasons, likelihoods and counts as the same plan once every cache
made for these scores is deleted."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from karmabank.actions.campaigns import new_campaign
from karmabank.actions.mobilization import plan_campaign
from karmabank.actions.recording import record_activity
from karmabank.actions.scores import LastRescore
from karmabank.graph import communities
from karmabank.measures.settings import MeasureSettings
from karmabank.model import Direction
from karmabank.store.open import Store
from tests.actions.test_campaigns import network  # noqa: F401  (the fixture)
from tests.conftest import NOW

S = MeasureSettings()
CAPPED = replace(S, planner=replace(S.planner, community_share=0.34))  # one ask per community


@pytest.fixture
def detected(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of each graph the planner detected communities on."""
    made: list[int] = []
    real = communities.detect_communities

    def counted(src: Any, dst: Any, n: int, **kw: Any) -> Any:
        made.append(n)
        return real(src, dst, n, **kw)

    monkeypatch.setattr(communities, "detect_communities", counted)
    return made


def _plan(store: Store) -> dict[str, Any]:
    plan = plan_campaign(store=store, name="Drive", now=NOW, settings=CAPPED)
    return {**plan.report_json(), "rr_sets": plan.rr_sets, "capped": plan.capped}


def _caches(store: Store) -> list[Path]:
    """Everything the planner keeps for one set of scores or one graph (the last fit aside:
    it outlives scores by design, measures/likelihood_refit.py)."""
    return [
        p for p in store.columns_dir.glob("*")
        if p.name.startswith(("communities-", "likelihood-", "plan-seeds-"))
        and "likelihood-fit" not in p.name
    ]  # fmt: skip


def test_new_scores_reuse_the_communities_and_plan_as_from_nothing(
    network: Store,  # noqa: F811
    detected: list[int],
) -> None:
    new_campaign(store=network, name="Drive", action="share", budget=3, now=NOW)
    _plan(network)
    assert len(detected) == 1  # the cap binds: the communities were needed
    record_activity(store=network, direction=Direction.IN, ref="lurk0@example.org",
                    verb="comment", at=NOW - timedelta(hours=2), now=NOW)  # fmt: skip
    after = _plan(network)  # new scores, the same peer graph
    assert len(detected) == 1  # read from the cache, not detected again
    for p in _caches(network):
        p.unlink()
    assert _plan(network) == after  # everything computed again: the same plan
    assert len(detected) == 2


def _features_kept(store: Store) -> set[int]:
    """The people whose features the plan kept beside everyone's likelihood."""
    import pyarrow.parquet as pq

    (path,) = store.columns_dir.glob("likelihood-*.features.parquet")
    return set(pq.read_table(path, columns=["person_id"])["person_id"].to_pylist())


def test_a_plan_keeps_the_ask_ready_features_and_reads_them_back_as_computed(
    network: Store,  # noqa: F811
) -> None:
    new_campaign(store=network, name="Drive", action="share", budget=3, now=NOW)
    first = _plan(network)  # everyone's features computed, the ask-ready kept
    last = LastRescore.read(network)
    assert last is not None
    ready = last.snapshot(network).table(pa.schema([("person_id", pa.int64()),
                                                    ("ask_ready", pa.bool_())]))  # fmt: skip
    assert ready is not None
    ask_ready = {p for p, r in zip(*(ready[c].to_pylist() for c in ready.column_names),
                                   strict=True) if r}  # fmt: skip
    assert first["asks"] and _features_kept(network) == ask_ready
    assert len(ask_ready) < ready.num_rows  # not everyone's: the ask-ready only
    again = _plan(network)  # the same scores: the likelihood and the reasons read back
    assert again == first
    for p in network.columns_dir.glob("likelihood-*.features.parquet"):
        p.unlink()  # the chosen explained from their own activities instead
    assert _plan(network) == first


def test_who_is_ask_ready_comes_from_person_score_when_the_snapshot_is_behind(
    network: Store,  # noqa: F811
) -> None:
    """A change to person_score after the rescore (a merge or an erasure while an import runs
    keeps the rescore from running) is seen: the snapshot is read only for the data it was
    made of."""
    from sqlalchemy import update

    from karmabank.actions.mobilization import _scored
    from karmabank.actions.organization import write_audit
    from karmabank.store.tables import PersonScore

    new_campaign(store=network, name="Drive", action="share", budget=3, now=NOW)
    first = _plan(network)
    last = LastRescore.read(network)
    assert last is not None
    chosen = first["asks"][0]["person"]["id"]
    with network.sessions.begin() as session:  # not audited: the data did not change
        session.execute(update(PersonScore).where(PersonScore.person_id == chosen)
                        .values(ask_ready=False, ask_rule="cooldown"))  # fmt: skip
    scored = _scored(network, last)
    assert bool(scored.ready[scored.people == chosen][0])  # the snapshot's, as rescored
    with network.sessions.begin() as session:
        write_audit(session, now=NOW, actor="test", action="test", subject="person_score")
    behind = _scored(network, last)
    assert not bool(behind.ready[behind.people == chosen][0])
    assert int(behind.rule[behind.people == chosen][0]) == 3  # cooldown, the third rule
    assert behind.people.tolist() == scored.people.tolist()
