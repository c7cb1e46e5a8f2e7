"""Identities a source states (`also`, issue 15 item 1) on SQLite and PostgreSQL: one nobody
holds is given to the row's person, one another person holds becomes an open merge suggestion
with the row as its evidence (never a silent join), nothing for pairs never to merge or already
decided; the same whatever the batch size, all in the batch's transaction, and a re-run changes
nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select, text

from karmabank.actions.importing import import_files
from karmabank.actions.merging import merge_never, merge_people
from karmabank.actions.people import set_flag
from karmabank.actions.source_links import SOURCE_CONFIDENCE
from karmabank.model import Flag
from karmabank.store.merges import MergeSuggestion
from karmabank.store.open import Store
from tests.actions.merge_world import dump
from tests.conftest import NOW

HEAD = "occurred_at,person,name,verb,direction,also\n"


def _import(store: Store, path: Path, body: str, **options: str) -> dict[str, object]:
    path.write_text(HEAD + body)
    return import_files(store=store, fmt="csv", paths=[path], options=options, now=NOW).as_json()


def _owners(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT platform, key, person_id FROM identity")).all()
    return {f"{p}:{k}": int(pid) for p, k, pid in rows}


def _suggestions(store: Store) -> list[MergeSuggestion]:
    with store.sessions() as s:
        return list(s.scalars(select(MergeSuggestion).order_by(MergeSuggestion.id)))


def test_an_identity_nobody_holds_is_given_to_the_rows_person(store: Store, tmp_path: Path) -> None:
    body = (
        "2026-05-01T10:00:00Z,ada@example.org,Ada,comment,in,"
        "github:ada mastodon:@ada@social.example ada@example.org\n"
        "2026-05-02T10:00:00Z,github:ada,,share,in,\n"  # the same person: github:ada is hers now
    )
    report = _import(store, tmp_path / "a.csv", body)
    assert (report["imported"], report["quarantined"]) == (2, 0)
    assert _owners(store) == {"email:ada@example.org": 1, "github:ada": 1,
                              "mastodon:@ada@social.example": 1}  # fmt: skip
    assert _suggestions(store) == []


def test_an_identity_another_person_holds_becomes_a_suggestion_with_the_row_as_evidence(
    store: Store, tmp_path: Path
) -> None:
    _import(store, tmp_path / "first.csv", "2026-05-01T10:00:00Z,github:ada,Ada L.,share,in,\n")
    f = tmp_path / "second.csv"
    body = "2026-05-02T10:00:00Z,ada@example.org,Ada,comment,in,github:ada\n"
    _import(store, f, body)
    assert _owners(store) == {"github:ada": 1, "email:ada@example.org": 2}  # never joined
    [s] = _suggestions(store)
    assert (s.person_a, s.person_b, s.status, s.action) == (1, 2, "open", "review")
    assert s.confidence == SOURCE_CONFIDENCE
    evidence = json.loads(s.evidence)
    assert evidence["fields"] == [{"field": "source", "level": "the source linked them",
                                   "weight": 6.629}]  # fmt: skip
    assert evidence["source"] == {"file": str(f), "line": 2,
                                  "identities": ["email:ada@example.org", "github:ada"]}  # fmt: skip
    assert s.source is not None
    source = json.loads(s.source)
    assert (source["file"], source["line"], source["person"], source["also"]) == (
        str(f),
        2,
        "email:ada@example.org",
        ["github:ada"],
    )
    before = dump(store)
    again = _import(store, f, body)  # a re-run: nothing new, nothing changed
    assert (again["imported"], again["duplicates"]) == (0, 1)
    assert dump(store) == before


@pytest.mark.parametrize("batch_size", [1, 2, 50_000])
def test_rows_are_taken_in_order_whatever_the_batch_size(
    store: Store, tmp_path: Path, batch_size: int
) -> None:
    body = (
        "2026-05-01T10:00:00Z,github:bo,Bo,share,in,\n"
        "2026-05-02T10:00:00Z,bo@example.org,Bo,comment,in,web:bo.example github:bo\n"
        "2026-05-03T10:00:00Z,web:bo.example,,like,in,\n"
        "2026-05-04T10:00:00Z,x:bo,,like,in,bo@example.org x:bo\n"
    )
    f = tmp_path / "b.csv"
    f.write_text(HEAD + body)
    import_files(store=store, fmt="csv", paths=[f], options={}, now=NOW, batch_size=batch_size)
    held: dict[int, set[str]] = {}
    for identity, pid in _owners(store).items():
        held.setdefault(pid, set()).add(identity)
    assert sorted(map(sorted, held.values())) == [
        ["email:bo@example.org", "web:https://bo.example"],
        ["github:bo"],
        ["x:bo"],
    ]
    email = _owners(store)["email:bo@example.org"]
    pairs = {frozenset(frozenset(held[p]) for p in (s.person_a, s.person_b))
             for s in _suggestions(store)}  # fmt: skip
    assert pairs == {
        frozenset({frozenset(held[email]), frozenset({"github:bo"})}),
        frozenset({frozenset(held[email]), frozenset({"x:bo"})}),
    }


def test_no_suggestion_for_pairs_never_to_merge_or_already_one(
    store: Store, tmp_path: Path
) -> None:
    first = (
        "2026-05-01T10:00:00Z,github:ada,Ada,share,in,\n"
        "2026-05-01T10:00:00Z,x:adabot,Ada Bot,share,in,\n"
        "2026-05-01T10:00:00Z,github:cy,Cy,share,in,\n"
        "2026-05-01T10:00:00Z,x:cy,Cy,share,in,\n"
        "2026-05-01T10:00:00Z,github:dee,Dee,share,in,\n"
        "2026-05-01T10:00:00Z,x:dee,Dee,share,in,\n"
    )
    _import(store, tmp_path / "first.csv", first)
    set_flag(store=store, ref="x:adabot", flag=Flag.BOT, on=True, now=NOW, actor="cli")
    merge_never(store=store, a="github:cy", b="x:cy", now=NOW, decided_by="cli")
    merge_people(store=store, a="github:dee", b="x:dee", now=NOW, decided_by="cli")
    before = dump(store)
    second = (
        "2026-05-02T10:00:00Z,github:ada,,comment,in,x:adabot\n"  # a bot and a human
        "2026-05-02T10:00:00Z,github:cy,,comment,in,x:cy\n"  # marked never to merge
        "2026-05-02T10:00:00Z,github:dee,,comment,in,x:dee\n"  # one person already
    )
    report = _import(store, tmp_path / "second.csv", second)
    assert report["imported"] == 3
    after = dump(store)
    assert after["merge_suggestion"] == before["merge_suggestion"] == []
    assert after["identity"] == before["identity"]


def test_a_matcher_suggestion_gets_the_source_and_keeps_its_action(
    store: Store, tmp_path: Path
) -> None:
    _import(store, tmp_path / "first.csv",
            "2026-05-01T10:00:00Z,github:ada,Ada,share,in,\n"
            "2026-05-01T10:00:00Z,ada@example.org,Ada,share,in,\n")  # fmt: skip
    with store.sessions.begin() as session:
        evidence = {"fields": [{"field": "name", "level": "same name", "weight": 9.5}],
                    "match_weight": 9.5, "same_platform": None}  # fmt: skip
        session.add(MergeSuggestion(person_a=1, person_b=2, confidence=0.999, action="auto",
                              status="open", created_at=NOW, evidence=json.dumps(evidence)))  # fmt: skip
    _import(
        store, tmp_path / "second.csv", "2026-05-02T10:00:00Z,github:ada,,like,in,ada@example.org\n"
    )
    [s] = _suggestions(store)
    assert (s.confidence, s.action, s.status) == (0.999, "auto", "open")
    fields = [f["field"] for f in json.loads(s.evidence)["fields"]]
    assert fields == ["name", "source"] and s.source is not None


@pytest.mark.parametrize("also", ["nobody", "github:ok bob"])
def test_a_bad_also_identity_quarantines_the_row(store: Store, tmp_path: Path, also: str) -> None:
    f = tmp_path / "bad.csv"
    report = _import(store, f, f"2026-05-01T10:00:00Z,ada@example.org,Ada,comment,in,{also}\n")
    assert report["imported"] == 0 and report["quarantined"] == 1
    errors = report["errors"]
    assert isinstance(errors, list) and len(errors) == 1
    error = errors[0]
    assert error["file"] == str(f) and error["line"] == 2
    assert error["reason"].startswith("also: cannot tell the platform of")
    assert _owners(store) == {}


def test_stored_suggestions_show_the_source_in_the_cli(
    store: Store, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.cli_helpers import run

    _import(store, tmp_path / "first.csv", "2026-05-01T10:00:00Z,github:ada,Ada L.,share,in,\n")
    f = tmp_path / "second.csv"
    _import(store, f, "2026-05-02T10:00:00Z,ada@example.org,Ada,comment,in,github:ada\n")
    listed = run(capsys, "merge", "suggestions", "--stored", "--db", db_url)
    assert listed.code == 0 and listed.out.strip() == (
        "1  0.990  review  Ada L. (id:1) ~ Ada (id:2): source: the source linked them (+6.6) "
        f"[{f} line 2]"
    )
    [item] = json.loads(run(capsys, "merge", "suggestions", "--stored", "--json", "--db",
                            db_url).out)  # fmt: skip
    assert item["evidence"]["source"]["line"] == 2 and item["action"] == "review"


def test_a_batch_that_fails_leaves_no_link_behind(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from karmabank.actions import import_batches, source_links

    _import(store, tmp_path / "first.csv", "2026-05-01T10:00:00Z,github:ada,Ada L.,share,in,\n")
    before = dump(store)

    def crash(*args: object, **kwargs: object) -> int:
        source_links.store_links(*args, **kwargs)  # type: ignore[arg-type]
        raise RuntimeError("the machine stops here")

    monkeypatch.setattr(import_batches, "store_links", crash)
    body = "2026-05-02T10:00:00Z,ada@example.org,Ada,comment,in,github:ada https://ada.example\n"
    with pytest.raises(RuntimeError, match="the machine stops here"):
        _import(store, tmp_path / "second.csv", body)
    assert dump(store) == before  # no person, identity, suggestion or activity of the batch


def test_an_identity_of_the_organization_is_never_given_nor_linked(
    store: Store, tmp_path: Path
) -> None:
    from karmabank.actions.organization import add_org_identities

    add_org_identities(
        store=store, identities=["https://org.example"], take=False, now=NOW, actor="cli"
    )
    _import(store, tmp_path / "first.csv", "2026-05-01T10:00:00Z,github:ada,Ada,share,in,\n")
    body = "2026-05-02T10:00:00Z,ada@example.org,Ada,comment,in,https://org.example\n"
    _import(store, tmp_path / "second.csv", body)  # a commenter giving the site as her website
    assert _owners(store) == {"github:ada": 1, "email:ada@example.org": 2}
    assert _suggestions(store) == []
