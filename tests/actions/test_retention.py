"""Retention on both backends (actions/retention.py): off by default; set to N days it drops the
texts of older activities at once and keeps the rows (time, verb, weight, people), so every
score stays the same; an import brings an old text: dropped when the import ends; days pass:
the next rescore drops what grew old; a command "as of" a later time than the clock drops
nothing the clock would not; every change and every drop is audited; bad values exit 1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from karmabank.actions.audit import read_audit
from karmabank.actions.importing import import_files
from karmabank.actions.relationships import person_scores
from karmabank.actions.retention import apply_retention, retention_of, set_retention
from karmabank.actions.scoring import rescore
from karmabank.measures.settings import MeasureSettings
from karmabank.store.open import Store
from karmabank.store.tables import Activity
from tests.cli_helpers import run
from tests.conftest import NOW

S = MeasureSettings()
HEADER = "occurred_at,person,name,verb,direction,channel,text,weight\n"


def _at(days_ago: int, now: datetime = NOW) -> str:
    return (now - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _import(store: Store, tmp: Path, name: str, rows: list[str], now: datetime = NOW) -> None:
    f = tmp / name
    f.write_text(HEADER + "\n".join(rows) + "\n")
    import_files(store=store, fmt="csv", paths=[f], options={}, now=now, actor="ann")


def _texts(store: Store) -> dict[str, str | None]:
    """Each activity's text by its verb and age (the rows' `object` is empty)."""
    with store.sessions() as s:
        rows = s.execute(select(Activity.verb, Activity.text, Activity.weight))
        return {r.verb: r.text for r in rows}


@pytest.fixture
def world(store: Store, tmp_path: Path) -> Store:
    _import(store, tmp_path, "a.csv", [
        f"{_at(100)},ada@example.org,Ada,comment,in,blog,old words,2",
        f"{_at(40)},ada@example.org,Ada,reply,in,blog,middle words,",
        f"{_at(10)},ada@example.org,Ada,share,in,blog,new words,",
        f"{_at(5)},ada@example.org,Ada,help,give,blog,we helped,",
    ])  # fmt: skip
    return store


def test_off_by_default_and_set_drops_old_texts_keeping_rows(world: Store) -> None:
    assert retention_of(store=world, now=NOW).days is None
    assert apply_retention(store=world, now=NOW, actor="ann").dropped == 0
    assert _texts(world)["comment"] == "old words"
    before = person_scores(store=world, ref="ada@example.org", now=NOW, settings=S).as_json()
    with world.sessions() as s:
        rows = s.execute(
            select(Activity.id, Activity.occurred_at, Activity.weight).order_by(Activity.id)
        ).all()
    done = set_retention(store=world, days=30, now=NOW, actor="ann")
    assert done.dropped == 2 and done.days == 30
    assert done.through == NOW - timedelta(days=30)
    assert _texts(world) == {"comment": None, "reply": None, "share": "new words",
                             "help": "we helped"}  # fmt: skip
    with world.sessions() as s:
        assert (
            s.execute(
                select(Activity.id, Activity.occurred_at, Activity.weight).order_by(Activity.id)
            ).all()
            == rows
        )
    rescore(store=world, now=NOW, settings=S)
    after = person_scores(store=world, ref="ada@example.org", now=NOW, settings=S).as_json()
    for key in ("warmth", "ledger", "circle", "status", "tenure_days"):
        assert after[key] == before[key]
    entries = read_audit(store=world).entries
    assert [(e.action, e.actor) for e in entries[:2]] == [("retention", "ann"),
                                                         ("retention set", "ann")]  # fmt: skip
    assert entries[0].details["dropped_texts"] == 2
    assert "old words" not in repr(entries)
    assert apply_retention(store=world, now=NOW, actor="ann").dropped == 0  # nothing left


def test_imports_and_passing_days_apply_it(world: Store, tmp_path: Path) -> None:
    set_retention(store=world, days=30, now=NOW, actor="ann")
    _import(world, tmp_path, "b.csv", [f"{_at(200)},bo@example.org,Bo,like,in,blog,ancient,",
                                       f"{_at(1)},bo@example.org,Bo,follow,in,blog,fresh,"])  # fmt: skip
    texts = _texts(world)
    assert texts["like"] is None and texts["follow"] == "fresh"
    later = NOW + timedelta(days=27)  # share (37 days old then), help (32) pass 30; follow (28) not
    rescore(store=world, now=later, settings=S)
    texts = _texts(world)
    assert texts["share"] is None and texts["help"] is None and texts["follow"] == "fresh"
    with world.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Activity)) == 6
    set_retention(store=world, days=None, now=later, actor="ann")
    _import(world, tmp_path, "c.csv", [f"{_at(300)},cy@example.org,Cy,donate,in,blog,kept,"])
    assert _texts(world)["donate"] == "kept"  # off: nothing is dropped


def test_a_later_now_than_the_clock_drops_nothing_more(store: Store, tmp_path: Path) -> None:
    clock = datetime.now(UTC)
    _import(store, tmp_path, "d.csv", [f"{_at(10, clock)},ada@example.org,Ada,comment,in,blog,"
                                       "recent,"], now=clock)  # fmt: skip
    future = clock + timedelta(days=365)
    assert set_retention(store=store, days=30, now=future, actor="ann").dropped == 0
    assert _texts(store)["comment"] == "recent"


def test_the_cli(world: Store, capsys: pytest.CaptureFixture[str]) -> None:
    db = world.url
    r = run(capsys, "retention", "show", "--db", db)
    assert r.code == 0 and "retention: off" in r.out
    now = NOW.isoformat()
    r = run(capsys, "retention", "set", "60", "--db", db, "--now", now)
    assert r.code == 0 and "retention: 60 days" in r.out and "dropped 1 now" in r.out
    r = run(capsys, "retention", "apply", "--db", db, "--now", now, "--json")
    assert r.code == 0 and '"dropped": 0' in r.out
    for bad in ("0", "soon", "40000", "3.5"):
        r = run(capsys, "retention", "set", bad, "--db", db)
        assert r.code == 1 and "number of days" in r.err and "Traceback" not in r.err
    r = run(capsys, "retention", "set", "off", "--db", db)
    assert r.code == 0 and "retention: off" in r.out
