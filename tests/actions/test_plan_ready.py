"""Plans kept ready (`actions/plan_ready.py`), on SQLite and PostgreSQL: after a rescore,
everyone's likelihood for each open campaign's issue is cached with the new scores, so the
plan reads it instead of computing it (and is the same plan as one that computed it); closed
campaigns (past their deadline, or all their budget sent) and none at all cost nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from karmabank.actions import likelihood
from karmabank.actions.campaigns import new_campaign
from karmabank.actions.mobilization import plan_campaign
from karmabank.actions.plan_ready import open_campaigns, ready_plans
from karmabank.actions.recording import record_activity
from karmabank.actions.scoring import rescore
from karmabank.measures.settings import MeasureSettings
from karmabank.model import Direction
from karmabank.store.open import Store
from tests.actions.test_campaigns import network  # noqa: F401  (the fixture)
from tests.cli_helpers import run
from tests.conftest import NOW

S = MeasureSettings()


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The issues whose everyone's-likelihood was computed (not read from the cache)."""
    made: list[str | None] = []
    real = likelihood.likelihood_inputs

    def counted(**kw: Any) -> Any:
        if kw.get("people") is None:
            made.append(kw.get("issue"))
        return real(**kw)

    monkeypatch.setattr(likelihood, "likelihood_inputs", counted)
    return made


def _new_data(store: Store, hours: int) -> None:
    record_activity(store=store, direction=Direction.IN, ref="lurk0@example.org",
                    verb="comment", at=NOW - timedelta(hours=hours), now=NOW)  # fmt: skip


def test_a_rescore_readies_the_open_campaigns_plans(
    network: Store,  # noqa: F811
    computed: list[str | None],
) -> None:
    assert ready_plans(store=network, now=NOW, settings=S).campaigns == ()  # none: nothing
    assert computed == []
    new_campaign(store=network, name="Drive", action="share", budget=3, now=NOW)
    new_campaign(store=network, name="Past", action="share", budget=3, now=NOW - timedelta(days=9),
                 deadline=NOW - timedelta(days=1))  # fmt: skip
    assert [name for name, _ in open_campaigns(network, NOW)] == ["Drive"]
    before = plan_campaign(store=network, name="Drive", now=NOW, settings=S).report_json()
    assert computed == [None]

    _new_data(network, 2)
    rescore(store=network, now=NOW, settings=S)
    ready = ready_plans(store=network, now=NOW, settings=S)
    assert ready.campaigns == ("Drive",) and ready.computed == 1 and computed == [None, None]
    plan = plan_campaign(store=network, name="Drive", now=NOW, settings=S).report_json()
    assert computed == [None, None]  # the plan read what the rescore readied
    again = ready_plans(store=network, now=NOW, settings=S)
    assert again.computed == 0  # there already
    assert plan["asks"] and before["asks"]  # plans were made (the data moved in between)
    _new_data(network, 1)  # a plan that computes everything itself says the same
    rescore(store=network, now=NOW, settings=S)
    fresh = plan_campaign(store=network, name="Drive", now=NOW, settings=S).report_json()
    ready_plans(store=network, now=NOW, settings=S)
    read = plan_campaign(store=network, name="Drive", now=NOW, settings=S).report_json()
    assert computed == [None, None, None]
    assert read == fresh


def test_the_rescore_command_says_which_plans_are_ready(
    network: Store,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = network.url
    r = run(capsys, "rescore", "--db", db, "--now", NOW.isoformat(), "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["plans_ready"] == {"campaigns": [], "likelihoods_computed": 0}
    new_campaign(store=network, name="Drive", action="share", budget=3, now=NOW)
    _new_data(network, 2)
    r = run(capsys, "rescore", "--db", db, "--now", NOW.isoformat())
    assert r.code == 0, r.err
    assert "plans ready for 1 open campaigns (Drive): everyone's likelihood to act" in r.out
