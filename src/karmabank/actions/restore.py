"""`karmabank restore FILE --db TARGET`: a backup (`actions/backup.py`) back into a database.

In this order, so that a refused or damaged restore changes nothing:

1. a target that holds any row is refused unless `force` (it would be replaced whole);
2. the file is checked whole while its members are extracted (`store/archive.py`): a
   truncated or tampered file, or one from a schema this version does not know, is a
   `BackupError`;
3. the payload is loaded at the backup's own schema revision (`store/load.py`), its row counts
   checked against the manifest's, then the schema is migrated to the newest.

A SQLite target is built in a new file beside it and renamed over it at the end (atomic: on
any failure the target is as it was). A PostgreSQL target that holds data (forced) has its
schema set aside and an empty one put in its place, into which the backup loads; on any
failure the old schema is put back, so it is as it was (`store/load.py`'s `set_aside`). Any
payload restores into PostgreSQL; into SQLite, all but `pg_dump`. The target's columnar copy
and snapshot are removed: they are rebuilt from the restored tables when next needed.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from karmabank.actions.backup import audit_backup
from karmabank.actions.database import DatabaseSettings
from karmabank.errors import BackupError, ConfigError, StoreError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from karmabank.store.archive import Manifest


@dataclass(frozen=True)
class RestoreReport:
    path: Path
    db: str  # the target, without its password
    payload: str
    source_backend: str
    schema_revision: str  # the backup's
    migrated_to: str  # the schema now
    counts: dict[str, int]  # as restored, equal to the manifest's
    replaced: int  # rows the target held before (0 unless forced)
    seconds: float

    def as_json(self) -> dict[str, Any]:
        return {
            "file": str(self.path), "db": self.db, "payload": self.payload,
            "source_backend": self.source_backend, "schema_revision": self.schema_revision,
            "migrated_to": self.migrated_to, "counts": dict(self.counts),
            "replaced_rows": self.replaced, "seconds": round(self.seconds, 3),
        }  # fmt: skip


def restore_database(
    *, path: Path, settings: DatabaseSettings, force: bool = False, actor: str = "cli"
) -> RestoreReport:
    """Restore the backup `path` into `settings.db` (see the module's docstring)."""
    from karmabank.store import migrate
    from karmabank.store.archive import read_archive
    from karmabank.store.engine import database_url
    from karmabank.store.load import known_revision
    from karmabank.store.open import columns_dir

    started = time.perf_counter()
    url = database_url(settings.db)
    parsed = make_url(url)
    sqlite_target = Path(str(parsed.database)) if parsed.get_backend_name() == "sqlite" else None
    shown = str(sqlite_target) if sqlite_target else parsed.render_as_string(hide_password=True)
    held = target_rows(url)
    if held and not force:
        raise ConfigError(
            f"{shown} is not empty ({held:,} rows): add --force to replace everything in it"
        )
    where = sqlite_target.parent if sqlite_target is not None else None
    if where is not None and not where.is_dir():
        raise ConfigError(f"folder of the database does not exist: {where}")
    with tempfile.TemporaryDirectory(dir=where, prefix=".karmabank-restore-") as tmp:
        folder = Path(tmp)
        manifest = read_archive(path.expanduser(), folder)
        if not known_revision(manifest.schema_revision):
            raise BackupError(
                f"{path} is from a newer karmabank (schema {manifest.schema_revision}; this"
                f" version knows up to {migrate.head_revision()}): upgrade karmabank first"
            )
        if sqlite_target is not None:
            counts = _into_sqlite(manifest, folder, str(path))
            _replace(folder / "restored.db", sqlite_target)
        else:
            counts = _into_postgresql(url, manifest, folder, str(path), clear=bool(held))
    shutil.rmtree(columns_dir(url, settings.columns_base), ignore_errors=True)
    done = {"file": str(path), "payload": manifest.payload, "replaced_rows": held,
            "rows": sum(counts.values()), "backup_schema": manifest.schema_revision}  # fmt: skip
    audit_backup(url, migrate.head_revision(), datetime.now(UTC), actor, "restore", done)
    return RestoreReport(
        path, shown, manifest.payload, manifest.source_backend, manifest.schema_revision,
        migrate.head_revision(), counts, held, time.perf_counter() - started,
    )  # fmt: skip


def target_rows(url: str) -> int:
    """How many rows the database at `url` holds in all its tables (0: none, or no database)."""
    from karmabank.store.engine import make_engine
    from karmabank.store.load import table_counts

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        file = Path(str(parsed.database))
        if not file.exists() or file.stat().st_size == 0:
            return 0
    engine = make_engine(url)
    try:
        return sum(table_counts(engine).values())
    except OperationalError as e:
        shown = parsed.render_as_string(hide_password=True)
        raise StoreError(f"cannot open the database {shown}: {e.orig}") from None
    finally:
        engine.dispose()


def _checked(counts: dict[str, int], want: dict[str, int], shown: str) -> dict[str, int]:
    if counts != want:
        differ = sorted(k for k in {*counts, *want} if counts.get(k) != want.get(k))
        raise BackupError(f"{shown}: the restored row counts differ from the manifest's: {differ}")
    return counts


def _into_sqlite(manifest: Manifest, folder: Path, shown: str) -> dict[str, int]:
    """Build the restored database at `folder/restored.db`, at the newest schema."""
    from karmabank.store import load, migrate
    from karmabank.store.engine import make_engine

    built, payload, want = folder / "restored.db", manifest.payload, manifest.counts
    if payload == "pg_dump":
        raise BackupError(
            f"{shown} is a pg_dump backup: it restores into PostgreSQL only (a portable backup"
            " restores anywhere)"
        )
    if payload == "sqlite":
        (folder / "database.sqlite").replace(built)
        counts = _sqlite_checked(built, manifest.schema_revision, want, shown)
        if manifest.schema_revision == migrate.head_revision():
            return counts  # nothing to migrate; one file, as checked (no WAL to fold in)
    else:
        engine = make_engine(str(built))
        try:
            load.migrate_to(engine, manifest.schema_revision)
            counts = load.load_portable(
                f"sqlite:///{built}", engine, folder / "tables", want, shown
            )
        finally:
            engine.dispose()
    engine = make_engine(str(built))
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    with sqlite3.connect(built) as conn:  # one file again: the WAL folded in
        conn.execute("PRAGMA journal_mode=DELETE")
    return counts


def _sqlite_checked(built: Path, revision: str, want: dict[str, int], shown: str) -> dict[str, int]:
    """A SQLite payload's schema revision and row counts checked against its manifest's, read
    only (plain `sqlite3`: no WAL, the file stays byte for byte the one whose digest matched)."""
    from karmabank.store.dump import VERSION_TABLE, count_rows, revision_of

    conn = sqlite3.connect(f"{built.resolve().as_uri()}?mode=ro", uri=True)
    try:
        cur = conn.cursor()
        try:
            found = revision_of(cur)
        except StoreError:
            found = ""
        if found != revision:
            raise BackupError(f"{shown}: its database is not at the schema its manifest says")
        names = [str(r[0]) for r in cur.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name <> ?", (VERSION_TABLE,),
        )]  # fmt: skip
        return _checked(count_rows(cur, names), want, shown)
    finally:
        conn.close()


def _replace(built: Path, target: Path) -> None:
    """Put `built` in the place of the SQLite database `target`, its WAL and shared memory
    removed first (an old WAL must never be applied to the new file); `built` is on disk
    before the rename (fsync), the rename on disk after (the folder's fsync)."""
    with open(built, "rb+") as f:
        os.fsync(f.fileno())
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    built.replace(target)
    folder = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def _into_postgresql(
    url: str, manifest: Manifest, folder: Path, shown: str, *, clear: bool
) -> dict[str, int]:
    """Load the payload into the PostgreSQL database at `url`; `clear`: it holds data, which
    is replaced all or nothing (`store/load.py`'s `set_aside`: on any failure it is as it was)."""
    from karmabank.store import load
    from karmabank.store.engine import make_engine

    engine = make_engine(url)
    try:
        # an empty schema that has tables (`karmabank init` made them) is set aside as well:
        # the backup's own schema revision is made from nothing
        clear = clear or bool(inspect(engine).get_table_names())
        moved = load.set_aside(engine) if clear else None
        try:
            counts = _load_postgresql(url, engine, manifest, folder, shown)
        except BaseException as failed:
            if moved is not None:
                engine.dispose()  # no connection of the restore's holds the new schema
                try:
                    load.put_back(engine, moved)
                except Exception as e:
                    raise StoreError(
                        f"{shown}: the restore failed ({failed}) and the data it replaced could"
                        f" not be put back ({e}): it is whole in the schema {moved.aside}; rename"
                        f" it to {moved.schema} by hand"
                    ) from failed
            raise
        if moved is not None:
            load.drop_aside(engine, moved)
    finally:
        engine.dispose()
    return counts


def _load_postgresql(
    url: str, engine: Engine, manifest: Manifest, folder: Path, shown: str
) -> dict[str, int]:
    """The payload into the empty schema of `url`, migrated to the newest."""
    from karmabank.store import dump, load, migrate
    from karmabank.store.engine import make_engine

    payload, want = manifest.payload, manifest.counts
    if payload == "pg_dump":
        binary = dump.pg_binary("pg_restore")
        if binary is None:
            raise BackupError(f"{shown} is a pg_dump backup: restoring it needs pg_restore")
        load.pg_restore(url, binary, folder / "database.pgdump")
        counts = _checked(load.table_counts(engine), want, shown)
    else:
        tables = folder / "tables"
        if payload == "sqlite":  # the SQLite file, read as the portable archive would be
            source = folder / "database.sqlite"
            source_engine = make_engine(str(source))
            try:
                dump.write_portable(f"sqlite:///{source}", source_engine, tables)
            finally:
                source_engine.dispose()
        load.migrate_to(engine, manifest.schema_revision)
        counts = load.load_portable(url, engine, tables, want, shown)
    migrate.upgrade(engine)
    return counts
