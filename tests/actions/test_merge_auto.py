"""`merge auto` on SQLite and PostgreSQL: the open `auto` suggestions at or above the threshold
become audited merges by `auto` (undone by `unmerge`), chains are followed, and what may not be
merged automatically is skipped with the reason; a dry run plans the same and writes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from karmabank.actions.merge_auto import merge_auto
from karmabank.actions.merging import list_merges, merge_never, merge_people, unmerge
from karmabank.measures.settings import LinkageSettings
from karmabank.store.merges import MergeSuggestion
from karmabank.store.open import Store
from karmabank.store.tables import Identity, Organization, Person
from tests.actions.merge_world import dump
from tests.cli_helpers import run
from tests.conftest import NOW

# id: (name, identities, bot)
PEOPLE = {
    1: ("Ngozi Okafor", ("email:ngozi@example.org",), False),
    2: ("Ngozi O.", ("mastodon:@ngozi@social.example",), False),
    3: ("Ngozi", ("github:ngozi-o",), False),
    4: ("Kai Okeke", ("bluesky:kai-okeke.bsky.social",), False),
    5: ("Kai Okeke", ("bluesky:kai-okeke2.bsky.social",), False),
    6: ("River", ("x:river",), False),
    7: ("River Bot", ("github:riverbot",), True),
    8: ("Sam Lee", ("email:sam@example.org",), False),
    9: ("Sam Lee", ("github:samlee",), False),
    10: ("Ola", ("email:ola@one.example",), False),
    11: ("Ola", ("github:ola",), False),
    12: ("Ola", ("email:ola@two.example",), False),
    13: ("Tom", ("email:tom@example.org",), False),
    14: ("Tom", ("github:tom",), False),
    15: ("Tom", ("x:tom",), False),
}
# (a, b, confidence, action): suggestions 1 to 11
SUGGESTIONS = (
    (1, 2, 0.9999, "auto"),  # a chain: 1~2, 2~3, and the triangle's third side 1~3
    (2, 3, 0.999, "auto"),
    (1, 3, 0.998, "auto"),
    (4, 5, 0.9999, "auto"),  # two Bluesky accounts: a person decides
    (6, 7, 0.9999, "auto"),  # a bot and a human
    (8, 9, 0.995, "auto"),  # marked never to merge below: rejected, so never applied
    (10, 11, 0.999, "auto"),  # then 11~12 would gather two emails into one person
    (11, 12, 0.998, "auto"),
    (13, 14, 0.994, "auto"),  # 13 and 15 are marked never to merge: then 14~15 is refused
    (1, 4, 0.97, "review"),  # not auto: never applied
    (14, 15, 0.993, "auto"),
)


@pytest.fixture
def world(store: Store) -> Store:
    with store.sessions.begin() as s:
        s.add(Organization(id=1, name="Org", created_at=NOW))
        for pid, (name, _identities, bot) in PEOPLE.items():
            s.add(Person(id=pid, name=name, bot=bot, created_at=NOW))
        s.flush()
        for pid, (_name, identities, _bot) in PEOPLE.items():
            for ref in identities:
                platform, key = ref.split(":", 1)
                s.add(Identity(person_id=pid, platform=platform, key=key))
        for a, b, confidence, action in SUGGESTIONS:
            evidence = {"fields": [{"field": "name", "level": "same name", "weight": 9.5}]}
            s.add(MergeSuggestion(person_a=a, person_b=b, confidence=confidence, action=action,
                                  status="open", created_at=NOW, evidence=json.dumps(evidence)))  # fmt: skip
    merge_never(store=store, a="id:8", b="id:9", now=NOW, decided_by="cli")
    merge_never(store=store, a="id:13", b="id:15", now=NOW, decided_by="cli")
    return store


def _auto(store: Store, **kw: Any) -> dict[str, Any]:
    found = merge_auto(store=store, settings=LinkageSettings(), now=NOW, **kw)
    return found.as_json()


def test_a_dry_run_plans_what_a_run_does_and_writes_nothing(world: Store) -> None:
    before = dump(world)
    planned = _auto(world, dry_run=True)
    assert dump(world) == before
    done = _auto(world)
    assert planned["dry_run"] is True and done["dry_run"] is False
    assert planned["already_one"] == done["already_one"]
    for key in ("merged", "skipped"):  # the same steps (a dry run shows persons as they are)
        assert _steps(planned[key]) == _steps(done[key])


def _steps(steps: object) -> list[tuple[object, ...]]:
    assert isinstance(steps, list)
    return [(s["suggestion"], s["persons"]["absorbed"]["id"], s["persons"]["kept"]["id"],
             s.get("skipped")) for s in steps]  # fmt: skip


def test_auto_suggestions_are_merged_in_chains_and_the_rest_skipped_with_the_reason(
    world: Store,
) -> None:
    before = dump(world)
    done = _auto(world)
    merged = [(s["suggestion"], s["persons"]["absorbed"]["id"], s["persons"]["kept"]["id"])
              for s in done["merged"]]  # fmt: skip
    assert merged == [(1, 1, 2), (2, 2, 3), (7, 10, 11), (9, 13, 14)]  # most confident first
    assert done["already_one"] == [3]  # 1~3: one person after 1~2 and 2~3
    skipped = {s["suggestion"]: s["skipped"] for s in done["skipped"]}
    assert skipped == {
        4: "both hold an identity on bluesky: a person decides (merge A B)",
        5: "a bot and a human are never merged",
        11: "marked never to merge",
        8: "both hold an identity on email: a person decides (merge A B)",
    }
    merges = list_merges(store=world)
    assert [(m.decided_by, m.confidence) for m in merges] == [
        ("auto", 0.9999), ("auto", 0.999), ("auto", 0.999), ("auto", 0.994)
    ]  # fmt: skip
    assert merges[0].evidence["fields"][0]["level"] == "same name"
    with world.sessions() as s:
        status = {i: st for i, st in s.execute(select(MergeSuggestion.id, MergeSuggestion.status))}
    assert [status[i] for i in range(1, 12)] == [
        "merged", "merged", "open", "open", "open", "rejected", "merged", "open", "merged",
        "open", "open",
    ]  # fmt: skip
    again = _auto(world)  # nothing left to do
    assert again["merged"] == [] and len(again["skipped"]) == 4
    for m in reversed(merges):  # each undone by unmerge, newest first
        unmerge(store=world, merge_id=m.id, now=NOW, decided_by="cli")
    assert dump(world) == before


def test_the_threshold_and_a_person_merged_by_hand_since(world: Store) -> None:
    done = _auto(world, min_confidence=0.9995)
    assert [s["suggestion"] for s in done["merged"]] == [1]
    merge_people(store=world, a="id:11", b="id:12", now=NOW, decided_by="cli")  # 11 into 12
    done = _auto(world)
    assert [s["suggestion"] for s in done["merged"]] == [2, 9]
    assert done["already_one"] == [3]  # 8 (11~12) was marked merged by the merge by hand
    skipped = {s["suggestion"]: (s["persons"]["absorbed"]["id"], s["persons"]["kept"]["id"])
               for s in done["skipped"]}  # fmt: skip
    assert skipped[7] == (10, 12)  # 10~11 is 10~12 now: two emails


def test_cli(world: Store, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    dry = run(capsys, "merge", "auto", "--dry-run", "--db", db_url)
    assert dry.code == 0, dry.err
    lines = dry.out.splitlines()
    assert lines[0] == "would merge Ngozi Okafor (id:1) into Ngozi O. (id:2) (suggestion 1, 1.000)"
    assert (
        "skipped suggestion 5 (1.000), River (id:6) ~ River Bot (id:7): a bot and a human are "
        "never merged" in lines
    )
    assert lines[-1] == (
        "would merge 4, skipped 4, 1 already one person of the open auto suggestions at "
        "confidence >= 0.99"
    )
    done = run(capsys, "merge", "auto", "--json", "--now", NOW.isoformat(), "--db", db_url)
    assert done.code == 0 and [s["merge"] for s in json.loads(done.out)["merged"]] == [1, 2, 3, 4]
    bad = run(capsys, "merge", "auto", "--min-confidence", "2", "--db", db_url)
    assert bad.code == 1 and bad.err.count("\n") == 1 and "min" in bad.err
