"""A team or bot flag round trip keeps the person's circle history, through the real store on
SQLite and PostgreSQL: a core member flagged and unflagged is held in core for 90 days like
anyone whose warmth fell, instead of being demoted at once."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from karmabank.actions.importing import import_files
from karmabank.actions.people import set_flag
from karmabank.actions.relationships import person_scores
from karmabank.measures.settings import MeasureSettings
from karmabank.model import Flag
from karmabank.store.open import Store
from tests.conftest import NOW

S = MeasureSettings()
T0 = NOW - timedelta(days=60)  # Cora is core then
T1 = NOW  # Bea has become the warmest since


def stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def network(store: Store, tmp_path: Path) -> Store:
    """50 people with two comments 200 days before T0; Cora (the only core member of 50)
    comments every day for the 40 days before T0, then stops; Bea comments every day from T0
    to T1, so that at T1 Bea is core and Cora's own rank is lower (allies)."""
    rows = ["occurred_at,person,name,verb,direction,channel"]
    for i in range(48):
        for k in range(2):
            rows.append(f"{stamp(T0 - timedelta(days=200 + k))},p{i}@example.org,,comment,in,blog")
    for d in range(40):
        rows.append(
            f"{stamp(T0 - timedelta(days=d + 1))},cora@example.org,Cora Core,comment,in,blog"
        )
    rows.append(f"{stamp(T0 - timedelta(days=200))},bea@example.org,Bea Rise,comment,in,blog")
    rows.append(f"{stamp(T0 - timedelta(days=199))},bea@example.org,Bea Rise,comment,in,blog")
    for d in range(59):
        rows.append(f"{stamp(T0 + timedelta(days=d + 1))},bea@example.org,Bea Rise,share,in,blog")
    f = tmp_path / "circles.csv"
    f.write_text("\n".join(rows) + "\n")
    import_files(store=store, fmt="csv", paths=[f], options={}, now=NOW)
    return store


def circle(store: Store, at: datetime) -> dict[str, object]:
    p = person_scores(store=store, ref="cora@example.org", now=at, settings=S).as_json()
    return {"circle": p["circle"], **(p.get("circle_history") or {})}


def _history_at_t1(store: Store, flag: Flag | None) -> dict[str, object]:
    at_t0 = circle(store, T0)
    assert at_t0["circle"] == "core"
    if flag is not None:
        set_flag(store=store, ref="cora@example.org", flag=flag, on=True, now=T0, actor="test")
        while_flagged = person_scores(
            store=store, ref="cora@example.org", now=T0 + timedelta(days=20), settings=S
        ).as_json()
        assert while_flagged["circle"] is None  # left out of the measures meanwhile
        set_flag(store=store, ref="cora@example.org", flag=flag, on=False, now=T0, actor="test")
    return circle(store, T1)


def test_without_a_flag_a_lower_rank_is_held(network: Store) -> None:
    """The reference: Cora's rank fell between T0 and T1; she stays core, pending allies."""
    at_t1 = _history_at_t1(network, None)
    assert at_t1["circle"] == "core" and at_t1["pending"] == "allies"
    assert at_t1["since"] == stamp(T0)  # T0: her first rescore in core


@pytest.mark.parametrize("flag", [Flag.TEAM, Flag.BOT])
def test_a_flag_round_trip_keeps_the_circle_history(network: Store, flag: Flag) -> None:
    at_t1 = _history_at_t1(network, flag)
    assert at_t1["circle"] == "core", at_t1  # held, not demoted at once
    assert at_t1["pending"] == "allies"
    assert at_t1["since"] == stamp(T0)  # the history continued
    assert at_t1["pending_since"] == stamp(T1)  # the hold starts at T1
    later = circle(network, T1 + timedelta(days=91))  # the hold has passed: demoted
    assert later["circle"] != "core"
