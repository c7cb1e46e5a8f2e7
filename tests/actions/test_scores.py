"""The last rescore as one value (`actions.scores.LastRescore`): why it is fresh or stale for a
`now`, its token in one format, and its round trip through `score_state` and the snapshot's
files, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pyarrow.parquet as pq
import pytest
from sqlalchemy import insert

from karmabank.actions.freshness import ensure_scores
from karmabank.actions.recording import record_activity
from karmabank.actions.scores import (
    DATA_CHANGED,
    OTHER_TIME,
    SETTINGS_CHANGED,
    DataVersion,
    LastRescore,
    data_version,
)
from karmabank.frames import PREVIOUS_SCHEMA, ParquetFiles
from karmabank.measures import nurture
from karmabank.measures.settings import MeasureSettings
from karmabank.model import Direction, to_micros
from karmabank.store.open import Store
from karmabank.store.tables import ScoreState
from tests.conftest import NOW

SETTINGS = MeasureSettings()
DATA = DataVersion(revision=3, activity_max_id=41)


def made(**changes: object) -> LastRescore:
    last = LastRescore.made(
        now=NOW, clock=NOW + timedelta(seconds=7, microseconds=5), data=DATA, settings=SETTINGS,
        summary={"circles": {"core": 1}}, seconds=0.25,
    )  # fmt: skip
    return replace(last, **changes)  # type: ignore[arg-type]


def test_stale_reasons_name_what_moved() -> None:
    last = made()
    minutes = SETTINGS.rescore.stale_after_minutes
    assert last.stale_reason(now=NOW, data=DATA, settings=SETTINGS) is None
    within = NOW + timedelta(minutes=minutes)
    assert last.stale_reason(now=within, data=DATA, settings=SETTINGS) is None
    later = NOW + timedelta(minutes=minutes + 1)
    assert last.stale_reason(now=later, data=DATA, settings=SETTINGS) == OTHER_TIME
    earlier = NOW - timedelta(minutes=minutes + 1)
    assert last.stale_reason(now=earlier, data=DATA, settings=SETTINGS) == OTHER_TIME
    for moved in (DataVersion(4, 41), DataVersion(3, 42)):
        assert last.stale_reason(now=NOW, data=moved, settings=SETTINGS) == DATA_CHANGED
    other = replace(SETTINGS, warmth=replace(SETTINGS.warmth, decay=0.5))
    assert last.stale_reason(now=NOW, data=DATA, settings=other) == SETTINGS_CHANGED
    # the data is checked first: a rescore is needed whatever else moved
    assert last.stale_reason(now=later, data=DataVersion(4, 41), settings=other) == DATA_CHANGED


def test_the_token_is_the_scores_time_and_the_rescores_clock_in_microseconds() -> None:
    last = made()
    clock_us = to_micros(NOW) + 7_000_005
    assert (last.scored_at, last.computed_at) == (to_micros(NOW), clock_us)
    assert last.token == f"{to_micros(NOW)}-{clock_us}"
    assert last.at == NOW
    assert made(computed_at=clock_us + 1).token != last.token  # another rescore, other files
    assert last.summary_json() == {"circles": {"core": 1}}


def test_score_state_round_trip(store: Store) -> None:
    assert LastRescore.read(store) is None
    last = made()
    with store.sessions() as session, session.begin():
        session.execute(insert(ScoreState).values(**last.as_row()))
    assert LastRescore.read(store) == last


def test_ensure_scores_gives_the_rescore_that_wrote_the_snapshot(store: Store) -> None:
    for ref, verb in (("email:ada@example.org", "comment"), ("email:bob@example.org", "like")):
        record_activity(store=store, direction=Direction.IN, ref=ref, verb=verb,
                        at=NOW - timedelta(days=1), now=NOW, channel="blog")  # fmt: skip
    last = ensure_scores(store=store, now=NOW, settings=SETTINGS)
    assert LastRescore.read(store) == last
    assert (last.revision, last.activity_max_id) == data_version(store)
    assert last.at == NOW and last.stale_reason(
        now=NOW, data=data_version(store), settings=SETTINGS
    ) is None  # fmt: skip
    snapshot = last.snapshot(store)
    assert snapshot.token == last.token
    assert snapshot.path("scores").name == f"scores-{last.token}.parquet"
    history = snapshot.table(PREVIOUS_SCHEMA)
    assert history is not None and history.num_rows == 2
    assert snapshot.files(nurture.SCORES_SCHEMA.names) is not None
    assert snapshot.files(["no such column"]) is None
    acts = snapshot.activities()  # the copy up to the activities the rescore saw
    assert isinstance(acts, ParquetFiles)
    assert sum(pq.read_metadata(p).num_rows for p in acts.paths) == 2
    gone = replace(last, computed_at=last.computed_at + 1).snapshot(store)
    assert gone.table(PREVIOUS_SCHEMA) is None and gone.files(["person_id"]) is None


@pytest.mark.parametrize("part", ["scores", "nurture30d"])
def test_snapshot_paths_carry_the_token(store: Store, part: str) -> None:
    snapshot = made().snapshot(store)
    assert snapshot.path(part).name == f"{part}-{made().token}.parquet"
