"""`merge suggestions` on SQLite and PostgreSQL: the matcher's pairs stored as open suggestions
(one per pair, updated on a re-run), `merge never` pairs and merged persons left out, the JSON
shape the CLI prints."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from karmabank.actions.merge_suggestions import merge_suggestions
from karmabank.actions.merging import merge_never, merge_people
from karmabank.measures.settings import LinkageSettings
from karmabank.store.merges import MergeSuggestion
from karmabank.store.open import Store
from tests.cli_helpers import run
from tests.conftest import NOW
from tests.identity_helpers import store_identity_world


@pytest.fixture
def world(store: Store) -> Store:
    return store_identity_world(store)


def _suggest(
    store: Store, *, limit: int | None = None, min_confidence: float = 0.0
) -> list[dict[str, Any]]:
    found = merge_suggestions(store=store, settings=LinkageSettings(), now=NOW, limit=limit,
                              min_confidence=min_confidence)  # fmt: skip
    return [s.as_json() for s in found]


def test_suggestions_are_stored_once_and_shown_most_confident_first(world: Store) -> None:
    first = _suggest(world)
    assert first and {s["action"] for s in first} <= {"auto", "review"}
    top = first[0]
    assert set(top) == {"id", "a", "b", "confidence", "evidence", "action"}
    assert set(top["a"]) == {"id", "name", "identities"}
    assert top["a"]["id"] < top["b"]["id"]
    fields = [f["field"] for f in top["evidence"]["fields"]]
    assert fields == ["name", "handle", "domain", "platform"]
    confidences = [s["confidence"] for s in first]
    assert confidences == sorted(confidences, reverse=True)
    again = _suggest(world)
    assert [s["id"] for s in again] == [s["id"] for s in first]  # updated, not added
    with world.sessions() as s:
        assert s.scalar(select(func.count()).select_from(MergeSuggestion)) == len(first)
    assert _suggest(world, limit=3) == first[:3]
    assert all(s["confidence"] >= 0.9 for s in _suggest(world, min_confidence=0.9))


def test_never_pairs_and_merged_persons_are_not_suggested(world: Store) -> None:
    first = _suggest(world)
    a, b = first[0]["a"]["id"], first[0]["b"]["id"]
    c, d = first[1]["a"]["id"], first[1]["b"]["id"]
    merge_never(store=world, a=f"id:{a}", b=f"id:{b}", why=None, decided_by="t", now=NOW)
    merge_people(store=world, a=f"id:{c}", b=f"id:{d}", why=None, decided_by="t", now=NOW)
    pairs = {(s["a"]["id"], s["b"]["id"]) for s in _suggest(world)}
    assert (a, b) not in pairs and (c, d) not in pairs


def test_cli_json(world: Store, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    url = db_url
    result = run(capsys, "merge", "suggestions", "--db", url, "--limit", "2", "--json")
    assert result.code == 0, result.err
    shown = json.loads(result.out)
    assert len(shown) == 2 and shown[0]["confidence"] >= shown[1]["confidence"]
    bad = run(capsys, "merge", "suggestions", "--db", url, "--min-confidence", "2")
    assert bad.code == 1 and "--min-confidence must be between 0 and 1" in bad.err


def test_a_source_stated_suggestion_keeps_its_evidence_and_source(world: Store) -> None:
    """A suggestion a source stated (`actions/source_links.py`) is not overwritten: its source,
    evidence and action stay, its confidence only ever rises."""
    first = _suggest(world)
    low, high = first[-1], first[0]
    with world.sessions.begin() as s:
        for stated, confidence in ((low, 0.99), (high, 0.2)):
            row = s.get(MergeSuggestion, stated["id"])
            assert row is not None
            row.source, row.evidence = '{"file": "people.csv"}', '{"fields": [], "source": {}}'
            row.confidence, row.action = confidence, "review"
    again = {s["id"]: s for s in _suggest(world)}
    with world.sessions() as s:
        kept = {r.id: r for r in s.scalars(select(MergeSuggestion))}
    for stated in (low, high):
        assert kept[stated["id"]].source == '{"file": "people.csv"}'
        assert json.loads(kept[stated["id"]].evidence) == {"fields": [], "source": {}}
        assert kept[stated["id"]].action == "review"
    assert kept[low["id"]].confidence == 0.99  # the source's was higher: kept
    assert kept[high["id"]].confidence == pytest.approx(high["confidence"])  # the matcher's
    assert again[high["id"]]["confidence"] == pytest.approx(high["confidence"])


def test_persons_read_column_wise_give_the_same_suggestions(
    world: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import karmabank.actions.merge_suggestions as use_case

    row_wise = _suggest(world)
    monkeypatch.setattr(use_case, "COLUMN_WISE", 1)  # through ADBC, as for a big network
    assert _suggest(world) == row_wise
