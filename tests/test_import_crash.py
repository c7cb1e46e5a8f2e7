"""A real import process killed with SIGKILL mid-way leaves a consistent database, and the
re-run completes it with no duplicates and nothing lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from karmabank.store.open import open_store
from karmabank.store.tables import Activity, ImportRun, Person

ROWS = 120_000


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

    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    import json

    report = json.loads(done.stdout)
    assert report["imported"] + report["duplicates"] == ROWS
    assert report["duplicates"] == n_acts
    with open_store(db_url) as store, store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Activity)) == ROWS
        assert s.scalar(select(func.count(func.distinct(Activity.source_key)))) == ROWS
        assert s.scalar(select(func.count()).select_from(Person)) == 997 + 1009 - 1
