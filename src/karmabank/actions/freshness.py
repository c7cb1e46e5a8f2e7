"""Whether the stored scores answer for a `now`, and the rescore on demand when they do not.

The scores are the last rescore's (`scores.LastRescore`, which judges itself against a `now`).
Kept apart from `scoring` (the rescore itself, imported here only when it runs; it imports
`scores`, never this module) so that a command reading fresh scores, like
`karmabank people`, imports SQLAlchemy and nothing more: Arrow, DuckDB, NumPy, the measures and
the ADBC driver load only when a rescore actually runs (they took 0.4 s of every listing).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import OperationalError

from karmabank.actions.import_runs import live_runs
from karmabank.actions.scores import FRESH, NEVER_SCORED, LastRescore, data_version
from karmabank.measures.settings import MeasureSettings
from karmabank.store.open import Store


@dataclass(frozen=True)
class Freshness:
    """Whether the last rescore's scores answer for a `now`, and why not."""

    last: LastRescore | None  # None: never scored
    reason: str  # FRESH, or why they are stale

    @property
    def stale(self) -> bool:
        return self.reason != FRESH


def freshness(*, store: Store, now: datetime, settings: MeasureSettings) -> Freshness:
    """Whether the stored scores answer for `now`: same data, same settings, same hour."""
    data = data_version(store)
    last = LastRescore.read(store)
    if last is None:
        return Freshness(None, NEVER_SCORED)
    return Freshness(last, last.stale_reason(now=now, data=data, settings=settings) or FRESH)


def ensure_scores(*, store: Store, now: datetime, settings: MeasureSettings) -> LastRescore:
    """Rescore on demand: only when the stored scores are stale for `now`, and not while an
    import writes (every batch would make them stale again, and on SQLite the rescore's writes
    would wait on the import's): then the last scores answer, as they do when the database is
    too busy for the rescore. With no scores at all, the rescore runs (or its error rises)."""
    f = freshness(store=store, now=now, settings=settings)
    if f.stale:
        if f.last is not None and live_runs(store):
            return f.last
        from karmabank.actions.scoring import rescore  # Arrow, DuckDB, the measures: only now

        try:
            rescore(store=store, now=now, settings=settings)
        except Exception as e:  # ADBC's errors too (not imported here: start-up time)
            if f.last is None or not database_busy(e):
                raise
            return f.last
        f = freshness(store=store, now=now, settings=settings)
    assert f.last is not None, f.reason
    return f.last


def database_busy(error: BaseException) -> bool:
    """Whether a database error says another connection holds the lock (SQLite's "database is
    locked" / "busy", from SQLAlchemy's driver or ADBC's): worth a retry, never a bug."""
    adbc = type(error).__module__.startswith("adbc_driver")
    if not (adbc or isinstance(error, OperationalError | sqlite3.OperationalError)):
        return False
    message = str(error).lower()
    return "database is locked" in message or "database is busy" in message
