"""Importing files: stream rows from a source, store them batch by batch.

Each batch (persons, identities, activities, quarantined rows and the run's counters) is
one transaction, so a crash at any moment leaves a consistent database; a re-run finds the
stored rows by their `source_key` and completes the rest without duplicates.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from adbc_driver_manager.dbapi import Error as AdbcError
from sqlalchemy import Connection, select, text, update
from sqlalchemy.orm import Session

from karmabank.actions.import_runs import mark_interrupted, run_lock
from karmabank.actions.organization import ensure_organization, write_audit
from karmabank.errors import KarmabankError
from karmabank.model import IdentityKey, to_micros
from karmabank.sources import registry
from karmabank.sources.base import (
    BadRow,
    InputFile,
    ParsedRow,
    SkippedRow,
    Source,
    out_of_bounds,
)
from karmabank.sources.limits import read_items
from karmabank.sources.vocabulary import RowVocabulary, row_text
from karmabank.store.bulk import ActivityTuple, BulkWriter
from karmabank.store.columns import ActivityColumns
from karmabank.store.open import Store
from karmabank.store.tables import ImportRun, OrgIdentity

MAX_REPORTED_ERRORS = 100
IDENTITY_CACHE_LIMIT = 500_000


class ImportProgress(Protocol):
    """What an edge shows while an import runs (the CLI draws a Rich progress bar)."""

    def start_file(self, name: str, size: int) -> None: ...
    def advance(self, rows: int, position: int) -> None: ...
    def end_file(self) -> None: ...


@dataclass(frozen=True)
class RowError:
    file: str
    line: int
    reason: str


@dataclass
class ImportReport:
    """Exact counts of one import; `imported + duplicates + skipped + quarantined` is the
    number of data rows read. `errors` lists the first quarantined rows."""

    run_id: int
    imported: int = 0
    duplicates: int = 0
    skipped: int = 0
    quarantined: int = 0
    errors: list[RowError] = field(default_factory=list)
    skip_reasons: Counter[str] = field(default_factory=Counter)
    interrupted: list[int] = field(default_factory=list)  # earlier runs found killed
    damaged: list[RowError] = field(default_factory=list)  # files that broke off part-way

    @property
    def rows_read(self) -> int:
        return self.imported + self.duplicates + self.skipped + self.quarantined

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"interrupted_runs": self.interrupted} if self.interrupted else {}
        if self.damaged:  # also among the errors, unless 100 came before
            found["damaged"] = [{"file": e.file, "line": e.line, "reason": e.reason}
                                for e in self.damaged]  # fmt: skip
        return {
            "imported": self.imported,
            "duplicates": self.duplicates,
            "skipped": self.skipped,
            "quarantined": self.quarantined,
            "errors": [{"file": e.file, "line": e.line, "reason": e.reason} for e in self.errors],
            **found,
        }


def import_files(
    *,
    store: Store,
    fmt: str,
    paths: Sequence[Path],
    options: Mapping[str, str],
    now: datetime,
    batch_size: int = 50_000,
    progress: ImportProgress | None = None,
    actor: str = "cli",
    encoding: str | None = None,
) -> ImportReport:
    """Import every file of `paths` with the importer registered as `fmt`; `encoding` (a
    Python codec name) overrides the detected one (UTF-8, or what a byte-order mark says)."""
    source = registry.load(fmt, options)
    files: list[InputFile] = []
    try:  # open them all first: a missing file fails before anything is written
        files.extend(InputFile(p, encoding) for p in paths)
    except BaseException:
        for file in files:
            file.close()
        raise
    lock = contextlib.ExitStack()
    try:
        interrupted = mark_interrupted(store, now)  # runs killed before: said in the report
        run_id, org_keys = _start_run(store, lock, source, fmt, paths, options, now)
    except BaseException:
        lock.close()
        for file in files:
            file.close()
        raise
    with lock:
        report = _import_run(store, run_id, org_keys, source, files, batch_size, progress, now)
        report.interrupted = interrupted
        with store.sessions.begin() as session:  # the run is done and audited, or neither
            _finish_in(session, run_id, "done", now)
            write_audit(
                session, now=now, actor=actor, action="import", subject=f"import_run:{run_id}",
                details={"format": fmt, "paths": [str(p) for p in paths], **report.as_json(),
                         "errors": len(report.errors)},
            )  # fmt: skip
    if report.imported:
        _sync_columns(store)
    return report


def _start_run(
    store: Store, lock: contextlib.ExitStack, source: Source, fmt: str, paths: Sequence[Path],
    options: Mapping[str, str], now: datetime,
) -> tuple[int, set[IdentityKey]]:  # fmt: skip
    """The new run's id (its lock taken before its row commits) and the organization's keys."""
    with store.sessions.begin() as session:
        org = ensure_organization(session, now=now)
        for key in source.organization_identities():
            exists = session.scalar(
                select(OrgIdentity.id).where(
                    OrgIdentity.platform == key.platform, OrgIdentity.key == key.key
                )
            )
            if exists is None:
                session.add(OrgIdentity(organization_id=org.id, platform=key.platform, key=key.key))
        run = ImportRun(
            format=fmt,
            paths=json.dumps([str(p) for p in paths]),
            options=json.dumps(dict(options), sort_keys=True),
            started_at=now,
            status="running",
        )
        session.add(run)
        session.flush()
        lock.enter_context(run_lock(store, run.id))
        org_keys = {
            IdentityKey(p, k)
            for p, k in session.execute(select(OrgIdentity.platform, OrgIdentity.key))
        }
        return run.id, org_keys


def _import_run(
    store: Store, run_id: int, org_keys: set[IdentityKey], source: Source,
    files: list[InputFile], batch_size: int, progress: ImportProgress | None, now: datetime,
) -> ImportReport:  # fmt: skip
    report = ImportReport(run_id=run_id)
    batcher = _Batcher(store, run_id, org_keys, to_micros(now), report)
    try:
        for file in files:
            with file:
                if progress:
                    progress.start_file(file.display, file.size)
                stored_as = str(file.path.resolve())
                for batch in _batches(source, file, batch_size):
                    batcher.store_batch(file.display, stored_as, batch)
                    if progress:
                        progress.advance(len(batch), file.position())
                if file.damage is not None:  # quarantined at its line; said again at the end
                    damage = file.damage
                    report.damaged.append(RowError(file.display, damage.line, damage.reason))
                if progress:
                    progress.end_file()
    except BaseException:
        _finish(store, run_id, "failed", now)
        raise
    finally:
        for file in files:
            file.close()
    return report


def _sync_columns(store: Store) -> None:
    """Bring the columnar copy the rescore reads up to date now, while the user expects to
    wait, rather than at the next rescore. The copy is a cache: if it cannot be written here,
    the rescore builds it, so an import never fails for it."""
    try:
        ActivityColumns(store.url, store.engine, directory=store.columns_dir).sync()
    except (KarmabankError, OSError, AdbcError):
        pass


def _finish(store: Store, run_id: int, status: str, now: datetime) -> None:
    with store.sessions.begin() as session:
        _finish_in(session, run_id, status, now)


def _finish_in(session: Session, run_id: int, status: str, now: datetime) -> None:
    session.execute(
        update(ImportRun).where(ImportRun.id == run_id).values(status=status, finished_at=now)
    )


Batch = list[ParsedRow | BadRow | SkippedRow]


def _batches(source: Source, file: InputFile, size: int) -> Iterator[Batch]:
    batch: Batch = []
    vocabulary = RowVocabulary()  # every source's verbs and channels: docs/importing.md
    verbs, channels = vocabulary.verbs, vocabulary.channels
    for item in read_items(source, file):  # the limits: karmabank.sources.limits
        if type(item) is ParsedRow and (item.verb not in verbs or item.channel not in channels):
            item = vocabulary.check(item)
        if type(item) is ParsedRow and (reason := out_of_bounds(item)) is not None:
            item = BadRow(item.line, row_text(item), reason)  # karmabank.bounds, any source
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _Batcher:
    """Stores batches of one run; remembers resolved identities between batches."""

    def __init__(
        self, store: Store, run_id: int, org_keys: set[IdentityKey], now_us: int,
        report: ImportReport,
    ) -> None:  # fmt: skip
        self.store = store
        self.run_id = run_id
        self.org_keys = org_keys
        self.now_us = now_us
        self.report = report
        self.people: dict[IdentityKey, tuple[int, bool]] = {}

    def store_batch(self, display: str, stored_as: str, batch: Batch) -> None:
        with self.store.engine.begin() as conn:
            self._store(conn, display, stored_as, batch)

    def _store(self, conn: Connection, display: str, stored_as: str, batch: Batch) -> None:
        # The first statement writes, so SQLite's write lock is held for the whole batch.
        conn.execute(
            text("UPDATE import_run SET rows_read = rows_read + :n WHERE id = :id"),
            {"n": len(batch), "id": self.run_id},
        )
        writer = BulkWriter(conn)
        rows, bad, skipped = _sorted(batch, self.org_keys)
        people = self._resolve(writer, rows)
        tuples, names, followers = self._activities(rows, people, skipped)
        inserted = writer.insert_activities(tuples)
        writer.update_names(names)
        writer.update_followers(followers)
        _quarantine(conn, self.run_id, stored_as, bad, self.now_us)
        n_skipped = skipped.total()
        conn.execute(
            text(
                "UPDATE import_run SET imported = imported + :i, duplicates = duplicates + :d,"
                " skipped = skipped + :s, quarantined = quarantined + :q WHERE id = :id"
            ),
            {"i": inserted, "d": len(tuples) - inserted, "s": n_skipped, "q": len(bad),
             "id": self.run_id},
        )  # fmt: skip
        # Counted only once the transaction is sure to commit (nothing below can fail).
        rep = self.report
        rep.imported += inserted
        rep.duplicates += len(tuples) - inserted
        rep.skipped += n_skipped
        rep.quarantined += len(bad)
        rep.skip_reasons.update(skipped)
        room = MAX_REPORTED_ERRORS - len(rep.errors)
        rep.errors.extend(RowError(display, b.line, b.reason) for b in bad[: max(room, 0)])

    def _activities(
        self, rows: list[ParsedRow], people: dict[IdentityKey, tuple[int, bool]],
        skipped: Counter[str],
    ) -> tuple[list[ActivityTuple], dict[int, str], dict[int, int]]:  # fmt: skip
        """The rows as activity tuples (those of or toward an erased person counted in
        `skipped` instead), and the names and follower counts they give (the last one wins)."""
        tuples: list[ActivityTuple] = []
        names: dict[int, str] = {}
        followers: dict[int, int] = {}
        run_id = self.run_id
        for r in rows:
            pid, erased = people[r.person]
            target_id = None
            if r.target is not None:
                target_id, target_erased = people[r.target]
                erased = erased or target_erased
            if erased:
                skipped["erased person"] += 1
                continue
            if r.name:
                names[pid] = r.name
            if r.followers is not None:
                followers[pid] = r.followers
            tuples.append((
                r.source_key, r.occurred_at, pid, r.verb, r.direction, r.channel,
                r.object, r.text, target_id, r.weight, run_id,
            ))  # fmt: skip
        return tuples, names, followers

    def _resolve(
        self, writer: BulkWriter, rows: list[ParsedRow]
    ) -> dict[IdentityKey, tuple[int, bool]]:
        people = self.people
        if len(people) > IDENTITY_CACHE_LIMIT:
            people.clear()
        wanted: set[IdentityKey] = set()
        names: dict[IdentityKey, str] = {}
        for r in rows:
            if r.person not in people:
                wanted.add(r.person)
                if r.name:
                    names.setdefault(r.person, r.name)
            if r.target is not None and r.target not in people:
                wanted.add(r.target)
        if wanted:
            found = writer.lookup(wanted)
            people.update(found)
            new = sorted(wanted - found.keys())
            created = writer.create_persons(new, names, self.now_us)
            people.update((k, (pid, False)) for k, pid in created.items())
        return people


def _sorted(
    batch: Batch, org_keys: set[IdentityKey]
) -> tuple[list[ParsedRow], list[BadRow], Counter[str]]:
    """A batch's rows to store, its rows to quarantine, and why the others were skipped (a
    row of the organization itself is not about a person)."""
    rows: list[ParsedRow] = []
    bad: list[BadRow] = []
    skipped: Counter[str] = Counter()
    for item in batch:
        if type(item) is ParsedRow:
            if item.person in org_keys:
                skipped["the organization itself"] += 1
            else:
                rows.append(item)
        elif type(item) is BadRow:
            bad.append(item)
        else:
            assert isinstance(item, SkippedRow)
            skipped[item.reason] += 1
    return rows, bad, skipped


def _quarantine(
    conn: Connection, run_id: int, stored_as: str, bad: list[BadRow], now_us: int
) -> None:
    """Keep the bad rows with their file, line and reason (once per file, line and text)."""
    if not bad:
        return
    conn.execute(
        text(
            "INSERT INTO quarantine (import_run_id, file, line, raw, raw_digest, reason,"
            " created_at) VALUES (:run, :file, :line, :raw, :digest, :reason, :at)"
            " ON CONFLICT (file, line, raw_digest) DO NOTHING"
        ),
        [
            {
                "run": run_id, "file": stored_as, "line": b.line, "raw": b.raw,
                "digest": hashlib.blake2b(b.raw.encode(), digest_size=16).hexdigest(),
                "reason": b.reason, "at": now_us,
            }
            for b in bad
        ],
    )  # fmt: skip
