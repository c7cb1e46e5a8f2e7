"""Plans kept ready (`actions/plan_ready.py`), on SQLite and PostgreSQL: after a rescore,
everyone's likelihood for each open campaign's issue and the campaign's seeds are cached with
the new scores, so the plan reads them instead of computing them (and is the same plan as one
that computed them); seeds kept at one time answer for a plan at another only while no peer
activity lies between; closed campaigns (past their deadline, or all their budget sent) and
none at all cost nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from karmabank.actions import likelihood
from karmabank.actions.campaigns import new_campaign
from karmabank.actions.importing import import_files
from karmabank.actions.mobilization import plan_campaign
from karmabank.actions.plan_ready import open_campaigns, ready_plans
from karmabank.actions.recording import record_activity
from karmabank.actions.scoring import rescore
from karmabank.measures import planning
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


@pytest.fixture
def chosen(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The budgets of the seeds chosen by IMM (not read from those kept)."""
    made: list[int] = []
    real = planning.seeds_for

    def counted(edges: Any, pool: Any, k: int, *a: Any, **kw: Any) -> Any:
        made.append(k)
        return real(edges, pool, k, *a, **kw)

    monkeypatch.setattr(planning, "seeds_for", counted)
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
    assert json.loads(r.out)["plans_ready"] == {
        "campaigns": [],
        "likelihoods_computed": 0,
        "seeds_chosen": 0,
    }
    new_campaign(store=network, name="Drive", action="share", budget=3, now=NOW)
    _new_data(network, 2)
    r = run(capsys, "rescore", "--db", db, "--now", NOW.isoformat())
    assert r.code == 0, r.err
    assert (
        "plans ready for 1 open campaign (Drive): everyone's likelihood to act and the "
        "asks chosen in" in r.out
    )


def test_the_rescore_chooses_the_open_campaigns_asks_and_the_plan_reads_them(
    network: Store,  # noqa: F811
    chosen: list[int],
) -> None:
    new_campaign(store=network, name="Drive", action="share", budget=3, now=NOW)
    new_campaign(store=network, name="Small", action="share", budget=1, now=NOW)
    _new_data(network, 2)
    rescore(store=network, now=NOW, settings=S)
    ready = ready_plans(store=network, now=NOW, settings=S)
    assert ready.seeds_chosen == 2 and chosen == [3, 1]  # one choice per open campaign
    plan = plan_campaign(store=network, name="Drive", now=NOW, settings=S).report_json()
    assert chosen == [3, 1] and len(plan["asks"]) == 3  # the plan read the kept choice
    assert ready_plans(store=network, now=NOW, settings=S).seeds_chosen == 0  # kept already
    for kept in network.columns_dir.glob("plan-seeds-*"):
        kept.unlink()
    fresh = plan_campaign(store=network, name="Drive", now=NOW, settings=S).report_json()
    assert chosen == [3, 1, 3] and fresh == plan  # chosen again: the same plan
    (kept,) = network.columns_dir.glob("plan-seeds-*")  # the plan kept its own choice
    kept.write_text("{not json")  # unreadable: chosen again, never an error
    assert plan_campaign(store=network, name="Drive", now=NOW, settings=S).report_json() == plan
    assert chosen == [3, 1, 3, 3]


def test_kept_asks_answer_only_while_no_peer_activity_lies_between(
    network: Store,  # noqa: F811
    chosen: list[int],
    tmp_path: Any,
) -> None:
    """A reply dated 10 minutes after the rescore's time is not in its peer graph, and is in
    that of a plan 20 minutes later (scores within `rescore.stale_after_minutes` answer for
    both times): that plan chooses again; one 5 minutes later reads the kept choice."""
    new_campaign(store=network, name="Drive", action="share", budget=3, now=NOW)
    later = (NOW + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    f = tmp_path / "later.csv"
    f.write_text("occurred_at,person,verb,direction,channel,target\n"
                 f"{later},solo@example.org,reply,peer,blog,fan0@example.org\n")  # fmt: skip
    import_files(store=network, fmt="csv", paths=[f], options={}, now=NOW + timedelta(hours=1))
    rescore(store=network, now=NOW, settings=S)
    assert ready_plans(store=network, now=NOW, settings=S).seeds_chosen == 1 and chosen == [3]
    plan_campaign(store=network, name="Drive", now=NOW + timedelta(minutes=5), settings=S)
    assert chosen == [3]  # the same peer graph: read
    plan_campaign(store=network, name="Drive", now=NOW + timedelta(minutes=20), settings=S)
    assert chosen == [3, 3]  # the reply is in this one's graph: chosen again
