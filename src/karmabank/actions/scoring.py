"""Rescore: recompute every measure into the score tables, in one transaction.

Reads the columnar copy of activities (synced first), the flags, the asks people acted on and
the previous rescore's circles and stages (`LastRescore.read`, its snapshot); runs the pure
`score_network`; writes `person_score`, new `ladder_transition` rows and `score_state` (the
`LastRescore` it leaves, `LastRescore.made`) together through one ADBC transaction, and the
snapshot beside the columnar copy meanwhile. Imports `actions.scores`, never `freshness` (which
imports this module only when a rescore runs).
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
from sqlalchemy.schema import CreateIndex

from karmabank.actions.merge_history import with_merged_history
from karmabank.actions.retention import apply_retention
from karmabank.actions.scores import LastRescore, data_version
from karmabank.frames import (
    ACTED_SCHEMA,
    FLAGS_SCHEMA,
    PREVIOUS_SCHEMA,
    ParquetFiles,
)
from karmabank.measures import nurture
from karmabank.measures.engines import DUCKDB, SqlEngine
from karmabank.measures.network import NetworkScores, NetworkSummary, score_network
from karmabank.measures.settings import MeasureSettings
from karmabank.settings import EngineSettings
from karmabank.store import arrow_io
from karmabank.store.columns import ActivityColumns, Snapshot, SyncReport
from karmabank.store.open import Store
from karmabank.store.tables import (
    Base,
    LadderTransition,
    PersonScore,
    ScoreState,
)

SCORE_SCHEMA = arrow_io.schema_of(PersonScore.__table__)
TRANSITION_SCHEMA = arrow_io.schema_of(
    LadderTransition.__table__, ["person_id", "from_stage", "to_stage", "at"]
)
STATE_SCHEMA = arrow_io.schema_of(ScoreState.__table__)
# What the last rescore leaves beside the columnar copy: the history the next rescore needs and
# the few scores the nurture queue and the planner (who may be asked, and by which rule not)
# read, so none has to scan a million rows of person_score.
SNAPSHOT_SCHEMA = pa.schema(
    [*PREVIOUS_SCHEMA, *(SCORE_SCHEMA.field(n).with_nullable(True)
                         for n in ("status", "warmth", "tenure_days", "cadence_used",
                                   "ask_ready", "ask_rule")),
     ("last_in_before_window", pa.int64()), ("last_at", pa.int64())]
)  # fmt: skip


def _save_snapshot(
    snapshot: Snapshot, result: NetworkScores, acts: ParquetFiles | pa.Table, now: datetime,
    settings: MeasureSettings, engine: SqlEngine,
) -> None:  # fmt: skip
    kept = result.scores.select(SNAPSHOT_SCHEMA.names).cast(SNAPSHOT_SCHEMA)
    # what the nurture queue filters on, per person, and the people it may concern
    kept, pool = nurture.snapshot_parts(kept, acts, now=now, settings=settings, engine=engine)
    snapshot.save(kept, {nurture_pool_part(settings): pool})


def nurture_pool_part(settings: MeasureSettings) -> str:
    """The snapshot part holding the nurture `Pool` (its cut, in days before the rescore, in
    the name: a queue with other windows does not use it)."""
    n = settings.nurture
    return f"nurture{max(n.window_days, n.share_window_days)}d"


@dataclass(frozen=True)
class RescoreReport:
    now: datetime
    people: int
    transitions: int
    seconds: float
    sync: SyncReport
    summary: NetworkSummary

    def as_json(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "people": self.people,
            "transitions": self.transitions,
            "seconds": round(self.seconds, 3),
            "activities": self.sync.rows,
            "synced": self.sync.appended,
            **summary_json(self.summary),
        }


def summary_json(s: NetworkSummary) -> dict[str, Any]:
    return {
        "ranked": s.ranked,
        "circle_cuts": {"core": s.cuts[0], "allies": s.cuts[1], "friends": s.cuts[2]},
        "network_cadence_days": s.network_cadence,
        "warmth_before_median": s.warmth_before_median,
        "share_ratio": s.share.as_json(),
        "circles": s.by_circle,
        "statuses": s.by_status,
        "stages": s.by_stage,
    }


def flagged_people(conn: Any) -> pa.Table:
    """Team members, bots, do-not-contact and erased people (FLAGS_SCHEMA), on an ADBC or a
    SQLAlchemy connection: the measures and the nurture rules treat them apart."""
    return arrow_io.read_table(
        conn,
        """(SELECT id AS person_id, team, bot, do_not_contact, erased FROM person
            WHERE team OR bot OR do_not_contact OR erased) AS flagged""",
        FLAGS_SCHEMA,
    )


def sql_engine(chosen: EngineSettings) -> SqlEngine:
    """The engine the settings name (`measures.engines`; Spark's is made, not started)."""
    if chosen.name != "spark":
        return DUCKDB
    from karmabank.measures.spark import SparkEngine

    return SparkEngine(
        master=chosen.spark_master, conf=dict(chosen.spark_conf),
        columns_url=chosen.spark_columns, java_home=chosen.java_home,
    )  # fmt: skip


def rescore(
    *, store: Store, now: datetime, settings: MeasureSettings, threads: int | None = None,
    engine: SqlEngine = DUCKDB,
) -> RescoreReport:  # fmt: skip
    """Recompute every score at `now`. Twice at the same `now`, the same scores, on either
    engine (`sql_engine`); nothing is written if the engine fails."""
    started = time.perf_counter()
    apply_retention(store=store, now=now, actor="retention")  # texts past it: no measure reads them
    data = data_version(store)
    before = LastRescore.read(store)
    columns = ActivityColumns(store.url, store.engine, directory=store.columns_dir)
    sync = columns.sync()
    with arrow_io.connect(store.url, store.engine) as conn:
        flags = flagged_people(conn)
        acted = arrow_io.read_table(conn, _ACTED, ACTED_SCHEMA)
        previous = _history(conn, store, before)
        result = score_network(
            sync.source(), now=now, settings=settings, flags=flags, acted=acted,
            previous=previous, previous_now=None if before is None else before.scored_at,
            threads=threads, engine=engine,
        )  # fmt: skip
        last = LastRescore.made(
            now=now, clock=datetime.now(UTC), data=data, settings=settings,
            summary={**summary_json(result.summary), SET_APART: result.set_apart.to_pylist()},
            seconds=time.perf_counter() - started,  # reading and computing; the writes follow
        )  # fmt: skip
        snapshot = last.snapshot(store)
        # The snapshot (history, and what the nurture queue filters on) is computed and
        # written while the database takes the scores: both wait on C code, not on Python.
        with ThreadPoolExecutor(max_workers=1) as background:  # (waits for it in any case)
            saving = background.submit(_save_snapshot, snapshot, result, sync.source(), now,
                                       settings, engine)  # fmt: skip
            _write(store, conn, result, last)
            saving.result()
            conn.commit()
    snapshot.prune_others()  # the previous snapshot answered for the previous scores
    seconds = time.perf_counter() - started  # everything, the commit included
    return RescoreReport(
        now, result.scores.num_rows, result.transitions.num_rows, seconds, sync, result.summary
    )


def _history(conn: Any, store: Store, before: LastRescore | None) -> pa.Table | None:
    """The circles and stages of the last rescore (`before`), from its snapshot if it is still
    there, else from `person_score`, with the people it set apart; None before the first."""
    if before is None:
        return None
    previous = before.snapshot(store).table(PREVIOUS_SCHEMA)
    if previous is None:
        previous = arrow_io.read_table(conn, "person_score", PREVIOUS_SCHEMA)
    else:  # merges since changed person_score, not the snapshot
        previous = with_merged_history(conn, previous)
    return pa.concat_tables([previous, set_apart_history(before.summary)])


def _write(store: Store, conn: Any, result: NetworkScores, last: LastRescore) -> None:
    """Replace `person_score` and `score_state`, add the new transitions (not committed)."""
    rebuilt = _rebuilt_indexes(store)
    with conn.cursor() as cur:
        for name, _ in rebuilt:
            cur.execute(f"DROP INDEX IF EXISTS {name}")
        cur.execute("DELETE FROM person_score")
        cur.execute("DELETE FROM score_state")
    arrow_io.append(
        conn, "person_score", result.scores.select(SCORE_SCHEMA.names).cast(SCORE_SCHEMA)
    )
    with conn.cursor() as cur:
        for _, create in rebuilt:
            cur.execute(create)
    arrow_io.append(conn, "ladder_transition", result.transitions.cast(TRANSITION_SCHEMA))
    arrow_io.append(conn, "score_state", pa.Table.from_pylist([last.as_row()], STATE_SCHEMA))


def _rebuilt_indexes(store: Store) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of the `person_score` indexes the rescore drops before
    its bulk write and builds again after it, in the same transaction: on SQLite, where
    building the warmth index once takes about 1.4 s for a million scores and keeping it up to
    date row by row 3 to 5 s more (measured on the listing benchmark's database). Not on
    PostgreSQL: `DROP INDEX` would lock readers out of the old scores until the commit."""
    if store.engine.dialect.name != "sqlite":
        return []
    indexes = Base.metadata.tables["person_score"].indexes
    return [
        (index.name, str(CreateIndex(index).compile(dialect=store.engine.dialect)))
        for index in sorted(indexes, key=lambda i: str(i.name))
        if index.name is not None
    ]


# The key of `score_state.summary` that keeps the circle and stage history of the people a team
# or bot flag keeps out of the scores (they have no `person_score` row), for when it is cleared.
SET_APART = "set_apart_history"


def set_apart_history(summary: str | None) -> pa.Table:
    """PREVIOUS_SCHEMA rows of the people set apart by a flag at the last rescore."""
    rows = json.loads(summary or "{}").get(SET_APART, [])
    return pa.Table.from_pylist(rows, PREVIOUS_SCHEMA)


_ACTED = """(SELECT person_id, campaign_id, acted_at FROM ask
    WHERE status = 'acted' AND acted_at IS NOT NULL) AS acted"""
