"""Whether the stored scores answer for a `now`, and the rescore on demand when they do not.

Kept apart from `scoring` (the rescore itself) so that a command reading fresh scores, like
`karmabank people`, imports SQLAlchemy and nothing more: Arrow, DuckDB, NumPy, the measures and
the ADBC driver load only when a rescore actually runs (they took 0.4 s of every listing).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from karmabank.actions.import_runs import live_runs
from karmabank.measures.settings import MeasureSettings
from karmabank.model import to_micros
from karmabank.store.open import Store
from karmabank.store.tables import Activity, Organization, ScoreState


def settings_digest(settings: MeasureSettings) -> str:
    blob = json.dumps(asdict(settings), sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def data_version(store: Store) -> tuple[int, int]:
    """The organization's data revision and the highest activity id."""
    with store.sessions() as session:
        revision = session.scalar(select(Organization.revision).order_by(Organization.id).limit(1))
        max_id = session.scalar(select(func.coalesce(func.max(Activity.id), 0)))
    return int(revision or 0), int(max_id or 0)


@dataclass(frozen=True)
class Freshness:
    state: ScoreState | None
    stale: bool
    reason: str


def freshness(*, store: Store, now: datetime, settings: MeasureSettings) -> Freshness:
    """Whether the stored scores answer for `now`: same data, same settings, same hour."""
    revision, max_id = data_version(store)
    with store.sessions() as session:
        state = session.get(ScoreState, 1)
        if state is None:
            return Freshness(None, True, "never scored")
        session.expunge(state)
    if state.revision != revision or state.activity_max_id != max_id:
        return Freshness(state, True, "the data changed")
    if state.settings_digest != settings_digest(settings):
        return Freshness(state, True, "the settings changed")
    gap = abs(to_micros(now) - state.scored_at) / 60e6
    if gap > settings.rescore.stale_after_minutes:
        return Freshness(state, True, "scores are from another time")
    return Freshness(state, False, "fresh")


def ensure_scores(*, store: Store, now: datetime, settings: MeasureSettings) -> ScoreState:
    """Rescore on demand: only when the stored scores are stale for `now`, and not while an
    import writes (every batch would make them stale again, and on SQLite the rescore's writes
    would wait on the import's): then the last scores answer, as they do when the database is
    too busy for the rescore. With no scores at all, the rescore runs (or its error rises)."""
    f = freshness(store=store, now=now, settings=settings)
    if f.stale:
        if f.state is not None and live_runs(store):
            return f.state
        from karmabank.actions.scoring import rescore  # Arrow, DuckDB, the measures: only now

        try:
            rescore(store=store, now=now, settings=settings)
        except Exception as e:  # ADBC's errors too (not imported here: start-up time)
            if f.state is None or not database_busy(e):
                raise
            return f.state
        f = freshness(store=store, now=now, settings=settings)
    assert f.state is not None, f.reason
    return f.state


def database_busy(error: BaseException) -> bool:
    """Whether a database error says another connection holds the lock (SQLite's "database is
    locked" / "busy", from SQLAlchemy's driver or ADBC's): worth a retry, never a bug."""
    adbc = type(error).__module__.startswith("adbc_driver")
    if not (adbc or isinstance(error, OperationalError | sqlite3.OperationalError)):
        return False
    message = str(error).lower()
    return "database is locked" in message or "database is busy" in message
