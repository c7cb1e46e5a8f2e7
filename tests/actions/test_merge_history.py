"""A merge never demotes, through real rescores on SQLite and PostgreSQL: the next rescore
starts from the merged persons' history in `person_score`, not from the snapshot taken before
the merge (`actions/merge_history.py`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from karmabank.actions.merging import merge_people, unmerge
from karmabank.actions.recording import record_activity
from karmabank.actions.relationships import list_people
from karmabank.actions.scoring import rescore
from karmabank.measures.settings import MeasureSettings
from karmabank.model import Direction
from karmabank.store.open import Store
from tests.conftest import NOW

SETTINGS = MeasureSettings()


def _rec(store: Store, ref: str, verb: str, days_ago: float) -> None:
    record_activity(store=store, direction=Direction.IN, ref=ref, verb=verb, channel="blog",
                    at=NOW - timedelta(days=days_ago), now=NOW)  # fmt: skip


def _circles(store: Store, now: datetime) -> dict[int, str | None]:
    listed = list_people(store=store, now=now, settings=SETTINGS, limit=50)
    return {p.person.id: p.score.circle if p.score else None for p in listed}


def test_the_kept_person_holds_the_absorbed_ones_circle_and_unmerge_gives_it_back(
    store: Store,
) -> None:
    """p0 is core; the others outgrow it; p0's second account (a like, newer id) absorbs it."""
    for i in range(10):
        for k in range(2 + i if i else 40):
            _rec(store, f"email:p{i}@example.org", "comment", 100 + k * 0.01)
    rescore(store=store, now=NOW, settings=SETTINGS)
    assert _circles(store, NOW)[1] == "core"  # p0
    for i in range(1, 10):
        for k in range(20):
            _rec(store, f"email:p{i}@example.org", "donate", 0.5 + k * 0.01)
    _rec(store, "github:p0", "like", 0.2)
    merge = merge_people(store=store, a="p0@example.org", b="github:p0", now=NOW,
                         decided_by="cli")  # fmt: skip
    t1 = NOW + timedelta(days=1)
    rescore(store=store, now=t1, settings=SETTINGS)
    assert (merge.kept["id"], merge.absorbed["id"]) == (11, 1)
    after = _circles(store, t1)
    assert 1 not in after and after[11] == "core"  # held: p0's 90 days run on
    unmerge(store=store, merge_id=merge.id, now=t1, decided_by="cli")
    rescore(store=store, now=t1, settings=SETTINGS)
    undone = _circles(store, t1)
    assert undone[1] == "core" and undone[11] != "core"
