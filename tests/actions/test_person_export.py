"""A person's export on both backends (`karmabank export`, actions/person_export.py): the
versioned layout; exactly their rows (each section's count equals a query of the tables), with
the scores' parts and sentences; nothing of anyone else (no other person's name or identity);
an unknown person is exit 1; imported text with HTML and ANSI escapes stays data (exact in the
JSON and the CSV file, visible escapes on a terminal); CSV cells a spreadsheet would run are
quoted."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import func, or_, select

from karmabank.actions.campaigns import new_campaign, send_campaign
from karmabank.actions.merging import merge_never, merge_people, unmerge
from karmabank.actions.mobilization import plan_campaign
from karmabank.actions.opt_outs import set_opt_out
from karmabank.actions.people import find_person
from karmabank.actions.person_export import FORMAT, VERSION, PersonExport, export_person
from karmabank.actions.recording import record_activity
from karmabank.model import Direction
from karmabank.store.open import Store
from karmabank.store.tables import Activity, Ask, Identity, Person, Suggestion
from tests.actions import test_campaigns
from tests.actions.test_campaigns import S
from tests.cli_helpers import run
from tests.conftest import NOW

world = test_campaigns.network
HUB = "hub@example.org"
HOSTILE = "<script>alert('x')</script> \x1b[31mred\x1b[0m =HYPERLINK(\"http://evil\")"


def _story(store: Store) -> int:
    """Hub gets an ask, an opt-out, a merge undone, a never-merge pair and a hostile text."""
    new_campaign(store=store, name="Drive", action="share", budget=3, now=NOW)
    plan_campaign(store=store, name="Drive", now=NOW, settings=S)
    send_campaign(store=store, name="Drive", now=NOW)
    set_opt_out(store=store, ref=HUB, channel="mastodon", on=True, now=NOW, actor="test")
    record_activity(store=store, direction=Direction.IN, ref=HUB, verb="comment", at=NOW,
                    now=NOW, channel="blog", text=HOSTILE)  # fmt: skip
    record_activity(store=store, direction=Direction.IN, ref="twin@example.org", verb="like",
                    at=NOW, now=NOW, name="Twin Other")  # fmt: skip
    m = merge_people(store=store, a=HUB, b="twin@example.org", now=NOW, decided_by="test")
    unmerge(store=store, merge_id=m.id, now=NOW, decided_by="test")
    merge_never(store=store, a=HUB, b="twin@example.org", now=NOW, decided_by="test")
    with store.sessions() as s:
        return find_person(s, HUB).id


def _export(store: Store, ref: str = HUB) -> PersonExport:
    return export_person(store=store, ref=ref, now=NOW, settings=S)


def test_the_export_holds_exactly_their_rows(world: Store) -> None:
    pid = _story(world)
    doc = _export(world).as_json()
    assert (doc["format"], doc["version"]) == (FORMAT, VERSION) == ("karmabank.person-export", 1)
    assert doc["person"]["id"] == pid and doc["person"]["name"] == "Hub Host"
    with world.sessions() as s:
        theirs = or_(Activity.person_id == pid, Activity.target_id == pid)
        acts = s.scalar(select(func.count()).select_from(Activity).where(theirs))
        ids = set(s.scalars(select(Activity.id).where(theirs)))
        asks = s.scalar(select(func.count()).select_from(Ask).where(Ask.person_id == pid))
        sugg = s.scalar(
            select(func.count()).select_from(Suggestion).where(Suggestion.person_id == pid)
        )
        idents = list(s.scalars(select(Identity.key).where(Identity.person_id == pid)))
    assert len(doc["activities"]) == acts and {a["id"] for a in doc["activities"]} == ids
    assert acts > 5 and any(a["by"] == "other" for a in doc["activities"])  # fans' replies
    assert len(doc["asks"]) == asks == 1 and doc["asks"][0]["status"] == "sent"
    assert len(doc["suggestions"]) == sugg
    assert [i["key"] for i in doc["identities"]] == idents
    assert [o["channel"] for o in doc["opt_outs"]] == ["mastodon"]
    assert len(doc["merges"]) == 1 and doc["merges"][0]["undone_by"] == "test"
    assert len(doc["merge_never"]) == 1
    actions = [e["action"] for e in doc["audit"]]
    assert {"optout", "record", "merge", "unmerge", "merge never"} <= set(actions)
    scores = doc["scores"]
    assert scores["warmth"]["parts"] and scores["why"]["warmth"] and scores["why"]["ledger"]
    assert sum(p["contribution"] for p in scores["warmth"]["parts"]) == pytest.approx(
        scores["warmth"]["value"]
    )


def test_nothing_of_anyone_else(world: Store) -> None:
    _story(world)
    text = json.dumps(_export(world).as_json(), ensure_ascii=False)
    with world.sessions() as s:
        hub = find_person(s, HUB).id
        others = s.execute(select(Person.id, Person.name).where(Person.id != hub)).all()
        keys = s.scalars(select(Identity.key).where(Identity.person_id != hub)).all()
    assert len(others) > 20
    for _id, name in others:
        if name:
            assert name not in text
    for key in keys:
        assert key not in text
    fan = _export(world, "fan0@example.org").as_json()
    assert "Hub Host" not in json.dumps(fan) and HUB not in json.dumps(fan)
    assert all(e["subject"] != f"person:{hub}" for e in fan["audit"])


def test_hostile_text_stays_data(world: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    _story(world)
    url = world.url
    found = _export(world)
    assert HOSTILE in [a["text"] for a in found.as_json()["activities"]]
    rows = list(csv.reader(io.StringIO(found.csv_text())))
    assert rows[0] == ["section", "item", "field", "value"]
    cells = [r[3] for r in rows if r[0] == "activities" and r[2] == "text" and r[3]]
    assert "'" + HOSTILE not in cells and HOSTILE in cells  # starts with <: not a formula
    out = tmp_path / "hub.json"
    r = run(capsys, "export", HUB, "--db", url, "--out", str(out))
    assert r.code == 0 and "exported person" in r.err
    assert HOSTILE in [a["text"] for a in json.loads(out.read_text())["activities"]]
    r = run(capsys, "export", HUB, "--db", url, "--format", "csv")
    assert r.code == 0 and "\x1b" not in r.out and "\\x1b[31mred" in r.out
    r = run(capsys, "export", HUB, "--db", url)
    assert r.code == 0 and "\x1b" not in r.out and json.loads(r.out)["person"]["name"] == "Hub Host"
    r = run(capsys, "export", HUB, "--db", url, "--out", str(out))  # never replaced
    assert r.code == 1 and "exists" in r.err


def test_formulas_are_quoted_in_the_csv(world: Store) -> None:
    record_activity(store=world, direction=Direction.IN, ref=HUB, verb="comment", at=NOW,
                    now=NOW, channel="blog", text="=1+1")  # fmt: skip
    rows = list(csv.reader(io.StringIO(_export(world).csv_text())))
    texts = [r[3] for r in rows if r[0] == "activities" and r[2] == "text"]
    assert "'=1+1" in texts and "=1+1" not in texts
    assert ["format", "", "", FORMAT] in rows and ["version", "", "", "1"] in rows


def test_unknown_person_and_bad_format_exit_1(world: Store, capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    r = run(capsys, "export", "nobody@example.org", "--db", world.url)
    assert r.code == 1 and "no person" in r.err and "Traceback" not in r.err
    r = run(capsys, "export", HUB, "--db", world.url, "--format", "xml")
    assert r.code == 1 and "json or csv" in r.err
