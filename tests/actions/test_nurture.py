"""The nurture queue on a hand-built network, through the real store on SQLite and PostgreSQL:
every rule the issue names, done/skip/snooze, the limit and one item per person."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from karmabank.actions.importing import import_files
from karmabank.actions.nurture import nurture_done, nurture_queue, nurture_skip, nurture_snooze
from karmabank.actions.people import set_flag
from karmabank.actions.recording import record_activity
from karmabank.actions.relationships import person_scores
from karmabank.errors import ConfigError
from karmabank.measures.settings import MeasureSettings
from karmabank.model import Direction, Flag
from karmabank.store.open import Store
from tests.conftest import NOW

S = MeasureSettings()


def iso(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def network(store: Store, tmp_path: Path) -> Store:
    """Dee: core, came every 2 days until 100 days ago (drifting). Rae: core, every 10 days
    until 25 days ago (resting). Nia: first comment 2 days ago (newcomer). Don: do not contact,
    commented yesterday. Gia: donated yesterday. 60 others: two comments long ago."""
    rows = ["occurred_at,person,name,verb,direction,channel,text"]
    for k in range(60):
        rows.append(f"{iso(100 + 2 * k)},dee@example.org,Dee Dee,comment,in,blog,")
    for k in range(25):
        rows.append(f"{iso(25 + 10 * k)},rae@example.org,Rae Ray,comment,in,blog,")
    rows.append(f"{iso(2)},nia@example.org,Nia New,comment,in,blog,Where do we meet?")
    rows.append(f"{iso(1)},don@example.org,Don Quiet,comment,in,blog,Count me in")
    rows.append(f"{iso(1)},gia@example.org,Gia Giver,donate,in,donations,")
    rows.append(f"{iso(400)},gia@example.org,Gia Giver,like,in,blog,")
    for i in range(60):
        rows.append(f"{iso(300)},p{i}@example.org,,comment,in,blog,")
        rows.append(f"{iso(299)},p{i}@example.org,,comment,in,blog,")
    f = tmp_path / "network.csv"
    f.write_text("\n".join(rows) + "\n")
    import_files(store=store, fmt="csv", paths=[f], options={}, now=NOW)
    set_flag(store=store, ref="don@example.org", flag=Flag.DO_NOT_CONTACT, on=True, now=NOW,
             actor="test")  # fmt: skip
    return store


def by_name(items: list) -> dict[str, object]:  # type: ignore[type-arg]
    return {i.person["name"]: i for i in items}


def test_each_rule_and_who_gets_nothing(network: Store) -> None:
    items = by_name(nurture_queue(store=network, now=NOW, settings=S, limit=10))
    assert items["Dee Dee"].kind == "check_in"  # type: ignore[attr-defined]
    assert "drifting" in items["Dee Dee"].reason  # type: ignore[attr-defined]
    assert "Rae Ray" not in items  # core but resting: never nagged
    assert "Don Quiet" not in items  # do not contact, whatever they wrote
    nia = items["Nia New"]
    assert nia.kind == "reply"  # type: ignore[attr-defined]
    assert nia.next_step == 'answer: "Where do we meet?"'  # type: ignore[attr-defined]
    assert "Nia" in nia.draft  # type: ignore[attr-defined]
    gia = items["Gia Giver"]
    assert gia.kind == "thank"  # type: ignore[attr-defined]  # the donation outranks the return


def test_limit_and_one_item_per_person(network: Store) -> None:
    items = nurture_queue(store=network, now=NOW, settings=S, limit=2)
    assert len(items) == 2
    everyone = nurture_queue(store=network, now=NOW, settings=S, limit=50)
    people = [i.person["id"] for i in everyone]
    assert len(people) == len(set(people))
    with pytest.raises(ConfigError):
        nurture_queue(store=network, now=NOW, settings=S, limit=0)


def test_done_records_the_give_and_moves_the_ledger(network: Store) -> None:
    before = person_scores(store=network, ref="nia@example.org", now=NOW, settings=S).as_json()
    nia = by_name(nurture_queue(store=network, now=NOW, settings=S))["Nia New"]
    _, act = nurture_done(store=network, item_id=nia.id, now=NOW)  # type: ignore[attr-defined]
    assert (act.direction, act.verb) == ("give", "reply")
    after = person_scores(store=network, ref="nia@example.org", now=NOW, settings=S).as_json()
    assert after["ledger"]["given"] == before["ledger"]["given"] + 3.0  # a reply weighs 3
    again = by_name(nurture_queue(store=network, now=NOW, settings=S))
    assert "Nia New" not in again or again["Nia New"].kind != "reply"  # type: ignore[attr-defined]
    with pytest.raises(ConfigError):
        nurture_done(store=network, item_id=nia.id, now=NOW)  # type: ignore[attr-defined]


def test_a_recorded_thank_counts_as_thanking(network: Store) -> None:
    settings = MeasureSettings()
    items = by_name(nurture_queue(store=network, now=NOW, settings=settings, limit=50))
    assert items["Gia Giver"].kind == "thank"  # type: ignore[attr-defined]
    record_activity(store=network, direction=Direction.GIVE, ref="gia@example.org",
                    verb="thank", at=NOW, now=NOW)  # fmt: skip
    items = by_name(nurture_queue(store=network, now=NOW, settings=settings, limit=50))
    back = items["Gia Giver"]
    assert back.kind == "welcome_back"  # type: ignore[attr-defined]
    assert back.reason.startswith("back after 399 days of silence")  # type: ignore[attr-defined]
    record_activity(store=network, direction=Direction.GIVE, ref="gia@example.org",
                    verb="welcome", at=NOW, now=NOW)  # fmt: skip
    items = by_name(nurture_queue(store=network, now=NOW, settings=settings, limit=50))
    assert "Gia Giver" not in items


def test_snoozed_comes_back_after_its_days_and_skipped_never(network: Store) -> None:
    dee = by_name(nurture_queue(store=network, now=NOW, settings=S))["Dee Dee"]
    nurture_snooze(store=network, item_id=dee.id, now=NOW, days=3)  # type: ignore[attr-defined]
    assert "Dee Dee" not in by_name(nurture_queue(store=network, now=NOW, settings=S))
    day2 = NOW + timedelta(days=2)
    assert "Dee Dee" not in by_name(nurture_queue(store=network, now=day2, settings=S))
    day3 = NOW + timedelta(days=3)
    back = by_name(nurture_queue(store=network, now=day3, settings=S))["Dee Dee"]
    assert back.id == dee.id  # type: ignore[attr-defined]
    nurture_skip(store=network, item_id=dee.id, now=day3)  # type: ignore[attr-defined]
    day4 = NOW + timedelta(days=4)
    assert "Dee Dee" not in by_name(nurture_queue(store=network, now=day4, settings=S))


def test_thank_ask_celebrate_and_share(store: Store, tmp_path: Path) -> None:
    """An acted ask gets a thank (and `done` marks it thanked); a one-year anniversary is
    celebrated; recent content that matches an issue is offered to share, with its URL."""
    from sqlalchemy import select

    from karmabank.actions.issues import add_issue
    from karmabank.store.tables import Ask, Campaign

    rows = [
        "occurred_at,person,name,verb,direction,channel,object,text",
        f"{iso(367)},ann@example.org,Ann Year,comment,in,blog,,",
        f"{iso(40)},ann@example.org,Ann Year,comment,in,blog,,",
        f"{iso(30)},ash@example.org,Ash Acted,comment,in,blog,,",
        f"{iso(31)},ash@example.org,Ash Acted,comment,in,blog,,",
        f"{iso(3)},sam@example.org,Sam Share,mention,in,mastodon,https://sam.example/river,"
        "Photos of the river cleanup: 40 bags of litter",
        f"{iso(60)},sam@example.org,Sam Share,comment,in,blog,,",
        f"{iso(3)},sam@example.org,Sam Share,reply,give,mastodon,,",  # answered: no reply item
    ]
    f = tmp_path / "more.csv"
    f.write_text("\n".join(rows) + "\n")
    import_files(store=store, fmt="csv", paths=[f], options={}, now=NOW)
    add_issue(store=store, name="River cleanup", keywords=["river", "litter"], now=NOW)
    with store.sessions.begin() as session:
        ash = person_scores(store=store, ref="ash@example.org", now=NOW,
                            settings=S).as_json()["id"]  # fmt: skip
        campaign = Campaign(name="Spring cleanup", action="volunteer", budget=10, created_at=NOW)
        session.add(campaign)
        session.flush()
        session.add(Ask(campaign_id=campaign.id, person_id=ash, status="acted", planned_at=NOW,
                        acted_at=NOW - timedelta(days=2)))  # fmt: skip
    items = by_name(nurture_queue(store=store, now=NOW, settings=S, limit=20))
    assert items["Ash Acted"].kind == "thank_ask"  # type: ignore[attr-defined]
    assert '"Spring cleanup"' in items["Ash Acted"].reason  # type: ignore[attr-defined]
    assert items["Ann Year"].kind == "celebrate"  # type: ignore[attr-defined]
    assert items["Ann Year"].reason.startswith("1 year(s) with us")  # type: ignore[attr-defined]
    sam = items["Sam Share"]
    assert sam.kind == "share"  # type: ignore[attr-defined]
    assert sam.next_step == "share https://sam.example/river"  # type: ignore[attr-defined]
    assert "River cleanup" in sam.reason  # type: ignore[attr-defined]
    nurture_done(store=store, item_id=items["Ash Acted"].id, now=NOW)  # type: ignore[attr-defined]
    with store.sessions() as session:
        ask = session.scalars(select(Ask)).one()
        assert ask.thanked_at == NOW
    after = by_name(nurture_queue(store=store, now=NOW, settings=S, limit=20))["Ash Acted"]
    assert after.kind == "celebrate"  # type: ignore[attr-defined]  # thanked; now an advocate
    assert after.reason == "became an advocate: celebrate"  # type: ignore[attr-defined]


def test_only_people_who_came_toward_us_have_an_anniversary(store: Store, tmp_path: Path) -> None:
    """Someone we only gave to (and asked) a year ago never came toward us: no anniversary to
    celebrate; someone who commented a year ago has one."""
    rows = [
        "occurred_at,person,name,verb,direction,channel",
        f"{iso(367)},ann@example.org,Ann Year,comment,in,blog",
        f"{iso(40)},ann@example.org,Ann Year,comment,in,blog",
        f"{iso(367)},gil@example.org,Gil Given,thank,give,email",
        f"{iso(200)},gil@example.org,Gil Given,volunteer,ask,email",
    ]
    f = tmp_path / "gives.csv"
    f.write_text("\n".join(rows) + "\n")
    import_files(store=store, fmt="csv", paths=[f], options={}, now=NOW)
    gil = person_scores(store=store, ref="gil@example.org", now=NOW, settings=S).as_json()
    assert gil["tenure_days"] is None or gil["tenure_days"] >= 365
    items = by_name(nurture_queue(store=store, now=NOW, settings=S, limit=20))
    assert items["Ann Year"].kind == "celebrate"  # type: ignore[attr-defined]
    assert "Gil Given" not in items


def test_done_is_one_transaction(network: Store) -> None:
    """`done` records the give and closes the item together: a crash while closing the item
    (here, at the flush that writes its status) leaves neither, and a retry records the give
    exactly once."""
    from sqlalchemy import event, func, select
    from sqlalchemy.orm import Session

    from karmabank.store.tables import Activity, Suggestion

    nia = by_name(nurture_queue(store=network, now=NOW, settings=S))["Nia New"]

    def crash(session: Session, *_: object) -> None:
        if any(isinstance(o, Suggestion) and o.status == "done" for o in session.dirty):
            raise RuntimeError("the process died here")

    pid: int = nia.person["id"]  # type: ignore[attr-defined]

    def gives() -> int:
        mine = (Activity.person_id == pid) & (Activity.direction == "give")
        with network.sessions() as session:
            return int(session.scalar(select(func.count(Activity.id)).where(mine)) or 0)

    event.listen(Session, "before_flush", crash)
    try:
        with pytest.raises(RuntimeError):
            nurture_done(store=network, item_id=nia.id, now=NOW)  # type: ignore[attr-defined]
    finally:
        event.remove(Session, "before_flush", crash)
    assert gives() == 0
    item, act = nurture_done(store=network, item_id=nia.id, now=NOW)  # type: ignore[attr-defined]
    assert (item.status, act.verb, gives()) == ("done", "reply", 1)
    with pytest.raises(ConfigError):
        nurture_done(store=network, item_id=nia.id, now=NOW)  # type: ignore[attr-defined]
    assert gives() == 1


def test_done_gives_to_the_items_person_not_an_identity_with_their_number(
    store: Store, tmp_path: Path
) -> None:
    """An edge list's people have numbers for keys: the item's person is its database id, never
    the person whose identity key happens to be that number."""
    rows = ["occurred_at,person,name,verb,direction,channel,text"]
    rows += [f"{iso(300)},x:{k},,like,in,x," for k in (*range(1, 10), 100)]  # ids 1 to 10
    rows.append(f"{iso(1)},x:100,,comment,in,x,Hello")
    f = tmp_path / "numbers.csv"
    f.write_text("\n".join(rows) + "\n")
    import_files(store=store, fmt="csv", paths=[f], options={}, now=NOW)
    item = next(i for i in nurture_queue(store=store, now=NOW, settings=S, limit=20)
                if i.kind == "reply")  # fmt: skip
    assert item.person["identities"] == ["x:100"]
    assert item.person["id"] <= 10  # a bare number names x:<number> (an identity comes first)
    _, act = nurture_done(store=store, item_id=item.id, now=NOW)
    assert act.person_id == item.person["id"]
