"""Python's SQLite and the ADBC driver's copy take turns on one file (store/sqlite_gate.py):
two copies of SQLite with one file open at once in a process can corrupt it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from karmabank.errors import StoreError
from karmabank.store import arrow_io
from karmabank.store.engine import make_engine
from karmabank.store.sqlite_gate import Gate


def _engine(tmp_path: Path) -> tuple[str, Engine]:
    path = tmp_path / "gate.db"
    engine = make_engine(str(path))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT NOT NULL)"))
    return f"sqlite:///{path}", engine


def test_an_adbc_connection_waits_for_another_threads_session(tmp_path: Path) -> None:
    url, engine = _engine(tmp_path)
    inside, done = threading.Event(), []

    def write_slowly() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t (who) VALUES ('python')"))
            inside.set()
            time.sleep(0.5)
            done.append(time.monotonic())

    writer = threading.Thread(target=write_slowly)
    writer.start()
    assert inside.wait(10)
    with arrow_io.connect(url, engine) as conn:
        opened = time.monotonic()
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM t")
            seen = cur.fetchone()
    writer.join()
    assert done and opened >= done[0]  # it opened the file only after the session ended
    assert seen == (1,)  # and saw what the session committed


def test_a_session_waits_for_another_threads_adbc_connection(tmp_path: Path) -> None:
    url, engine = _engine(tmp_path)
    inside, closed = threading.Event(), []

    def adbc_write() -> None:
        with arrow_io.connect(url, engine) as conn:
            with conn.cursor() as cur:
                cur.execute("INSERT INTO t (who) VALUES ('adbc')")
            conn.commit()
            inside.set()
            time.sleep(0.5)
            closed.append(time.monotonic())

    other = threading.Thread(target=adbc_write)
    other.start()
    assert inside.wait(10)
    with engine.connect() as conn:
        started = time.monotonic()
        rows = conn.execute(text("SELECT who FROM t")).all()
    other.join()
    assert closed and started >= closed[0]
    assert rows == [("adbc",)]


def test_one_thread_holding_a_session_is_refused_an_adbc_connection(tmp_path: Path) -> None:
    url, engine = _engine(tmp_path)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        with pytest.raises(RuntimeError, match="end the session first"):
            with arrow_io.connect(url, engine):
                pass
    with arrow_io.connect(url, engine) as adbc:  # once the session ended, it may
        with adbc.cursor() as cur:
            cur.execute("SELECT count(*) FROM t")
            assert cur.fetchone() == (0,)


def test_a_busy_file_is_a_clear_error_after_the_wait() -> None:
    gate = Gate()
    holder = threading.Event()
    release = threading.Event()

    def hold() -> None:
        gate.acquire_shared()
        holder.set()
        release.wait(10)
        gate.release_shared(threading.get_ident())

    t = threading.Thread(target=hold)
    t.start()
    assert holder.wait(10)
    with pytest.raises(StoreError, match="stayed busy for 0.2 s"):
        with gate.exclusive(wait_s=0.2):
            pass
    release.set()
    t.join()
    with gate.exclusive(wait_s=1):  # free again
        pass


def test_threads_writing_through_both_copies_leave_a_sound_file(tmp_path: Path) -> None:
    url, engine = _engine(tmp_path)
    rounds, errors = 40, []

    def python_writes() -> None:
        try:
            for _ in range(rounds):
                with engine.begin() as conn:
                    conn.execute(text("INSERT INTO t (who) VALUES ('python')"))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    def adbc_writes() -> None:
        try:
            for _ in range(rounds):
                with arrow_io.connect(url, engine) as conn:
                    with conn.cursor() as cur:
                        cur.execute("INSERT INTO t (who) VALUES ('adbc')")
                    conn.commit()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=f) for f in (python_writes, adbc_writes, python_writes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        rows = conn.execute(text("SELECT who, count(*) FROM t GROUP BY who")).all()
        counts = {str(who): int(n) for who, n in rows}
    assert counts == {"python": 2 * rounds, "adbc": rounds}
