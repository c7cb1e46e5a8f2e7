"""Open suggestions the matcher no longer finds become `stale` (and open again when it finds
them again); a source's are kept. A suggestion naming a person who no longer exists (absorbed
by a merge) is not listed nor counted, until an unmerge brings the person back. SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from karmabank.actions.merge_review import review_suggestions
from karmabank.actions.merge_suggestions import merge_suggestions, open_suggestions
from karmabank.actions.merging import merge_people, unmerge
from karmabank.measures.settings import LinkageSettings
from karmabank.store.merges import MergeSuggestion
from karmabank.store.open import Store
from karmabank.store.tables import Identity, Organization, Person
from tests.conftest import NOW
from tests.identity_helpers import store_identity_world


@pytest.fixture
def world(store: Store) -> Store:
    return store_identity_world(store)


def _statuses(store: Store) -> dict[int, str]:
    with store.sessions() as s:
        return {i: st for i, st in s.execute(select(MergeSuggestion.id, MergeSuggestion.status))}


def test_a_suggestion_no_longer_found_is_stale_and_found_again_open(world: Store) -> None:
    first = merge_suggestions(store=world, settings=LinkageSettings(), now=NOW)
    weak = [s.id for s in first if s.confidence < 0.5]
    stated = weak[-1]  # a source stated this one: kept whatever the matcher finds
    with world.sessions.begin() as s:
        row = s.get(MergeSuggestion, stated)
        assert row is not None
        row.source = '{"file": "people.csv"}'
    assert len(weak) > 2
    stricter = LinkageSettings(review_min_probability=0.5)  # a model that finds fewer pairs
    shown = merge_suggestions(store=world, settings=stricter, now=NOW)
    assert {s.id for s in shown} == {s.id for s in first if s.confidence >= 0.5} | {stated}
    status = _statuses(world)
    assert {status[i] for i in weak if i != stated} == {"stale"}
    assert status[stated] == "open"
    assert {s.id for s in open_suggestions(store=world)} == {s.id for s in shown}
    again = merge_suggestions(store=world, settings=LinkageSettings(), now=NOW)
    assert [s.id for s in again] == [s.id for s in first]  # open again, the same rows
    assert set(_statuses(world).values()) == {"open"}


def _person(s: Session, pid: int, name: str, identity: tuple[str, str]) -> None:
    s.add(Person(id=pid, name=name, created_at=NOW))
    s.add(Identity(person_id=pid, platform=identity[0], key=identity[1]))


def _suggestion(a: int, b: int, confidence: float, at: datetime) -> MergeSuggestion:
    return MergeSuggestion(person_a=a, person_b=b, confidence=confidence, evidence="{}",
                           action="review", status="open", created_at=at)  # fmt: skip


def test_a_suggestion_naming_an_absorbed_person_is_not_listed_nor_counted(store: Store) -> None:
    with store.sessions.begin() as s:
        s.add(Organization(id=1, name="Org", created_at=NOW))
        for pid, name, ident in (
            (1, "Ngozi Okafor", ("email", "ngozi@example.org")),
            (2, "Ngozi O.", ("mastodon", "@ngozi@social.example")),
            (3, "Ngozi Okafor", ("github", "ngozi-o")),
            (4, "Kwame Mensah", ("email", "kwame@example.org")),
            (5, "Kwame Mensah", ("x", "kwamem")),
        ):
            _person(s, pid, name, ident)
        s.add_all([_suggestion(1, 2, 0.95, NOW), _suggestion(1, 3, 0.9, NOW),
                   _suggestion(4, 5, 0.5, NOW)])  # fmt: skip
    done = merge_people(store=store, a="id:1", b="id:2", now=NOW, decided_by="t")  # 1 absorbed
    live = [(s.a.id, s.b.id) for s in open_suggestions(store=store)]
    assert live == [(4, 5)]
    assert [(s.a.id, s.b.id) for s in open_suggestions(store=store, limit=1)] == [(4, 5)]
    page = review_suggestions(store=store, limit=10)
    assert page.total == 1 and [(s.a.id, s.b.id) for s in page.suggestions] == [(4, 5)]
    unmerge(store=store, merge_id=done.id, now=NOW, decided_by="t")  # person 1 is back
    back = [(s.a.id, s.b.id) for s in open_suggestions(store=store)]
    assert back == [(1, 2), (1, 3), (4, 5)]
    assert review_suggestions(store=store, limit=10).total == 3


def test_a_source_linking_a_stale_pair_opens_it_again(store: Store, tmp_path: Path) -> None:
    from karmabank.actions.importing import import_files

    with store.sessions.begin() as s:
        s.add(Organization(id=1, name="Org", created_at=NOW))
        _person(s, 1, "Ada Lovelace", ("github", "ada"))
        _person(s, 2, "Ada L.", ("mastodon", "@ada@social.example"))
        stale = _suggestion(1, 2, 0.3, NOW)
        stale.status = "stale"
        s.add(stale)
    path = tmp_path / "linked.csv"
    path.write_text("occurred_at,person,name,verb,direction,also\n"
                    "2026-05-01T10:00:00Z,github:ada,Ada,share,in,mastodon:@ada@social.example\n")  # fmt: skip
    import_files(store=store, fmt="csv", paths=[path], options={}, now=NOW)
    with store.sessions() as s:
        row = s.scalars(select(MergeSuggestion)).one()
    assert (row.status, row.person_a, row.person_b) == ("open", 1, 2)
    assert row.source is not None and row.confidence >= 0.99
