"""Campaigns through the real store on SQLite and PostgreSQL: the plan asks only ask-ready
people within the budget, prefers who reaches others, a re-plan after sending leaves out the
just-asked, acting on an ask makes an advocate with a thank waiting in the nurture queue, and
the list shows every campaign with its status and funnel."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from karmabank.actions.campaigns import (
    list_campaigns,
    new_campaign,
    respond,
    send_campaign,
    show_campaign,
)
from karmabank.actions.importing import import_files
from karmabank.actions.issues import add_issue
from karmabank.actions.likelihood import likelihood_inputs
from karmabank.actions.mobilization import plan_campaign
from karmabank.actions.nurture import nurture_queue
from karmabank.actions.people import person_refs, set_flag
from karmabank.actions.relationships import person_scores
from karmabank.errors import ConfigError, NotFoundError
from karmabank.measures.planning import ask_reason, whys_of
from karmabank.measures.settings import MeasureSettings
from karmabank.model import Flag
from karmabank.store.open import Store
from tests.cli_helpers import run
from tests.conftest import NOW

S = MeasureSettings()


def iso(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def network(store: Store, tmp_path: Path) -> Store:
    """Hub: 12 fans reply to and share what Hub posts; we thanked and helped Hub. Solo: as
    warm as Hub, as given to, but nobody listens to Solo. Fans 0-11: given to (help, thank).
    Dan: given to, but do-not-contact. Bea: never given to (balance). Cal: given to and asked
    10 days ago (cooldown). Ten lurkers who only liked us once."""
    rows = ["occurred_at,person,name,verb,direction,channel,text,target"]
    for who, name in (("hub", "Hub Host"), ("solo", "Solo Sam")):
        for d in (5, 20, 40, 80):
            rows.append(f"{iso(d)},{who}@example.org,{name},comment,in,blog,,")
        rows.append(f"{iso(30)},{who}@example.org,{name},help,give,blog,,")
        rows.append(f"{iso(10)},{who}@example.org,{name},thank,give,blog,,")
    for i in range(12):
        fan = f"fan{i}@example.org"
        rows.append(f"{iso(50 + i)},{fan},Fan {i},comment,in,blog,,")
        rows.append(f"{iso(3 + i)},{fan},Fan {i},like,in,blog,,")
        rows.append(f"{iso(12)},{fan},Fan {i},help,give,blog,,")
        rows.append(f"{iso(12)},{fan},Fan {i},thank,give,blog,,")
        for d in (4, 9, 15):
            rows.append(f"{iso(d)},{fan},Fan {i},reply,peer,blog,,hub@example.org")
    for who, name in (("dan", "Dan Never"), ("cal", "Cal Recent")):
        rows.append(f"{iso(6)},{who}@example.org,{name},comment,in,blog,,")
        rows.append(f"{iso(60)},{who}@example.org,{name},comment,in,blog,,")
        rows.append(f"{iso(20)},{who}@example.org,{name},help,give,blog,,")
        rows.append(f"{iso(20)},{who}@example.org,{name},gift,give,blog,,")
        rows.append(f"{iso(20)},{who}@example.org,{name},feature,give,blog,,")
    rows.append(f"{iso(10)},cal@example.org,Cal Recent,attend,ask,blog,,")
    rows.append(f"{iso(6)},bea@example.org,Bea Taker,comment,in,blog,,")
    rows.append(f"{iso(70)},bea@example.org,Bea Taker,comment,in,blog,,")
    for i in range(10):
        rows.append(f"{iso(100)},lurk{i}@example.org,,like,in,blog,,")
    f = tmp_path / "campaign.csv"
    f.write_text("\n".join(rows) + "\n")
    import_files(store=store, fmt="csv", paths=[f], options={}, now=NOW)
    set_flag(store=store, ref="dan@example.org", flag=Flag.DO_NOT_CONTACT, on=True, now=NOW,
             actor="test")  # fmt: skip
    return store


def names(people: list[dict]) -> list[str]:  # type: ignore[type-arg]
    return [p["name"] for p in people]


def test_the_plan_asks_only_ask_ready_people_within_the_budget(network: Store) -> None:
    new_campaign(store=network, name="Spring drive", action="share", budget=3, now=NOW)
    plan = plan_campaign(store=network, name="Spring drive", now=NOW, settings=S)
    asked = names([a.person for a in plan.asks])
    assert len(asked) == 3  # the budget holds
    assert asked[0] == "Hub Host"  # twelve fans listen to Hub: the most reach first
    assert plan.asks[0].marginal_reach > plan.asks[1].marginal_reach
    rules = {e["person"]["name"]: e["rule"] for e in plan.excluded}
    assert rules["Dan Never"] == "do_not_contact"
    assert rules["Bea Taker"] == "balance"
    assert rules["Cal Recent"] == "recent_ask"
    assert not set(asked) & set(rules)  # never an excluded person
    assert all(a.draft.startswith("Hi ") and "Spring drive" in a.draft for a in plan.asks)
    assert plan.asks[0].draft.endswith("Warm regards,\nMy organization")  # by email
    assert "likely to act" in plan.asks[0].reason
    data = plan.as_json()
    assert set(data) == {"campaign", "expected_reach", "asks", "excluded"}
    assert set(data["asks"][0]) == {"person", "marginal_reach", "likelihood", "reason", "draft"}
    assert set(data["asks"][0]["person"]) == {"id", "name", "identities"}
    assert data["expected_reach"] == pytest.approx(sum(a.marginal_reach for a in plan.asks),
                                                   abs=0.01)  # fmt: skip


def test_a_replan_after_sending_leaves_out_the_just_asked(network: Store) -> None:
    new_campaign(store=network, name="Drive", action="share", budget=4, now=NOW)
    first = plan_campaign(store=network, name="Drive", now=NOW, settings=S)
    sent = send_campaign(store=network, name="Drive", now=NOW)
    assert names(sent.sent) == names([a.person for a in first.asks])
    later = NOW + timedelta(hours=2)
    new_campaign(store=network, name="Other", action="attend", budget=20, now=later)
    other = plan_campaign(store=network, name="Other", now=later, settings=S)
    others = names([a.person for a in other.asks])
    assert not set(others) & set(names(sent.sent))  # asked two hours ago: cooldown
    rules = {e["person"]["name"]: e["rule"] for e in other.excluded}
    assert all(rules[n] in ("recent_ask", "balance") for n in names(sent.sent))
    scores = person_scores(
        store=network, ref=sent.sent[0]["id"].__str__(), now=later, settings=S
    ).as_json()
    assert scores["ledger"]["asked"] == S.ledger.ask_weight  # the ledger moved


def test_acting_makes_an_advocate_and_a_thank_waits(network: Store) -> None:
    new_campaign(store=network, name="Cleanup", action="volunteer", budget=2, now=NOW)
    plan = plan_campaign(store=network, name="Cleanup", now=NOW, settings=S)
    send_campaign(store=network, name="Cleanup", now=NOW)
    who = plan.asks[0].person
    later = NOW + timedelta(days=1)
    r = respond(store=network, name="Cleanup", ref=str(who["id"]), response="acted", now=later)
    assert r.status == "acted" and r.recorded == "volunteer"
    scores = person_scores(store=network, ref=str(who["id"]), now=later, settings=S).as_json()
    assert scores["stage"] in ("advocate", "leader")
    queue = nurture_queue(store=network, now=later, settings=S, limit=50)
    mine = [i for i in queue if i.person["id"] == who["id"]]
    assert mine and mine[0].kind == "thank_ask"
    shown = show_campaign(store=network, name="Cleanup")
    assert shown.funnel["sent"] == 2 and shown.funnel["acted"] == 1
    with pytest.raises(ConfigError):  # acted once is enough
        respond(store=network, name="Cleanup", ref=str(who["id"]), response="acted", now=later)


def test_clear_errors(network: Store) -> None:
    with pytest.raises(ConfigError, match="unknown action"):
        new_campaign(store=network, name="X", action="dance", budget=1, now=NOW)
    with pytest.raises(ConfigError, match="budget"):
        new_campaign(store=network, name="X", action="share", budget=0, now=NOW)
    new_campaign(store=network, name="X", action="share", budget=1, now=NOW)
    with pytest.raises(ConfigError, match="already exists"):
        new_campaign(store=network, name="X", action="share", budget=1, now=NOW)
    with pytest.raises(NotFoundError):
        plan_campaign(store=network, name="Nope", now=NOW, settings=S)
    with pytest.raises(ConfigError, match="no planned asks"):
        send_campaign(store=network, name="X", now=NOW)
    with pytest.raises(ConfigError, match="was not asked"):
        respond(store=network, name="X", ref="hub@example.org", response="yes", now=NOW)


def test_the_list_shows_every_campaign_newest_first_with_its_funnel(network: Store) -> None:
    assert list_campaigns(store=network) == []
    add_issue(store=network, name="Rivers", keywords=["river"], now=NOW)
    due = NOW + timedelta(days=30)
    new_campaign(store=network, name="Old", action="volunteer", budget=2, now=NOW,
                 issue="Rivers", deadline=due)  # fmt: skip
    plan_campaign(store=network, name="Old", now=NOW, settings=S)
    send_campaign(store=network, name="Old", now=NOW)
    later = NOW + timedelta(hours=1)
    new_campaign(store=network, name="Planned", action="share", budget=1, now=later)
    plan_campaign(store=network, name="Planned", now=later, settings=S)
    new_campaign(store=network, name="Fresh", action="sign", budget=5, now=later)
    old = show_campaign(store=network, name="Old")
    respond(store=network, name="Old", ref=str(old.asks[0]["person"]["id"]), response="acted",
            now=later)  # fmt: skip
    rows = list_campaigns(store=network)
    assert [r.campaign.name for r in rows] == ["Fresh", "Planned", "Old"]  # newest first
    assert [r.status for r in rows] == ["new", "planned", "sent"]
    fresh, planned, sent = rows
    assert fresh.funnel == dict.fromkeys(fresh.funnel, 0) and fresh.campaign.planned_at is None
    assert planned.funnel["planned"] == 1 and planned.funnel["sent"] == 0
    assert sent.funnel == show_campaign(store=network, name="Old").funnel  # the same counts
    assert sent.funnel["sent"] == 2 and sent.funnel["acted"] == 1 and sent.funnel["yes"] == 1
    data = sent.as_json()
    assert (data["issue"], data["budget"], data["action"]) == ("Rivers", 2, "volunteer")
    assert data["deadline"].startswith(due.date().isoformat()) and data["status"] == "sent"
    assert [r.campaign.name for r in list_campaigns(store=network, limit=1)] == ["Fresh"]


def test_a_sent_campaign_keeps_its_figures(
    network: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    new_campaign(store=network, name="Drive", action="share", budget=3, now=NOW)
    first = plan_campaign(store=network, name="Drive", now=NOW, settings=S)
    send_campaign(store=network, name="Drive", now=NOW)
    later = NOW + timedelta(hours=2)
    with pytest.raises(ConfigError) as refused:  # the budget is spent: nothing to re-plan
        plan_campaign(store=network, name="Drive", now=later, settings=S)
    assert str(refused.value) == (
        f"campaign 'Drive' was sent: all 3 asks of its budget went out (expected reach "
        f"{first.expected_reach:.1f}); nothing is left to plan (see `karmabank campaign show`, "
        "or start a new campaign)"
    )
    shown = show_campaign(store=network, name="Drive")
    assert shown.campaign.expected_reach == pytest.approx(first.expected_reach)  # not 0.0
    assert [a["marginal_reach"] for a in shown.asks] == pytest.approx(
        [a.marginal_reach for a in first.asks]
    )
    db = network.url
    r = run(capsys, "campaign", "plan", "Drive", "--db", db, "--now", later.isoformat())
    assert r.code == 1 and "Traceback" not in r.err
    assert (r.out + r.err).strip().splitlines() == [f"error: {refused.value}"]


def test_a_re_plan_after_a_partial_send_adds_to_what_was_sent(network: Store) -> None:
    new_campaign(store=network, name="Drive", action="share", budget=3, now=NOW)
    first = plan_campaign(store=network, name="Drive", now=NOW, settings=S)
    dropped = first.asks[-1].person  # flagged before the send: not sent
    set_flag(store=network, ref=str(dropped["id"]), flag=Flag.DO_NOT_CONTACT, on=True, now=NOW,
             actor="test")  # fmt: skip
    sent = send_campaign(store=network, name="Drive", now=NOW)
    assert len(sent.sent) == 2
    later = NOW + timedelta(hours=2)
    again = plan_campaign(store=network, name="Drive", now=later, settings=S)
    assert again.budget_left == 1 and len(again.asks) == 1
    assert again.asks[0].person["name"] not in names(sent.sent) + [dropped["name"]]
    kept = sum(a.marginal_reach for a in first.asks[:2])
    shown = show_campaign(store=network, name="Drive")
    assert shown.campaign.expected_reach == pytest.approx(kept + again.expected_reach)


def test_reasons_say_what_is_true_of_each_person(network: Store) -> None:
    new_campaign(store=network, name="Spring drive", action="share", budget=3, now=NOW)
    plan = plan_campaign(store=network, name="Spring drive", now=NOW, settings=S)
    reasons = {a.person["name"]: a.reason for a in plan.asks}
    assert reasons["Hub Host"] == (
        "core, active, engaged; 26% likely to act (warmth (+0.8), never asked: the usual answer "
        "rate (+0.5), active days in the last 90 (+0.5)); if they do, about 12 more people hear "
        "of it through them (expected reach +3.4)"
    )
    # a fitted model standardizes: having been given to (never_given = 0, where the average
    # is 11/27) is a part as large as never having been, and must be said as it is
    model, feats = likelihood_inputs(store=network, now=NOW, settings=S)
    x = np.column_stack([feats[f].to_numpy() for f in model.features])
    coefficients = [-1.0 if f == "never_given" else 0.0 for f in model.features]
    fitted = replace(model, means=tuple(x.mean(axis=0)), coefficients=tuple(coefficients),
                     scales=tuple(np.where(x.std(axis=0) > 0, x.std(axis=0), 1.0)))  # fmt: skip
    ids = {
        r["name"]: r["id"] for r in person_refs(network, feats["person_id"].to_pylist()).values()
    }
    whys = whys_of(fitted, feats, [ids["Hub Host"], ids["Bea Taker"]], 1)
    assert whys == {ids["Hub Host"]: "we gave to them (+0.8)",
                    ids["Bea Taker"]: "never given anything (−1.2)"}  # fmt: skip


def test_a_reason_with_no_circle_says_so() -> None:
    assert ask_reason((None, None, None), 2.0, 0.5, "") == (
        "in no circle; 50% likely to act; if they do, about 3 more people hear of it through "
        "them (expected reach +2.0)"
    )


def test_a_second_plan_reads_everyone_s_likelihood_and_says_the_same(network: Store) -> None:
    new_campaign(store=network, name="Drive", action="share", budget=3, now=NOW)
    first = plan_campaign(store=network, name="Drive", now=NOW, settings=S)
    cached = list(network.columns_dir.glob("*.chance.parquet"))
    assert len(cached) == 1  # everyone's likelihood, for these scores
    again = plan_campaign(store=network, name="Drive", now=NOW, settings=S)
    assert [(a.person, a.likelihood, a.reason, a.draft) for a in again.asks] == [
        (a.person, a.likelihood, a.reason, a.draft) for a in first.asks
    ]
    # the features of a few, computed from their own activities, are everyone's for them
    ids = [a.person["id"] for a in first.asks]
    _, few = likelihood_inputs(store=network, now=NOW, settings=S, people=ids)
    _, everyone = likelihood_inputs(store=network, now=NOW, settings=S)
    mask = pc.is_in(everyone["person_id"], pa.array(ids, pa.int64()))
    assert few.equals(everyone.filter(mask))


def test_the_plan_s_json_is_one_shape_with_every_one_counted(
    network: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    """`campaign plan --json`, the API and the page show `report_json`: the plan and its
    counts; a limit names fewer of those left out but counts them all."""
    new_campaign(store=network, name="Drive", action="share", budget=2, now=NOW)
    plan = plan_campaign(store=network, name="Drive", now=NOW, settings=S)
    data = plan.report_json()
    assert set(data) == set(plan.as_json()) | {
        "excluded_count", "excluded_by_rule", "budget_left", "candidates", "likelihood_model",
        "target_reach", "target_met", "target_note",
    }  # fmt: skip
    assert (data["target_reach"], data["target_met"], data["target_note"]) == (None, None, None)
    assert data["excluded_count"] == len(plan.excluded) == sum(plan.excluded_by_rule.values())
    assert (data["budget_left"], data["candidates"]) == (2, plan.candidates)
    few = plan_campaign(store=network, name="Drive", now=NOW, settings=S, excluded_limit=1)
    assert few.excluded == plan.excluded[:1] and few.excluded_count == plan.excluded_count
    r = run(capsys, "campaign", "plan", "Drive", "--db", network.url, "--now", NOW.isoformat(),
            "--json")  # fmt: skip
    assert r.code == 0, r.err
    assert json.loads(r.out) == json.loads(json.dumps(data))
    sent = run(capsys, "campaign", "send", "Drive", "--db", network.url, "--now", NOW.isoformat(),
               "--json")  # fmt: skip
    assert sent.code == 0, sent.err
    shown = json.loads(sent.out)  # the SendReport's as_json, as the API answers it
    assert set(shown) == {"campaign", "sent", "refused"} and len(shown["sent"]) == 2
    who = str(shown["sent"][0]["id"])
    answer = run(capsys, "campaign", "respond", "Drive", who, "yes", "--db", network.url,
                 "--now", NOW.isoformat(), "--json")  # fmt: skip
    assert answer.code == 0, answer.err
    assert json.loads(answer.out) == {"campaign": "Drive", "person": shown["sent"][0],
                                      "status": "responded", "recorded": "answer"}  # fmt: skip


def test_a_target_reach_met_stops_the_plan_early(
    network: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    """Asks are added in the plan's order until their expected reach meets the target: fewer
    than the budget, and the plan says so."""
    new_campaign(store=network, name="Whole", action="share", budget=6, now=NOW)
    whole = plan_campaign(store=network, name="Whole", now=NOW, settings=S)
    assert len(whole.asks) == 6
    gains = [a.marginal_reach for a in whole.asks]
    target = gains[0] + gains[1] / 2  # the first ask is not enough, the second is
    c = new_campaign(store=network, name="Target", action="share", budget=6, now=NOW,
                     target_reach=target)  # fmt: skip
    assert c.target_reach == pytest.approx(target) and c.as_json()["target_reach"] == target
    plan = plan_campaign(store=network, name="Target", now=NOW, settings=S)
    assert [a.person for a in plan.asks] == [a.person for a in whole.asks[:2]]  # its order
    assert plan.expected_reach == pytest.approx(gains[0] + gains[1])
    assert plan.target_met is True
    assert plan.target_note == f"target reach {target:,.1f} met with 2 asks of 6"
    shown = show_campaign(store=network, name="Target")
    assert shown.funnel["planned"] == 2 and shown.campaign.target_reach == pytest.approx(target)
    assert shown.campaign.expected_reach == pytest.approx(plan.expected_reach)
    data = plan.report_json()
    assert (data["target_reach"], data["target_met"]) == (pytest.approx(target), True)
    r = run(capsys, "campaign", "plan", "Target", "--db", network.url, "--now", NOW.isoformat())
    assert r.code == 0, r.err
    assert f"target reach {target:,.1f} met with 2 asks of 6" in r.out
    r = run(capsys, "campaign", "show", "Target", "--db", network.url, "--now", NOW.isoformat())
    assert f"budget 6, target reach {target:,.1f}" in r.out


def test_a_target_reach_not_met_uses_the_budget_and_says_by_how_much(
    network: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run(capsys, "campaign", "new", "Far", "--action", "share", "--budget", "2",
            "--target-reach", "500", "--db", network.url, "--now", NOW.isoformat())  # fmt: skip
    assert r.code == 0, r.err
    assert "at most 2 asks, target reach 500;" in r.out
    plan = plan_campaign(store=network, name="Far", now=NOW, settings=S)
    assert len(plan.asks) == 2 and plan.target_met is False  # the budget ends first
    short = 500 - plan.expected_reach
    assert plan.target_note == (f"target reach 500 not met: expected reach "
                                f"{plan.expected_reach:.1f} with 2 asks of 2, {short:.1f} short")  # fmt: skip
    listed = run(capsys, "campaign", "list", "--db", network.url, "--json")
    assert json.loads(listed.out)[0]["target_reach"] == 500


def test_a_target_reach_counts_the_asks_sent_before(network: Store) -> None:
    new_campaign(store=network, name="Drive", action="share", budget=6, now=NOW)
    first = plan_campaign(store=network, name="Drive", now=NOW, settings=S)
    gains = [a.marginal_reach for a in first.asks]
    new_campaign(store=network, name="Half", action="share", budget=6, now=NOW,
                 target_reach=gains[0] * 0.9)  # fmt: skip
    half = plan_campaign(store=network, name="Half", now=NOW, settings=S)
    assert len(half.asks) == 1 and half.target_met
    send_campaign(store=network, name="Half", now=NOW)
    later = NOW + timedelta(hours=2)
    again = plan_campaign(store=network, name="Half", now=later, settings=S)
    assert again.asks == [] and again.target_met is True  # met by the one sent
    assert again.target_note is not None and "met by the asks sent" in again.target_note
    assert show_campaign(store=network, name="Half").funnel["planned"] == 1  # the sent one


def test_a_target_reach_must_be_positive(
    network: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    for bad in (0.0, -3.0, float("nan"), float("inf")):
        with pytest.raises(ConfigError, match="target_reach must be a positive number"):
            new_campaign(store=network, name="X", action="share", budget=1, now=NOW,
                         target_reach=bad)  # fmt: skip
    r = run(capsys, "campaign", "new", "X", "--action", "share", "--budget", "1",
            "--target-reach", "0", "--db", network.url, "--now", NOW.isoformat())  # fmt: skip
    assert r.code == 1 and "--target-reach must be a positive number, not 0" in (r.out + r.err)
    assert list_campaigns(store=network) == []
