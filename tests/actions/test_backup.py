"""Backup and restore on SQLite and PostgreSQL: round trips give the same views, a damaged
file or a non-empty target changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from karmabank.actions.backup import backup_database
from karmabank.actions.restore import restore_database
from karmabank.errors import BackupError, ConfigError, StoreError
from tests.cli_helpers import run
from tests.conftest import PgDatabases

NOW = "2026-06-01T12:00:00Z"
ROWS = "occurred_at,person,verb,direction,channel,text\n" + "".join(
    f"2026-0{1 + i % 5}-1{i % 9}T10:00:00Z,p{i % 7}@example.org,like,in,email,hello {i}\n"
    for i in range(40)
)


class Target:
    def __init__(self, db: str) -> None:
        self.db, self.columns_base, self.templates_dir = db, None, None


def views(capsys: pytest.CaptureFixture[str], db: str) -> list[str]:
    out = []
    for args in (["people", "--now", NOW], ["person", "p1@example.org", "--now", NOW],
                 ["status", "--now", NOW], ["campaign", "list"], ["user", "list"]):  # fmt: skip
        r = run(capsys, *args, "--db", db, *([] if args[0] == "user" else ["--json"]))
        assert r.code == 0, r.err
        out.append(r.out)
    return out


def filled(capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path) -> None:
    csv = tmp_path / "rows.csv"
    csv.write_text(ROWS)
    assert run(capsys, "import", "csv", str(csv), "--db", db).code == 0
    assert run(capsys, "flag", "p2@example.org", "do_not_contact", "--db", db).code == 0


def test_round_trip_into_an_empty_database(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], pg_databases: PgDatabases
) -> None:
    filled(capsys, db_url, tmp_path)
    before = views(capsys, db_url)
    for portable in (False, True):
        file = tmp_path / f"b-{portable}.kbbackup"
        made = backup_database(db=db_url, path=file, portable=portable)
        assert made.counts["activity"] == 40
        for target in (str(tmp_path / f"r-{portable}.db"), pg_databases.fresh(migrated=False)):
            if made.payload == "pg_dump" and not target.startswith("postgresql"):
                with pytest.raises(BackupError, match="PostgreSQL only"):
                    restore_database(path=file, settings=Target(target))
                continue
            done = restore_database(path=file, settings=Target(target))
            assert done.counts == made.counts
            assert views(capsys, target) == before


def test_sqlite_to_postgresql_and_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pg_databases: PgDatabases
) -> None:
    db = str(tmp_path / "a.db")
    filled(capsys, db, tmp_path)
    before = views(capsys, db)
    backup_database(db=db, path=tmp_path / "a.kbb")
    pg = pg_databases.fresh(migrated=False)
    restore_database(path=tmp_path / "a.kbb", settings=Target(pg))
    backup_database(db=pg, path=tmp_path / "b.kbb", portable=True)
    back = str(tmp_path / "back.db")
    restore_database(path=tmp_path / "b.kbb", settings=Target(back))
    assert views(capsys, pg) == before and views(capsys, back) == before
    # the sequences moved past the restored ids: a new person gets a new id
    r = run(capsys, "record", "in", "new@example.org", "like", "--db", pg)
    assert r.code == 0, r.err


def test_damaged_files_and_a_full_target_change_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "a.db")
    filled(capsys, db, tmp_path)
    file = tmp_path / "a.kbb"
    backup_database(db=db, path=file)
    data = file.read_bytes()
    cut = tmp_path / "cut.kbb"
    cut.write_bytes(data[: len(data) // 2])
    bad = bytearray(data)
    bad[len(data) // 3] ^= 0xFF
    tampered = tmp_path / "tampered.kbb"
    tampered.write_bytes(bytes(bad))
    target = tmp_path / "t.db"
    for damaged, says in ((cut, "truncated"), (tampered, "does not match its xxh3_128")):
        with pytest.raises(BackupError, match=says):
            restore_database(path=damaged, settings=Target(str(target)))
        assert not target.exists()
    other = str(tmp_path / "other.db")
    filled(capsys, other, tmp_path)
    kept = views(capsys, other)
    with pytest.raises(ConfigError, match="not empty"):
        restore_database(path=file, settings=Target(other))
    r = run(capsys, "restore", str(cut), "--db", other, "--force")
    assert r.code == 1 and r.err.count("\n") == 1 and "truncated" in r.err
    assert views(capsys, other) == kept
    r = run(capsys, "restore", str(file), "--db", other, "--force", "--json")
    assert r.code == 0 and json.loads(r.out)["replaced_rows"] > 0
    with pytest.raises(ConfigError, match="exists"):
        backup_database(db=db, path=file)


def test_demo_force_backs_the_database_up_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "demo.db")
    filled(capsys, db, tmp_path)
    r = run(capsys, "demo", "--db", db, "--people", "10")
    assert r.code == 1 and "--force" in r.err
    r = run(capsys, "demo", "--db", db, "--people", "10", "--force")
    assert r.code == 0, r.err
    (saved,) = tmp_path.glob("demo.db.before-demo-*.kbbackup")
    assert str(saved) in r.out.replace("\n", "")
    back = str(tmp_path / "back.db")
    restore_database(path=saved, settings=Target(back))
    assert run(capsys, "people", "--db", back, "--json").out.count('"id"') >= 7


def recounted(file: Path, out: Path, tmp_path: Path) -> None:
    """`file` again, whole and with the right digests, but its manifest saying one activity more:
    it passes every check of the file and fails only once loaded."""
    from dataclasses import replace

    from karmabank.store.archive import README, read_archive, write_archive

    folder = tmp_path / f"unpacked-{file.stem}"
    folder.mkdir()
    manifest = read_archive(file, folder)
    counts = {**manifest.counts, "activity": manifest.counts["activity"] + 1}
    members = {n: folder / n for n in manifest.members if n != README}
    write_archive(out, replace(manifest, counts=counts), members)


def test_a_forced_restore_into_postgresql_is_all_or_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pg_databases: PgDatabases
) -> None:
    """A forced restore that fails once the target's data is replaced (here: the counts loaded
    differ from the manifest's) leaves the PostgreSQL database exactly as it was; one that
    succeeds leaves nothing of the old data behind."""
    import psycopg

    source, pg_source = str(tmp_path / "src.db"), pg_databases.fresh()
    for db in (source, pg_source):
        filled(capsys, db, tmp_path)
        assert run(capsys, "record", "in", "extra@example.org", "like", "--db", db).code == 0
    files: list[tuple[str, Path, Path, list[str]]] = []
    for db, portable in ((source, False), (source, True), (pg_source, False)):
        wanted = views(capsys, db)
        good = tmp_path / f"good-{len(files)}.kbb"
        made = backup_database(db=db, path=good, portable=portable)
        bad = tmp_path / f"bad-{len(files)}.kbb"
        recounted(good, bad, tmp_path)
        files.append((made.payload, good, bad, wanted))
    assert {payload for payload, *_ in files} >= {"sqlite", "portable"}
    for payload, good, bad, wanted in files:
        target = pg_databases.fresh()
        filled(capsys, target, tmp_path)
        kept = views(capsys, target)
        with pytest.raises(BackupError, match="counts differ"):
            restore_database(path=bad, settings=Target(target), force=True)
        assert views(capsys, target) == kept, payload
        done = restore_database(path=good, settings=Target(target), force=True)
        assert done.replaced > 0 and views(capsys, target) == wanted, payload
        with psycopg.connect(target.replace("postgresql+psycopg://", "postgresql://")) as conn:
            schemas = [r[0] for r in conn.execute("SELECT nspname FROM pg_namespace")]
        assert not [s for s in schemas if s.startswith("karmabank_before_restore")], payload


def test_a_manifest_that_lies_about_the_file_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The SQLite payload is not migrated nor recounted through the app's engine: its own
    revision and row counts are still read and checked against the manifest's."""
    from dataclasses import replace

    from karmabank.store.archive import README, read_archive, write_archive

    db = str(tmp_path / "a.db")
    filled(capsys, db, tmp_path)
    file = tmp_path / "a.kbb"
    backup_database(db=db, path=file)
    target = tmp_path / "t.db"
    for n, (change, says) in enumerate(
        (({"schema_revision": "0012"}, "not at the schema"), ({"counts": {}}, "counts differ"))
    ):
        folder = tmp_path / f"unpacked-{n}"
        manifest = read_archive(file, folder)
        members = {m: folder / m for m in manifest.members if m != README}
        lying = tmp_path / f"lying-{n}.kbb"
        write_archive(lying, replace(manifest, **change), members)  # type: ignore[arg-type]
        with pytest.raises(BackupError, match=says):
            restore_database(path=lying, settings=Target(str(target)))
        assert not target.exists()


def test_when_the_old_data_cannot_be_put_back_the_error_says_where_it_is(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    pg_databases: PgDatabases,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import psycopg

    from karmabank.store import load

    source = str(tmp_path / "src.db")
    filled(capsys, source, tmp_path)
    good, bad = tmp_path / "good.kbb", tmp_path / "bad.kbb"
    backup_database(db=source, path=good)
    recounted(good, bad, tmp_path)
    target = pg_databases.fresh()
    filled(capsys, target, tmp_path)

    def fails(*_: object) -> None:
        raise RuntimeError("the server went away")

    monkeypatch.setattr(load, "put_back", fails)
    with pytest.raises(StoreError, match="karmabank_before_restore_") as caught:
        restore_database(path=bad, settings=Target(target), force=True)
    aside = str(caught.value).split("in the schema ")[1].split(";")[0]
    with psycopg.connect(target.replace("postgresql+psycopg://", "postgresql://")) as conn:
        kept = conn.execute(f'SELECT count(*) FROM "{aside}".activity').fetchone()
    assert kept == (40,)


def test_restore_into_an_initialized_empty_postgresql_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pg_databases: PgDatabases
) -> None:
    """`karmabank init` made the tables, none holds a row: no --force needed, and every payload
    restores (a pg_dump one failed: its tables already existed)."""
    sqlite_db, pg_db = str(tmp_path / "s.db"), pg_databases.fresh()
    for n, (db, portable) in enumerate(((sqlite_db, False), (pg_db, False), (pg_db, True))):
        if n < 2:
            filled(capsys, db, tmp_path)
        file = tmp_path / f"b-{n}.kbb"
        backup_database(db=db, path=file, portable=portable)
        target = pg_databases.fresh()  # migrated, empty
        done = restore_database(path=file, settings=Target(target))
        assert done.replaced == 0 and views(capsys, target) == views(capsys, db)
