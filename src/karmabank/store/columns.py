"""A columnar copy of the activities (Parquet segments), kept in step with the row store.

The database stays the truth; this copy is a cache the rescore reads at Arrow speed. It lives
beside a SQLite file (`karmabank.db-columns/`) or, for PostgreSQL, under the folder the edge
gives (`$KARMABANK_COLUMNS_DIR`, else `~/.cache/karmabank/columns`: `Store.columns_dir`).
Beside it, what the last rescore wrote (`Snapshot`): the circle and stage history and the
scores the quick reads need (`scores-<token>.parquet`, and its parts), used only while
`score_state` still names that token (`actions.scores.LastRescore`); otherwise its readers read
the database.

`sync` appends the activities with ids past the copy's watermark. If the database was replaced,
an activity was changed or removed (the organization's `activity_epoch` moved), or the row
counts disagree (e.g. PostgreSQL transactions that committed out of id order), it rebuilds the
copy. Deleting the directory is always safe.
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine

from karmabank.frames import ACTIVITY_SCHEMA, ParquetFiles
from karmabank.store import arrow_io

MAX_SEGMENTS = 8
ROW_GROUP = 1 << 20  # rows per Parquet row group: big groups scan several times faster
SNAPSHOT_ROW_GROUP = 1 << 17  # the snapshot is read whole, by as many threads as groups
_SOURCE = "activity"
_SCHEMA = pa.schema([f.with_nullable(f.name in ("target_id", "weight")) for f in ACTIVITY_SCHEMA])


@dataclass
class Manifest:
    store_id: str = ""
    epoch: int = -1
    watermark: int = 0  # highest activity id copied
    rows: int = 0
    segments: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SyncReport:
    appended: int
    rebuilt: bool
    rows: int
    files: tuple[Path, ...]

    def source(self) -> ParquetFiles | pa.Table:
        """What the measures read: the Parquet files (or an empty table when there are none)."""
        return ParquetFiles(self.files) if self.files else _SCHEMA.empty_table()


class ActivityColumns:
    def __init__(self, url: str, engine: Engine | None = None, *, directory: Path) -> None:
        self.url = url
        self.engine = engine  # closed before the sync's own connection opens (see arrow_io)
        self.dir = directory  # `Store.columns_dir`

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / "lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def up_to(self, max_id: int) -> SyncReport:
        """The copy as it stands, without asking the database, if it already holds every
        activity up to `max_id` (as recorded by the last rescore); else synced."""
        m = self._load()
        files = tuple(self.dir / f for f in m.segments)
        if m.watermark != max_id or not all(f.exists() for f in files):
            return self.sync()
        return SyncReport(0, False, m.rows, files)

    def _load(self) -> Manifest:
        try:
            data = json.loads((self.dir / "manifest.json").read_text())
            return Manifest(**data)
        except (OSError, ValueError, TypeError):
            return Manifest()

    def _save(self, m: Manifest) -> None:
        tmp = self.dir / f"manifest.{uuid.uuid4().hex}.tmp"
        tmp.write_text(json.dumps(m.__dict__))
        os.replace(tmp, self.dir / "manifest.json")

    def sync(self) -> SyncReport:
        """Bring the copy up to date with the database; returns what it did and the files."""
        with self._locked(), arrow_io.connect(self.url, self.engine) as conn:
            store_id, epoch, max_id, count = _database_state(conn)
            m = self._load()
            rebuilt = False
            if m.store_id != store_id or m.epoch != epoch or m.watermark > max_id:
                m, rebuilt = self._reset(store_id, epoch), True
            appended = self._append(conn, m, max_id)
            if m.rows != count:  # rows committed out of id order, or removed: start over
                m, rebuilt = self._reset(store_id, epoch), True
                appended = self._append(conn, m, max_id)
            if len(m.segments) > MAX_SEGMENTS:
                self._compact(m)
            self._save(m)
            self._remove_strays(m)
            files = tuple(self.dir / s for s in m.segments)
            return SyncReport(appended, rebuilt, m.rows, files)

    def _reset(self, store_id: str, epoch: int) -> Manifest:
        for old in self._load().segments:
            (self.dir / old).unlink(missing_ok=True)
        m = Manifest(store_id=store_id, epoch=epoch)
        self._save(m)
        return m

    def _append(self, conn: Any, m: Manifest, max_id: int) -> int:
        if max_id <= m.watermark:
            return 0
        import pyarrow.compute as pc  # here: 50 ms of start-up for the commands that only read

        name = f"seg-{m.watermark + 1:012d}-{uuid.uuid4().hex[:8]}.parquet"
        n, top = 0, m.watermark
        where = f"WHERE id > {int(m.watermark)} AND id <= {int(max_id)}"
        with pq.ParquetWriter(self.dir / name, _SCHEMA, compression="zstd") as out:
            for table in _grouped(arrow_io.read_batches(conn, _SOURCE, _SCHEMA, where)):
                out.write_table(table, row_group_size=ROW_GROUP)
                n += table.num_rows
                top = max(top, pc.max(table.column("id")).as_py())
        if n == 0:
            (self.dir / name).unlink()
        else:
            m.segments.append(name)
        m.rows += n
        m.watermark = max(top, max_id)
        return n

    def _compact(self, m: Manifest) -> None:
        import pyarrow.dataset as pads  # only here: 20 ms of start-up for every command

        name = f"seg-{1:012d}-{uuid.uuid4().hex[:8]}.parquet"
        data = pads.dataset([str(self.dir / s) for s in m.segments], schema=_SCHEMA)
        with pq.ParquetWriter(self.dir / name, _SCHEMA, compression="zstd") as out:
            for table in _grouped(data.to_batches()):
                out.write_table(table, row_group_size=ROW_GROUP)
        m.segments = [name]

    def _remove_strays(self, m: Manifest) -> None:
        """Segments and manifests no manifest points to (left by a crash or a compaction)."""
        keep = {*m.segments, "manifest.json"}
        for p in self.dir.iterdir():
            if p.name.startswith(("seg-", "manifest.")) and p.name not in keep:
                p.unlink(missing_ok=True)


@dataclass(frozen=True)
class Snapshot:
    """What one rescore left beside the copy, named by its token (`LastRescore.token`): its
    history and the scores the quick reads need (`scores-<token>.parquet`), the parts it keeps
    for them (`<part>-<token>.parquet`), and the caches later made from its scores. The
    activities it saw are the copy up to `activity_max_id`."""

    columns: ActivityColumns
    token: str
    activity_max_id: int

    def activities(self) -> ParquetFiles | pa.Table:
        """The activities the rescore saw, as the measures read them (`ActivityColumns.up_to`)."""
        return self.columns.up_to(self.activity_max_id).source()

    def path(self, part: str) -> Path:
        return self.columns.dir / f"{part}-{self.token}.parquet"

    def table(self, schema: pa.Schema) -> pa.Table | None:
        """`schema`'s columns of the history and scores, if this copy holds them for the token
        (only those columns are read)."""
        try:
            if not set(schema.names) <= set(pq.read_schema(self.path("scores")).names):
                return None
            found = pq.read_table(self.path("scores"), columns=schema.names)
        except (OSError, pa.ArrowInvalid):
            return None
        try:
            return found.select(schema.names).cast(schema)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None

    def files(self, names: Sequence[str], part: str = "scores") -> ParquetFiles | None:
        """A part as a file for the engine to read, if it is there with `names`."""
        path = self.path(part)
        try:
            found = pq.read_schema(path).names
        except (OSError, pa.ArrowInvalid):
            return None
        return ParquetFiles((path,)) if set(names) <= set(found) else None

    def save(self, table: pa.Table, parts: Mapping[str, pa.Table] | None = None) -> None:
        """Write `table` (and `parts`); the snapshots before stay until `prune_others`."""
        self.columns.dir.mkdir(parents=True, exist_ok=True)
        for part, data in {**(parts or {}), "scores": table}.items():  # scores last: it is
            tmp = self.columns.dir / f"snapshot.{uuid.uuid4().hex}.tmp"  # what readers look
            pq.write_table(data, tmp, row_group_size=SNAPSHOT_ROW_GROUP)  # for first
            os.replace(tmp, self.path(part))

    def prune_others(self) -> None:
        """Remove every snapshot file but this one's (and any a crash left half-written)."""
        folder = self.columns.dir
        for p in folder.iterdir() if folder.exists() else ():
            if p.name.startswith(("scores", "snapshot.")) or (
                p.suffix == ".parquet" and not p.name.startswith("seg-")
            ):
                if not p.name.endswith(f"-{self.token}.parquet"):
                    p.unlink(missing_ok=True)


def _grouped(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.Table]:
    """Record batches gathered into tables of ROW_GROUP rows (the last one smaller)."""
    pending: list[pa.RecordBatch] = []
    rows = 0
    for batch in batches:
        pending.append(batch)
        rows += batch.num_rows
        if rows >= ROW_GROUP:
            yield pa.Table.from_batches(pending, _SCHEMA)
            pending, rows = [], 0
    if pending:
        yield pa.Table.from_batches(pending, _SCHEMA)


def _database_state(conn: Any) -> tuple[str, int, int, int]:
    with conn.cursor() as cur:
        cur.execute("SELECT id, created_at, activity_epoch FROM organization ORDER BY id LIMIT 1")
        org = cur.fetchone()
        cur.execute("SELECT coalesce(max(id), 0), count(*) FROM activity")
        row = cur.fetchone()
    store_id = "none" if org is None else f"{org[0]}:{org[1]}"
    epoch = 0 if org is None else int(org[2])
    return store_id, epoch, int(row[0]), int(row[1])
