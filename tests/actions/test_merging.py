"""Merging and unmerging on SQLite and PostgreSQL (issue 15): what a merge moves and combines,
what it refuses (nothing changed), and a property test that merges and unmerges random pairs in
random orders and finds every table exactly as it was."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from karmabank.actions.merging import list_merges, merge_never, merge_people, unmerge
from karmabank.errors import MergeRefused, NotFoundError
from karmabank.store.merges import Merge, MergeSuggestion
from karmabank.store.open import Store
from karmabank.store.tables import Person, PersonScore
from tests.actions.merge_world import build_world, dump
from tests.conftest import NOW

PROPERTY = settings(
    max_examples=25, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip


@pytest.fixture
def world(store: Store) -> Store:
    build_world(store)
    return store


def _merge(store: Store, a: str, b: str) -> int:
    return merge_people(store=store, a=a, b=b, now=NOW, decided_by="t@example.org", why="same").id


def _scalar(store: Store, sql: str) -> object:
    with store.engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def test_a_merge_moves_everything_and_combines_flags_and_history(world: Store) -> None:
    mid = _merge(world, "id:1", "github:ada")  # Ada (1) and Ada L. (2, manual, do_not_contact)
    with world.sessions() as s:
        assert s.get(Person, 1) is None  # the lower id is absorbed
        kept = s.get(Person, 2)
        assert kept is not None
        assert kept.name == "Ada L." and kept.name_manual and kept.do_not_contact
        assert [f"{i.platform}:{i.key}" for i in kept.identities] == [  # in the order added
            "email:ada@example.org",
            "mastodon:@ada@social.example",
            "github:ada",
        ]
        score = s.get(PersonScore, 2)
        assert score is not None and (score.circle, score.stage) == ("core", "participant")
        assert s.get(PersonScore, 1) is None
        suggestion = s.scalar(select(MergeSuggestion).where(MergeSuggestion.person_a == 1))
        assert suggestion is not None and suggestion.status == "merged"
        merge = s.get(Merge, mid)
        assert merge is not None and merge.confidence == 0.97  # lent by the suggestion
    assert _scalar(world, "SELECT count(*) FROM activity WHERE person_id = 1") == 0
    assert _scalar(world, "SELECT count(*) FROM activity WHERE person_id = 2") == 6
    assert _scalar(world, "SELECT count(*) FROM activity WHERE target_id = 2") == 2
    # both had an ask in campaign 1: the kept one's stays, the other is kept aside in the merge
    assert _scalar(world, "SELECT count(*) FROM ask WHERE person_id = 2") == 2
    assert _scalar(world, "SELECT count(*) FROM suggestion WHERE person_id = 2") == 2
    # per-channel opt-outs: both had email (the kept one's stays), 2's mastodon stays
    assert _scalar(world, "SELECT count(*) FROM opt_out WHERE person_id = 2") == 2
    assert _scalar(world, "SELECT count(*) FROM opt_out WHERE person_id = 1") == 0
    assert _scalar(world, "SELECT revision FROM organization") == 1
    assert _scalar(world, "SELECT activity_epoch FROM organization") == 1
    assert _scalar(world, "SELECT action FROM audit_log") == "merge"
    [view] = list_merges(store=world)
    assert view.as_json()["persons"] == {
        "kept": {"id": 2, "name": "Ada L.", "identities": ["github:ada"]},
        "absorbed": {"id": 1, "name": "Ada",
                     "identities": ["email:ada@example.org", "mastodon:@ada@social.example"]},
    }  # fmt: skip
    assert view.decided_by == "t@example.org" and view.why == "same"


def test_a_higher_circle_of_the_absorbed_person_is_kept_and_a_typed_name_wins(
    world: Store,
) -> None:
    _merge(world, "Cara", "id:6")  # 5 Cara, acquaintances; 6 nameless, no score
    with world.sessions() as s:
        kept = s.get(Person, 6)
        assert kept is not None and kept.name == "Cara" and not kept.name_manual
        score = s.get(PersonScore, 6)
        assert score is not None and score.circle == "acquaintances"
        assert score.circle_since == 5000
    _merge(world, "email:dan@example.org", "id:2")  # Dan (7) typed by hand, newcomers
    with world.sessions() as s:
        kept = s.get(Person, 7)
        assert kept is not None and kept.name == "Dan" and kept.name_manual
        score = s.get(PersonScore, 7)
        assert score is not None and score.circle == "core" and score.circle_since == 2000


def test_unmerge_restores_exactly_and_a_later_change_to_the_kept_person_stays(
    world: Store,
) -> None:
    before = dump(world)
    mid = _merge(world, "id:5", "id:6")
    unmerge(store=world, merge_id=str(mid), now=NOW, decided_by="cli")
    assert dump(world) == before
    with pytest.raises(MergeRefused, match=f"merge {mid} was already undone"):
        unmerge(store=world, merge_id=mid, now=NOW, decided_by="cli")
    [view] = list_merges(store=world)
    assert view.undone_at == NOW


def test_refusals_change_nothing(world: Store) -> None:
    before = dump(world)
    refused = [
        (("id:1", "ada@example.org"), MergeRefused, "Ada \\(id:1\\) and Ada \\(id:1\\) are the same"),
        (("id:1", "id:3"), MergeRefused, "Bob Bot \\(id:3\\) is a bot and Ada \\(id:1\\) is not"),
        (("id:4", "id:5"), MergeRefused, "Tess \\(id:4\\) is a team member and Cara"),
        (("id:7", "id:8"), MergeRefused, "marked never to merge"),
        (("id:1", "id:99"), NotFoundError, "no person with id 99"),
        (("nobody@example.org", "id:1"), NotFoundError, "no person with the identity"),
    ]  # fmt: skip
    for (a, b), error, message in refused:
        with pytest.raises(error, match=message):
            _merge(world, a, b)
    for mid, error, message in (("42", NotFoundError, "no merge with id '42'"),
                                ("x", NotFoundError, "no merge with id 'x'")):  # fmt: skip
        with pytest.raises(error, match=message):
            unmerge(store=world, merge_id=mid, now=NOW, decided_by="cli")
    assert dump(world) == before
    assert _scalar(world, "SELECT count(*) FROM audit_log") == 0


def test_a_never_pair_holds_through_later_merges_and_rejects_its_suggestion(world: Store) -> None:
    pair = merge_never(store=world, a="id:6", b="Cara", now=NOW, decided_by="cli", why="two")
    assert pair.as_json()["a"]["id"] == 5 and pair.as_json()["why"] == "two"
    assert _scalar(world, "SELECT status FROM merge_suggestion WHERE person_a = 5") == "rejected"
    _merge(world, "id:1", "id:6")  # 6 keeps 1; 5 must still never join 6 nor 1
    with pytest.raises(MergeRefused, match="marked never to merge"):
        _merge(world, "id:5", "id:6")
    with pytest.raises(MergeRefused, match="same person"):
        merge_never(store=world, a="id:6", b="id:6", now=NOW, decided_by="cli")


def test_an_inner_merge_is_undone_after_the_outer_one(world: Store) -> None:
    before = dump(world)
    inner = _merge(world, "id:1", "id:2")  # 2 keeps 1
    outer = _merge(world, "id:2", "id:5")  # 5 keeps 2 (and 1 inside it)
    with pytest.raises(MergeRefused, match=f"inside the later merge {outer}.*unmerge {outer}"):
        unmerge(store=world, merge_id=inner, now=NOW, decided_by="cli")
    unmerge(store=world, merge_id=outer, now=NOW, decided_by="cli")
    unmerge(store=world, merge_id=inner, now=NOW, decided_by="cli")
    assert dump(world) == before


@PROPERTY
@given(
    steps=st.lists(st.tuples(st.booleans(), st.integers(0, 63), st.integers(0, 63)),
                   max_size=10),
    seed=st.integers(0, 2**16),
)  # fmt: skip
def test_random_merges_and_unmerges_leave_every_table_as_it_was(
    world: Store, steps: list[tuple[bool, int, int]], seed: int
) -> None:
    before = dump(world)
    for is_merge, i, j in steps:
        _step(world, is_merge, i, j)
    order = random.Random(seed)
    while active := [m.id for m in list_merges(store=world) if m.undone_at is None]:
        try:
            unmerge(store=world, merge_id=order.choice(active), now=NOW, decided_by="cli")
        except MergeRefused:
            continue
    assert dump(world) == before


def _step(store: Store, is_merge: bool, i: int, j: int) -> None:
    """A merge of two persons there are, or an unmerge of an active merge; a refusal must
    change nothing."""
    state = dump(store)
    persons = [row[0] for row in state["person"]]
    try:
        if is_merge:
            _merge(store, f"id:{persons[i % len(persons)]}", f"id:{persons[j % len(persons)]}")
        else:
            active = [m.id for m in list_merges(store=store) if m.undone_at is None]
            if active:
                unmerge(store=store, merge_id=active[i % len(active)], now=NOW, decided_by="cli")
    except MergeRefused:
        assert dump(store) == state
