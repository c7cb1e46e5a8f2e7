"""Rescore through the real store on SQLite and PostgreSQL: persistence, idempotence, history,
rescoring on demand, the columnar copy, and one person's scores with their parts."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from functools import reduce
from operator import add

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select, text, update

from karmabank.actions.accounts import add_user, new_token
from karmabank.actions.freshness import ensure_scores, freshness
from karmabank.actions.recording import record_activity
from karmabank.actions.relationships import list_people, network_status, person_scores
from karmabank.actions.scoring import rescore
from karmabank.frames import ParquetFiles, micros
from karmabank.measures.settings import MeasureSettings
from karmabank.model import Direction
from karmabank.settings import load_measure_settings
from karmabank.store.columns import ActivityColumns
from karmabank.store.open import Store
from karmabank.store.tables import (
    AuditLog,
    LadderTransition,
    Organization,
    PersonScore,
    ScoreState,
)
from tests.conftest import NOW

SETTINGS = MeasureSettings()


def rec(store: Store, ref: str, verb: str, days_ago: float, *, direction: Direction = Direction.IN,
        channel: str = "blog") -> None:  # fmt: skip
    record_activity(
        store=store, direction=direction, ref=ref, verb=verb,
        at=NOW - timedelta(days=days_ago), now=NOW, channel=channel,
    )  # fmt: skip


def scores(store: Store) -> list[tuple[object, ...]]:
    cols = [c for c in PersonScore.__table__.columns]
    with store.sessions() as s:
        return [tuple(r) for r in s.execute(select(*cols).order_by(PersonScore.person_id))]


def count(store: Store, model: type) -> int:
    with store.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def network(store: Store) -> Store:
    """Ada: the issue's example (7.51); Bob: one like; Carol: gives only, no inbound."""
    rec(store, "email:ada@example.org", "comment", 0)
    rec(store, "email:ada@example.org", "share", 30)
    rec(store, "email:ada@example.org", "like", 60)
    rec(store, "email:bob@example.org", "like", 3)
    rec(store, "email:carol@example.org", "thank", 10, direction=Direction.GIVE)
    return store


def test_rescore_stores_every_score_and_is_identical_twice(network: Store) -> None:
    report = rescore(store=network, now=NOW, settings=SETTINGS)
    assert report.people == 3 and report.sync.rows == 5
    first = scores(network)
    by_id = {r[0]: r for r in first}
    with network.sessions() as s:
        ada = s.scalars(select(PersonScore).order_by(PersonScore.warmth.desc())).first()
        assert ada is not None
        assert ada.warmth == pytest.approx(4 + 3 * 0.9 + 1 * 0.81)
        assert (ada.circle, ada.status, ada.stage) == ("core", "active", "engaged")
    assert count(network, LadderTransition) == 2  # Ada enters engaged, Bob aware
    rescore(store=network, now=NOW, settings=SETTINGS)
    assert scores(network) == first
    assert count(network, LadderTransition) == 2  # nothing moved
    assert len(by_id) == 3


def test_scores_are_recomputed_on_demand_only_when_stale(network: Store) -> None:
    assert freshness(store=network, now=NOW, settings=SETTINGS).reason == "never scored"
    state = ensure_scores(store=network, now=NOW, settings=SETTINGS)
    assert freshness(store=network, now=NOW, settings=SETTINGS).stale is False
    rec(network, "email:bob@example.org", "comment", 1)
    assert freshness(store=network, now=NOW, settings=SETTINGS).reason == "the data changed"
    later = NOW + timedelta(hours=2)
    assert freshness(store=network, now=NOW, settings=SETTINGS).stale
    again = ensure_scores(store=network, now=NOW, settings=SETTINGS)
    assert again.activity_max_id == state.activity_max_id + 1
    assert freshness(store=network, now=later, settings=SETTINGS).reason == (
        "scores are from another time"
    )
    changed = load_measure_settings(environ={"KARMABANK_WARMTH_DECAY": "0.5"})
    assert freshness(store=network, now=NOW, settings=changed).reason == "the settings changed"


def test_account_changes_are_audited_and_leave_the_scores_fresh(network: Store) -> None:
    """Users and tokens are nothing the measures read: adding them must not force a rescore
    (a full one: half a minute at a million people) on the next page view."""
    state = ensure_scores(store=network, now=NOW, settings=SETTINGS)
    add_user(store=network, email="dee@example.org", role="viewer", now=NOW,
             password="correct horse battery", actor="test")  # fmt: skip
    new_token(store=network, email="dee@example.org", now=NOW, actor="test")
    f = freshness(store=network, now=NOW, settings=SETTINGS)
    assert (f.stale, f.reason) == (False, "fresh")
    with network.sessions() as s:
        assert s.scalar(select(Organization.revision)) == state.revision
        actions = s.scalars(select(AuditLog.action).order_by(AuditLog.id.desc()).limit(2))
        assert list(actions) == ["token new", "user add"]
    assert ensure_scores(store=network, now=NOW, settings=SETTINGS).computed_at == (
        state.computed_at
    )  # not rescored
    rec(network, "email:bob@example.org", "comment", 1)  # data still makes them stale
    assert freshness(store=network, now=NOW, settings=SETTINGS).reason == "the data changed"


def test_circle_history_survives_in_the_database(store: Store) -> None:
    """Ten people; p0 is core. Later the others outgrow p0: p0 stays core for 90 days."""
    for i in range(10):
        for k in range(2 + i if i else 40):
            rec(store, f"email:p{i}@example.org", "comment", 100 + k * 0.01)
    rescore(store=store, now=NOW, settings=SETTINGS)
    people = list_people(store=store, now=NOW, settings=SETTINGS, circle="core")
    assert [p.person.identities[0].key for p in people] == ["p0@example.org"]
    for i in range(1, 10):  # everyone else becomes much warmer, from day 100 on
        for k in range(20):
            rec(store, f"email:p{i}@example.org", "donate", 0.5 + k * 0.01)
    t1 = NOW + timedelta(days=1)
    rescore(store=store, now=t1, settings=SETTINGS)
    p0 = list_people(store=store, now=t1, settings=SETTINGS, query="p0@")[0].score
    assert p0 is not None
    assert (p0.circle, p0.raw_circle, p0.pending_circle) == (
        "core",
        "acquaintances",
        "acquaintances",
    )
    t2 = t1 + timedelta(days=89)
    rescore(store=store, now=t2, settings=SETTINGS)
    p0 = list_people(store=store, now=t2, settings=SETTINGS, query="p0@")[0].score
    assert p0 is not None and p0.circle == "core"
    t3 = t1 + timedelta(days=90)
    rescore(store=store, now=t3, settings=SETTINGS)
    p0 = list_people(store=store, now=t3, settings=SETTINGS, query="p0@")[0].score
    assert p0 is not None and (p0.circle, p0.pending_circle) == ("acquaintances", None)


def test_person_scores_explain_themselves(network: Store) -> None:
    d = person_scores(store=network, ref="ada@example.org", now=NOW, settings=SETTINGS).as_json()
    for key in ("id", "name", "identities", "flags", "circle", "status", "stage", "tenure_days",
                "presence", "cadence_days", "silence_days", "warmth", "ledger", "timeline"):  # fmt: skip
        assert key in d, key
    assert d["presence"] == {"d30": 1, "d90": 3, "d365": 3}
    assert d["tenure_days"] == 60 and d["silence_days"] == 0 and d["cadence_days"] == 30.0
    parts = d["warmth"]["parts"]
    assert [p["contribution"] for p in parts] == pytest.approx([4.0, 2.7, 0.81])
    assert (
        # added left to right, as the engine adds them (Python 3.12's sum() compensates rounding)
        reduce(add, (p["contribution"] for p in parts), 0.0) * d["warmth"]["multiplexity"]
        == (d["warmth"]["value"])
    )
    assert d["ledger"]["ask_ready"] is False and d["ledger"]["rule"] == "balance"
    assert "give first" in d["ledger"]["why"]
    assert d["why"]["warmth"].startswith("warmth 7.51: a comment this month")
    assert d["why"]["rhythm"].startswith("active: usually comes every 30 days")
    carol = person_scores(
        store=network, ref="carol@example.org", now=NOW, settings=SETTINGS
    ).as_json()
    assert carol["circle"] is None and carol["ledger"]["given"] == 2.0


def test_status_counts_and_share_ratio(network: Store) -> None:
    for days in (1, 2, 3):
        rec(network, "email:ada@example.org", "thank", days, direction=Direction.GIVE)
    rec(network, "email:ada@example.org", "ask", 5, direction=Direction.ASK)
    st = network_status(store=network, now=NOW, settings=SETTINGS)
    assert st["share_ratio"]["gives"] == 4 and st["share_ratio"]["asks"] == 1
    assert st["share_ratio"]["verdict"] == "a great sharer"  # 4 / 1 >= 4
    assert st["circles"] == {"core": 1, "newcomers": 1}  # Bob's first like was 3 days ago
    assert st["stages"] == {"aware": 1, "engaged": 1}


def test_columnar_copy_follows_the_database(network: Store) -> None:
    cols = ActivityColumns(network.url, network.engine, directory=network.columns_dir)
    first = cols.sync()
    assert (first.appended, first.rows) == (5, 5)
    assert cols.sync().appended == 0
    rec(network, "email:bob@example.org", "comment", 1)
    second = cols.sync()
    assert (second.appended, second.rebuilt, second.rows) == (1, False, 6)
    with network.engine.begin() as conn:  # an activity changed in place: the epoch moves
        conn.execute(text("UPDATE activity SET verb = 'share' WHERE verb = 'like'"))
        conn.execute(update(Organization).values(activity_epoch=Organization.activity_epoch + 1))
    third = cols.sync()
    assert third.rebuilt and third.rows == 6
    source = third.source()
    assert isinstance(source, ParquetFiles)
    verbs = pa.concat_tables([pq.read_table(p, columns=["verb"]) for p in source.paths])
    assert "like" not in verbs.column("verb").to_pylist()
    with network.engine.begin() as conn:  # removed without telling: the counts disagree
        conn.execute(text("DELETE FROM activity WHERE verb = 'thank'"))
    assert cols.sync().rows == 5
    shutil.rmtree(cols.dir)  # the copy is a cache: deleting it is safe
    assert cols.sync().rows == 5


def test_rescore_state_records_the_data_it_saw(network: Store) -> None:
    rescore(store=network, now=NOW, settings=SETTINGS)
    with network.sessions() as s:
        state = s.get(ScoreState, 1)
        assert state is not None
        assert state.activity_max_id == 5 and state.scored_at == int(
            (NOW - datetime(1970, 1, 1, tzinfo=NOW.tzinfo)).total_seconds() * 1_000_000
        )


def test_history_comes_from_the_database_when_the_snapshot_is_gone(network: Store) -> None:
    """The circle/stage snapshot beside the columnar copy is a cache of person_score."""
    rescore(store=network, now=NOW, settings=SETTINGS)
    columns = ActivityColumns(network.url, network.engine, directory=network.columns_dir)
    snapshots = list(columns.dir.glob("scores-*.parquet"))
    assert len(snapshots) == 1
    later = NOW + timedelta(days=1)
    with_snapshot = rescore(store=network, now=later, settings=SETTINGS)
    kept = scores(network)
    rescore(store=network, now=NOW, settings=SETTINGS)  # back in time: history starts afresh
    rescore(store=network, now=NOW, settings=SETTINGS)
    for p in columns.dir.glob("scores-*.parquet"):
        p.unlink()
    without = rescore(store=network, now=later, settings=SETTINGS)
    assert scores(network) == kept
    assert with_snapshot.transitions == without.transitions == 0


def test_a_rescore_keeps_one_snapshot_and_its_pool(network: Store) -> None:
    """Each rescore writes its snapshot and the nurture pool beside the copy; once its scores
    are committed, the files of earlier rescores go (and only then)."""
    from karmabank.actions.scoring import nurture_pool_part
    from karmabank.store.tables import ScoreState

    columns = ActivityColumns(network.url, network.engine, directory=network.columns_dir)
    for day in (0, 1, 2):
        rescore(store=network, now=NOW + timedelta(days=day), settings=SETTINGS)
        with network.sessions() as session:
            state = session.get(ScoreState, 1)
            assert state is not None
            token = f"{state.scored_at}-{micros(state.computed_at)}"
        kept = sorted(p.name for p in columns.dir.iterdir() if not p.name.startswith("seg-"))
        assert kept == sorted(["lock", "manifest.json", f"scores-{token}.parquet",
                               f"{nurture_pool_part(SETTINGS)}-{token}.parquet"])  # fmt: skip
