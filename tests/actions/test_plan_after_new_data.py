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

import pytest

from karmabank.actions.campaigns import new_campaign
from karmabank.actions.mobilization import plan_campaign
from karmabank.actions.recording import record_activity
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
        if p.name.startswith(("communities-", "likelihood-")) and "likelihood-fit" not in p.name
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
