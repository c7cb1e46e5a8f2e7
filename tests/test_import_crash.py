"""A real import process killed with SIGKILL mid-way leaves a consistent database, and the
re-run completes it with no duplicates and nothing lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from karmabank.actions.import_runs import live_runs, mark_interrupted
from karmabank.store.open import open_store
from karmabank.store.tables import Activity, ImportRun, Person
from tests.cli_helpers import run

ROWS = 120_000
NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.mark.slow
def test_sigkill_mid_import_then_rerun_completes(db_url: str, tmp_path: Path) -> None:
    edges = tmp_path / "edges.txt"
    with edges.open("w") as f:
        f.write("% a made-up temporal edge list\n")
        for i in range(ROWS):
            f.write(f"{i % 997} {(i * 7919) % 1009 + 1000} {1_300_000_000 + i}\n")
    cmd = [sys.executable, "-m", "karmabank", "import", "edgelist", str(edges), "--org", "0",
           "--db", db_url, "--batch-size", "2000", "--json"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open_store(db_url) as store:
        deadline = time.monotonic() + 120
        imported = 0
        while time.monotonic() < deadline and proc.poll() is None:
            with store.sessions() as s:
                imported = int(
                    s.scalar(select(func.coalesce(func.sum(ImportRun.imported), 0))) or 0
                )
            if imported >= 10_000:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the import finished before it could be killed: make it bigger"
        # alive: its run is running, not interrupted
        assert live_runs(store) == [1] and mark_interrupted(store, NOW) == []
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL

        with store.sessions() as s:
            n_acts = int(s.scalar(select(func.count()).select_from(Activity)) or 0)
            run = s.scalars(select(ImportRun)).one()
            # every committed batch is whole: the run's counters match the rows stored
            assert 10_000 <= n_acts < ROWS
            assert run.imported == n_acts and run.status == "running"
            orphans = s.scalar(
                select(func.count())
                .select_from(Activity)
                .where(~Activity.person_id.in_(select(Person.id)))
            )
            assert orphans == 0
            if store.engine.dialect.name == "sqlite":
                assert s.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        assert live_runs(store) == []  # its process is gone: the lock went with it

    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    import json

    report = json.loads(done.stdout)
    assert report["interrupted_runs"] == [1]  # the killed run, found by the next import
    assert report["imported"] + report["duplicates"] == ROWS
    assert report["duplicates"] == n_acts
    with open_store(db_url) as store, store.sessions() as s:
        statuses = {r.id: r.status for r in s.execute(select(ImportRun.id, ImportRun.status))}
        assert statuses == {1: "interrupted", 2: "done"}
        assert s.scalar(select(func.count()).select_from(Activity)) == ROWS
        assert s.scalar(select(func.count(func.distinct(Activity.source_key)))) == ROWS
        assert s.scalar(select(func.count()).select_from(Person)) == 997 + 1009 - 1


def test_a_run_whose_process_is_gone_is_marked_interrupted_by_the_next_import(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A `running` run nobody holds (its process died) is said and marked `interrupted` by the
    next import, in the terminal's words; a finished run is left alone."""
    with open_store(db_url) as store, store.sessions.begin() as s:
        s.add(ImportRun(format="csv", paths="[]", started_at=NOW, status="running"))
        s.add(ImportRun(format="csv", paths="[]", started_at=NOW, status="done"))
    f = tmp_path / "a.csv"
    f.write_text("occurred_at,person,verb,direction,channel\n2026-05-01,ada@example.org,like,in,blog\n")
    r = run(capsys, "import", "csv", str(f), "--db", db_url, width=60)
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0] == (
        "import run 1 was interrupted (killed?) — re-run the import: nothing is imported twice"
    )
    assert lines[1].startswith("imported 1 activities")
    with open_store(db_url) as store, store.sessions() as s:
        statuses = {r.id: r.status for r in s.execute(select(ImportRun.id, ImportRun.status))}
        assert statuses == {1: "interrupted", 2: "done", 3: "done"}
        assert s.scalar(select(ImportRun.finished_at).where(ImportRun.id == 1)) is not None
    r = run(capsys, "import", "csv", str(f), "--db", db_url)
    assert "interrupted" not in r.out  # said once
