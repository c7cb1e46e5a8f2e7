"""Whether an import run's process is still alive, and the runs whose process is gone.

An import holds a lock for as long as it runs, which the operating system or the database
server drops the moment its process dies, however it dies (`kill -9` included):

- SQLite: a shared `flock` on `<database>-imports.lock`, an empty file beside the database
  (not the database file itself: closing any descriptor of it would drop SQLite's own `fcntl`
  locks of the process). A run is gone when no process holds that lock; while any import of
  the database runs, no run is declared gone (the lock does not say whose it is).
- PostgreSQL: a session-level advisory lock keyed by the run's id, held on a connection of its
  own; a run is gone when the server lists no such lock (`pg_locks`).

`mark_interrupted` turns the `running` runs whose process is gone into `interrupted`; the next
import calls it first and says so. The run's batches that committed are whole (each batch is one
transaction), so re-running the same import completes it and imports nothing twice.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, select, text, update
from sqlalchemy.engine import make_url

from karmabank.model import from_micros
from karmabank.store.open import Store
from karmabank.store.tables import ImportRun, ScoreState

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows: runs are never declared gone there
    fcntl = None  # type: ignore[assignment]

LOCK_CLASS = 0x6B62  # "kb": the first key of the PostgreSQL advisory locks of import runs
RUNNING = "running"
INTERRUPTED = "interrupted"


def _lock_file(store: Store) -> Path | None:
    """The SQLite database's import lock file (None: not a SQLite file)."""
    parsed = make_url(store.url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(f"{parsed.database}-imports.lock")


@contextlib.contextmanager
def run_lock(store: Store, run_id: int) -> Iterator[None]:
    """Held by the import of run `run_id` while it runs (see the module's docstring)."""
    path = _lock_file(store)
    if path is not None:
        if fcntl is None:
            yield
            return
        fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)  # drops the lock
        return
    if store.engine.dialect.name != "postgresql":
        yield
        return
    with store.engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:c, :r)"), {"c": LOCK_CLASS, "r": run_id})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:c, :r)"), {"c": LOCK_CLASS, "r": run_id})
            conn.commit()


def _sqlite_import_alive(path: Path) -> bool:
    """Whether some process holds an import's lock on the database file."""
    if fcntl is None:  # pragma: no cover
        return True
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:  # no import ever ran here since the lock came in
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        return False
    finally:
        os.close(fd)


def _pg_live_runs(conn: Connection) -> set[int]:
    rows = conn.execute(
        text(
            "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND classid = :c"
            " AND objsubid = 2 AND granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ),
        {"c": LOCK_CLASS},
    )
    return {int(r[0]) for r in rows}


def live_runs(store: Store) -> list[int]:
    """The runs marked `running` whose process still runs (on SQLite: all of them, while any
    import of the database runs)."""
    with store.engine.connect() as conn:
        running = _running(conn)
        if not running:
            return []
        return [r for r in running if r in _alive(store, conn, running)]


def _running(conn: Connection) -> list[int]:
    return list(
        conn.scalars(select(ImportRun.id).where(ImportRun.status == RUNNING).order_by(ImportRun.id))
    )


def _alive(store: Store, conn: Connection, running: list[int]) -> set[int]:
    path = _lock_file(store)
    if path is not None:
        return set(running) if _sqlite_import_alive(path) else set()
    if conn.dialect.name == "postgresql":
        return _pg_live_runs(conn)
    return set(running)  # pragma: no cover - no other backend


def mark_interrupted(store: Store, now: datetime) -> list[int]:
    """Mark `interrupted` every `running` run whose process is gone; their ids, oldest first."""
    with store.engine.connect() as conn:
        running = _running(conn)
        gone = [r for r in running if r not in _alive(store, conn, running)] if running else []
    if gone:
        with store.engine.begin() as conn:  # the first statement writes (SQLite's write lock)
            conn.execute(
                update(ImportRun)
                .where(ImportRun.id.in_(gone), ImportRun.status == RUNNING)
                .values(status=INTERRUPTED, finished_at=now)
            )
    return gone


def importing_note(store: Store) -> str | None:
    """While an import runs (and scores exist): what the scores answering reads are."""
    if not live_runs(store):
        return None
    with store.sessions() as session:
        scored_at = session.scalar(select(ScoreState.scored_at).where(ScoreState.id == 1))
    if scored_at is None:
        return None
    return (
        f"as of the last rescore ({from_micros(scored_at).isoformat()}): an import is running;"
        " the next read after it rescores"
    )


def interrupted_message(run_id: int) -> str:
    return (
        f"import run {run_id} was interrupted (killed?) — re-run the import: "
        "nothing is imported twice"
    )

