"""A person's detail (the `person` command, the person page and /api/people/{id}) through the
real store on SQLite and PostgreSQL: what they did and what others did to them, merged."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from karmabank.actions.importing import import_files
from karmabank.actions.person_story import person_detail
from karmabank.store.open import Store
from tests.conftest import NOW


def iso(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_timeline_merges_both_halves_newest_first(store: Store, tmp_path: Path) -> None:
    """Ada commented 10, 8, 6, 4 and 2 days ago; Bob replied to her 9, 5 and 1 days ago and
    once 30 days ago, before anything she did."""
    rows = ["occurred_at,person,name,verb,direction,channel,text,target"]
    rows += [f"{iso(d)},ada@example.org,Ada,comment,in,blog,c{d}," for d in (10, 8, 6, 4, 2)]
    rows += [f"{iso(d)},bob@example.org,Bob,reply,peer,blog,r{d},ada@example.org"
             for d in (30, 9, 5, 1)]  # fmt: skip
    f = tmp_path / "a.csv"
    f.write_text("\n".join(rows) + "\n")
    import_files(store=store, fmt="csv", paths=[f], options={}, now=NOW)

    ada = person_detail(store=store, ref="ada@example.org", timeline_limit=4).as_json()
    assert [t["text"] for t in ada["timeline"]] == ["r1", "c2", "c4", "r5"]
    assert [t["direction"] for t in ada["timeline"]] == ["peer_in", "in", "in", "peer_in"]
    assert ada["timeline"][0]["other"]["name"] == "Bob"
    assert ada["counts"] == {"in": 5, "give": 0, "ask": 0, "peer_out": 0, "peer_in": 4}
    assert ada["first_seen"] == iso(30)  # Bob's first reply to her
    assert ada["last_seen"] == iso(1)

    everything = person_detail(store=store, ref="ada@example.org", timeline_limit=50).as_json()
    texts = [t["text"] for t in everything["timeline"]]
    assert len(texts) == len(set(texts)) == 9
    assert texts[-1] == "r30"
