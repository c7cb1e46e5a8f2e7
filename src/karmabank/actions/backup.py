"""`karmabank backup FILE`: a consistent snapshot of the database in one file, while the app
may be running (its imports, the web app and the CLI keep writing).

What goes in (`store/dump.py`), by the database and `portable`:

- SQLite: the database file through SQLite's online backup API (`payload: sqlite`); the
  quickest, and it restores into SQLite or PostgreSQL;
- PostgreSQL: `pg_dump -Fc` when its binary is installed (`payload: pg_dump`, restores into
  PostgreSQL only), else the portable archive;
- `portable` (either database): one Parquet file per table, read in one transaction
  (`payload: portable`), which restores into either.

The file is a tar with a manifest (`store/archive.py`): format version, schema revision, every
table's row count at the moment of the snapshot, each member's sha256 and XXH3-128. The columnar
copy and the snapshot beside it are not in it: they are rebuilt from the tables when next needed.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from karmabank.errors import ConfigError, StoreError


@dataclass(frozen=True)
class BackupReport:
    path: Path
    payload: str  # sqlite, portable or pg_dump
    source_backend: str
    schema_revision: str
    counts: dict[str, int]
    bytes: int
    created_at: datetime
    seconds: float
    note: str | None = None  # why the payload is not the one asked for, if it is not

    def as_json(self) -> dict[str, Any]:
        return {
            "file": str(self.path), "payload": self.payload,
            "source_backend": self.source_backend, "schema_revision": self.schema_revision,
            "counts": dict(self.counts), "bytes": self.bytes,
            "created_at": self.created_at.isoformat(), "seconds": round(self.seconds, 3),
            **({"note": self.note} if self.note else {}),
        }  # fmt: skip


def backup_database(
    *, db: str, path: Path, portable: bool = False, clock: datetime | None = None,
    actor: str = "cli",
) -> BackupReport:  # fmt: skip
    """Back up the database `db` into the new file `path` (never replaced: an existing file is
    refused). `clock`: the time written as `created_at` (default now)."""
    from importlib.metadata import version

    from karmabank.store.archive import Manifest, write_archive
    from karmabank.store.engine import database_url

    started = time.perf_counter()
    url = database_url(db)
    backend = make_url(url).get_backend_name()
    path = path.expanduser().absolute()
    if path.exists():
        raise ConfigError(f"{path} exists: a backup never replaces a file, choose another name")
    if not path.parent.is_dir():
        raise ConfigError(f"folder of the backup does not exist: {path.parent}")
    created = (clock or datetime.now(UTC)).astimezone(UTC)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=f".{path.name}-") as tmp:
        payload, revision, counts, members, note = _payload(url, backend, portable, Path(tmp))
        manifest = Manifest(
            payload=payload, source_backend=backend, schema_revision=revision,
            created_at=created.isoformat(), karmabank_version=version("karmabank"), counts=counts,
        )  # fmt: skip
        write_archive(path, manifest, members)
    audit_backup(url, revision, created, actor, "backup",
           {"file": str(path), "payload": payload, "rows": sum(counts.values())})  # fmt: skip
    return BackupReport(
        path, payload, backend, revision, counts, path.stat().st_size, created,
        time.perf_counter() - started, note,
    )  # fmt: skip


def audit_backup(
    url: str, revision: str, now: datetime, actor: str, action: str, details: dict[str, Any]
) -> None:
    """The audit entry of a backup (in the database backed up) or a restore (in the database
    restored), once the work is done; a database at an older schema (`init` upgrades it) is
    not written to."""
    from karmabank.actions.audit import audit_change
    from karmabank.store.migrate import head_revision
    from karmabank.store.open import open_store

    if revision != head_revision():
        return
    with open_store(url) as store:
        audit_change(store, now=now, actor=actor, action=action, subject="database",
                     details=details)  # fmt: skip


def _payload(
    url: str, backend: str, portable: bool, tmp: Path
) -> tuple[str, str, dict[str, int], dict[str, Path], str | None]:
    from karmabank.store import dump

    if backend == "sqlite" and not portable:
        source = Path(str(make_url(url).database))
        if not source.is_file():
            raise StoreError(f"no database at {source}")
        revision, counts = dump.sqlite_copy(source, tmp / "database.sqlite")
        return "sqlite", revision, counts, {"database.sqlite": tmp / "database.sqlite"}, None
    note = None
    if backend == "postgresql" and not portable:
        binary = dump.pg_binary("pg_dump")
        if binary is not None:
            revision, counts = dump.write_pg_dump(url, binary, tmp / "database.pgdump")
            return "pg_dump", revision, counts, {"database.pgdump": tmp / "database.pgdump"}, None
        note = "pg_dump is not installed: the portable archive instead"
    revision, counts = _portable(url, tmp / "tables")
    files = sorted((tmp / "tables").glob("*.parquet"), key=lambda p: -p.stat().st_size)
    return "portable", revision, counts, {f"tables/{p.name}": p for p in files}, note


def _portable(url: str, folder: Path) -> tuple[str, dict[str, int]]:
    from sqlalchemy.exc import OperationalError

    from karmabank.store import dump
    from karmabank.store.engine import make_engine

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(str(parsed.database)).is_file():
        raise StoreError(f"no database at {parsed.database}")
    engine = make_engine(url)
    try:
        return dump.write_portable(url, engine, folder)
    except OperationalError as e:
        shown = parsed.render_as_string(hide_password=True)
        raise StoreError(f"cannot open the database {shown}: {e.orig}") from None
    finally:
        engine.dispose()
