"""Backups at awkward moments, on SQLite and PostgreSQL: one taken while a real `karmabank
import` process writes is the database at one moment (every batch in it whole, the run's
counters equal to the rows it holds, the import finishing as if nothing happened), and one
from an older schema is migrated to the newest on restore, its data kept."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from karmabank.actions.backup import backup_database
from karmabank.actions.restore import restore_database
from karmabank.store import migrate
from karmabank.store.engine import make_engine
from karmabank.store.open import open_store
from karmabank.store.tables import Activity, ImportRun, Person
from tests.actions.test_backup import Target, filled, views
from tests.conftest import PgDatabases

ROWS = 60_000
OLDER = "0012"  # before connections (0013), erasure's tombstones (0014) and retention (0015)


@pytest.mark.slow
def test_a_backup_while_an_import_writes_is_one_moment(
    db_url: str, tmp_path: Path, pg_databases: PgDatabases
) -> None:
    edges = tmp_path / "edges.txt"
    with edges.open("w") as f:
        for i in range(ROWS):
            f.write(f"{i % 997} {(i * 7919) % 1009 + 1000} {1_300_000_000 + i}\n")
    cmd = [sys.executable, "-m", "karmabank", "import", "edgelist", str(edges), "--org", "0",
           "--db", db_url, "--batch-size", "1000"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with open_store(db_url) as store:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            with store.sessions() as s:
                if (s.scalar(select(func.coalesce(func.sum(ImportRun.imported), 0))) or 0) >= 3000:
                    break
            time.sleep(0.02)
    backups = []
    for i, portable in enumerate((False, True)):
        assert proc.poll() is None, "the import ended before the backups: make it bigger"
        backups.append(backup_database(db=db_url, path=tmp_path / f"mid-{i}.kbb",
                                       portable=portable))  # fmt: skip
    _out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    with open_store(db_url) as store, store.sessions() as s:  # the import went on unharmed
        assert s.scalar(select(func.count()).select_from(Activity)) == ROWS
    for i, made in enumerate(backups):
        target = str(tmp_path / f"back-{i}.db") if made.payload != "pg_dump" else (
            pg_databases.fresh(migrated=False))  # fmt: skip
        restore_database(path=tmp_path / f"mid-{i}.kbb", settings=Target(target))
        with open_store(target) as back, back.sessions() as s:
            (run,) = s.scalars(select(ImportRun)).all()
            stored = int(s.scalar(select(func.count()).select_from(Activity)) or 0)
            assert run.status == "running"  # a moment in the middle of the import
            assert 0 < stored < ROWS and stored % 1000 == 0  # whole batches only
            assert run.imported == stored == made.counts["activity"]  # its counters with them
            orphans = s.scalar(select(func.count()).select_from(Activity).where(
                ~Activity.person_id.in_(select(Person.id))))  # fmt: skip
            assert orphans == 0


def test_a_backup_of_an_older_schema_is_migrated_on_restore(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], pg_databases: PgDatabases
) -> None:
    filled(capsys, db_url, tmp_path)
    before = views(capsys, db_url)
    from alembic import command

    engine = make_engine(db_url)
    try:
        command.downgrade(migrate.alembic_config(engine), OLDER)
        assert migrate.current_revision(engine) == OLDER
    finally:
        engine.dispose()
    for portable in (False, True):
        file = tmp_path / f"old-{portable}.kbb"
        made = backup_database(db=db_url, path=file, portable=portable)
        assert made.schema_revision == OLDER
        for target in (str(tmp_path / f"new-{portable}.db"), pg_databases.fresh(migrated=False)):
            if made.payload == "pg_dump" and not target.startswith("postgresql"):
                continue
            done = restore_database(path=file, settings=Target(target))
            assert (done.schema_revision, done.migrated_to) == (OLDER, migrate.head_revision())
            assert done.counts == made.counts
            assert views(capsys, target) == before  # what the newest schema says of it
