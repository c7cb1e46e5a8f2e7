"""One SQLite library at a time per database file, in this process.

The column-wise driver (ADBC, `store/arrow_io.py`) links its own copy of SQLite, beside Python's.
Two copies must never have one file open at the same moment in one process
(https://sqlite.org/howtocorrupt.html, "multiple copies of SQLite linked into the same
application"): POSIX locks belong to the process, so one copy closing the file drops the other's
locks, and each copy keeps its own bookkeeping of the WAL's locks, so both can believe they are
the only writer. Two threads of `karmabank serve` (a page reading scores through ADBC while a
sync writes through SQLAlchemy) are enough to corrupt the file.

`Gate` is a readers-writer lock per file: every connection SQLAlchemy checks out of its pool
holds it shared (`GatedPool`), and an ADBC connection holds it alone (`exclusive`), after the
pools' idle connections to that file are closed. So the two copies take turns, whatever the
threads. A thread that holds a session and then asks for an ADBC connection would wait for
itself: it is refused at once instead (the caller must end its session first).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.pool import ConnectionPoolEntry, QueuePool

from karmabank.errors import StoreError

WAIT_S = 60.0  # how long an ADBC connection waits for the sessions of other threads to end


class Gate:
    """Many shared holders (Python's SQLite connections, per thread) or one exclusive (ADBC)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._shared: dict[int, int] = {}  # thread id -> connections it has checked out
        self._exclusive: int | None = None  # the thread holding the file alone

    def acquire_shared(self) -> None:
        me = threading.get_ident()
        with self._cond:
            if self._exclusive == me:
                raise RuntimeError(
                    "a SQLAlchemy connection was asked for inside an ADBC connection to the "
                    "same SQLite file (two copies of SQLite on one file: see store/sqlite_gate)"
                )
            while self._exclusive is not None:
                self._cond.wait()
            self._shared[me] = self._shared.get(me, 0) + 1

    def release_shared(self, thread: int) -> None:
        with self._cond:
            left = self._shared.get(thread, 0) - 1
            if left > 0:
                self._shared[thread] = left
            else:
                self._shared.pop(thread, None)
            self._cond.notify_all()

    @contextmanager
    def exclusive(self, *, wait_s: float = WAIT_S) -> Iterator[None]:
        me = threading.get_ident()
        deadline = time.monotonic() + wait_s
        with self._cond:
            if me in self._shared or self._exclusive == me:
                raise RuntimeError(
                    "an ADBC connection was asked for while this thread holds a connection to "
                    "the same SQLite file: end the session first (see store/sqlite_gate)"
                )
            while self._exclusive is not None or self._shared:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise StoreError(
                        f"the database stayed busy for {wait_s:g} s (another request holds it): "
                        "try again"
                    )
                self._cond.wait(left)
            self._exclusive = me
        try:
            yield
        finally:
            with self._cond:
                self._exclusive = None
                self._cond.notify_all()


_GATES: dict[str, Gate] = {}
_GATES_LOCK = threading.Lock()


def gate_for(path: str) -> Gate:
    """The gate of the SQLite file at `path` (one per file in this process)."""
    key = str(Path(path).resolve())
    with _GATES_LOCK:
        return _GATES.setdefault(key, Gate())


class GatedPool(QueuePool):
    """SQLAlchemy's default pool for SQLite files, each checkout holding the file's `Gate` shared
    until the connection is returned (`gated(path)` makes the class for one file)."""

    gate: Gate

    def _do_get(self) -> ConnectionPoolEntry:
        if getattr(_local, "getting", False):  # QueuePool._do_get calls itself when it retries
            return super()._do_get()
        self.gate.acquire_shared()
        _local.getting = True
        try:
            record = super()._do_get()
        except BaseException:
            self.gate.release_shared(threading.get_ident())
            raise
        finally:
            _local.getting = False
        _holders[id(record)] = threading.get_ident()
        return record

    def _do_return_conn(self, record: ConnectionPoolEntry) -> None:
        thread = _holders.pop(id(record), None)
        try:
            super()._do_return_conn(record)
        finally:
            if thread is not None:
                self.gate.release_shared(thread)


_local = threading.local()
_holders: dict[int, int] = {}  # a checked-out pool record -> the thread that checked it out


def gated(path: str) -> Callable[..., Any]:
    """A `GatedPool` class bound to the gate of the file at `path` (`create_engine(poolclass=)`)."""
    return type("GatedPool", (GatedPool,), {"gate": gate_for(path)})
