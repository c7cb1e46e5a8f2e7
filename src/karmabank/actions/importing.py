"""Importing files: stream rows from a source, store them batch by batch (`import_batches`).

Each batch (persons, identities, activities, quarantined rows and the run's counters) is
one transaction, so a crash at any moment leaves a consistent database; a re-run finds the
stored rows by their `source_key` and completes the rest without duplicates. The files of a
source that checks a file as it reads it (`sources.base.StoredWhole`: XML, JSON) are stored
one transaction per file, so that a file found broken part-way leaves nothing stored.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from adbc_driver_manager.dbapi import Error as AdbcError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from karmabank.actions.import_batches import Batcher, RowError, Tally, batches
from karmabank.actions.import_runs import mark_interrupted, run_lock
from karmabank.actions.organization import ensure_organization, write_audit
from karmabank.actions.retention import apply_in as apply_retention_in
from karmabank.errors import KarmabankError
from karmabank.model import IdentityKey, to_micros
from karmabank.sources import registry
from karmabank.sources.base import InputFile, Source
from karmabank.store.columns import ActivityColumns
from karmabank.store.open import Store
from karmabank.store.tables import ImportRun, OrgIdentity


class ImportProgress(Protocol):
    """What an edge shows while an import runs (the CLI draws a Rich progress bar)."""

    def start_file(self, name: str, size: int) -> None: ...
    def advance(self, rows: int, position: int) -> None: ...
    def end_file(self) -> None: ...


@dataclass(frozen=True)
class ImportReport:
    """Exact counts of one import; `imported + duplicates + skipped + quarantined` is the
    number of data rows read. `errors` lists the first quarantined rows."""

    run_id: int
    imported: int
    duplicates: int
    skipped: int
    quarantined: int
    errors: tuple[RowError, ...]
    skip_reasons: dict[str, int]
    interrupted: tuple[int, ...]  # earlier runs found killed
    damaged: tuple[RowError, ...]  # files that broke off part-way
    # the organization's part (actions/import_org.py): its own content and opt-outs stored
    # (counted among `imported`), and the identities the files said are the organization's
    org_content: int = 0
    opt_outs: int = 0
    org_identities: tuple[str, ...] = ()

    @classmethod
    def of(cls, run_id: int, tally: Tally, interrupted: list[int]) -> ImportReport:
        return cls(
            run_id=run_id, imported=tally.imported, duplicates=tally.duplicates,
            skipped=tally.skipped, quarantined=tally.quarantined, errors=tuple(tally.errors),
            skip_reasons=dict(tally.skip_reasons), interrupted=tuple(interrupted),
            damaged=tuple(tally.damaged), org_content=tally.org_content,
            opt_outs=tally.opt_outs, org_identities=tuple(tally.org_identities),
        )  # fmt: skip

    @property
    def rows_read(self) -> int:
        return self.imported + self.duplicates + self.skipped + self.quarantined

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = (
            {"interrupted_runs": list(self.interrupted)} if self.interrupted else {}
        )
        if self.damaged:  # also among the errors, unless 100 came before
            found["damaged"] = [{"file": e.file, "line": e.line, "reason": e.reason}
                                for e in self.damaged]  # fmt: skip
        if self.org_content or self.opt_outs or self.org_identities:
            found["organization"] = {
                "identities_added": list(self.org_identities),
                "content": self.org_content,
                "opt_outs": self.opt_outs,
            }
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
        opened = getattr(source, "input_path", None)  # sources.base.ReadsFolders
        files.extend(InputFile(opened(p) if opened else p, encoding) for p in paths)
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
    _tell_organization(source, org_keys)
    with lock:
        try:
            tally = _import_run(store, run_id, org_keys, source, files, batch_size, progress, now)
        except BaseException:
            _audit_failed(store, run_id, fmt, paths, now, actor)
            raise
        report = ImportReport.of(run_id, tally, interrupted)
        with store.sessions.begin() as session:  # the run is done and audited, or neither
            finish_run_in(session, run_id, "done", now)
            apply_retention_in(session, now=now, actor=actor)  # texts older than it go
            write_audit(
                session, now=now, actor=actor, action="import", subject=f"import_run:{run_id}",
                details={"format": fmt, "paths": [str(p) for p in paths], **report.as_json(),
                         "errors": len(report.errors)},
            )  # fmt: skip
    if report.imported:
        sync_columns(store)
    return report


def _audit_failed(
    store: Store, run_id: int, fmt: str, paths: Sequence[Path], now: datetime, actor: str
) -> None:
    """The audit entry of an import that stopped on an error (its batches before the error are
    stored): `import failed` with the run's counts so far. Best effort: a database that failed
    the import may fail this too, and the import's own error is the one to show."""
    with contextlib.suppress(Exception), store.sessions.begin() as session:
        run = session.get(ImportRun, run_id)
        counts = {} if run is None else {
            "rows_read": run.rows_read, "imported": run.imported, "duplicates": run.duplicates,
            "skipped": run.skipped, "quarantined": run.quarantined}  # fmt: skip
        details = {"format": fmt, "paths": [str(p) for p in paths], **counts}
        write_audit(session, now=now, actor=actor, action="import failed",
                    subject=f"import_run:{run_id}", details=details)  # fmt: skip


def _tell_organization(source: Source, org_keys: set[IdentityKey]) -> None:
    """A source whose rows' direction depends on who the organization is (`KnowsOrganization`)
    is told its identities before it reads."""
    use = getattr(source, "use_organization", None)
    if callable(use):
        use(frozenset(org_keys))


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
) -> Tally:  # fmt: skip
    tally = Tally()
    batcher = Batcher(store, run_id, org_keys, to_micros(now), tally)
    whole = bool(getattr(source, "stored_whole", False))  # sources.base.StoredWhole
    try:
        for file in files:
            with file, store.engine.begin() if whole else contextlib.nullcontext() as conn:
                if progress:
                    progress.start_file(file.display, file.size)
                stored_as = str(file.path.resolve())
                for batch in batches(source, file, batch_size):
                    if conn is None:  # each batch in its own transaction
                        batcher.store_batch(file.display, stored_as, batch)
                    else:  # the file's batches in one: counted as it commits
                        batcher.store_batch_in(conn, file.display, stored_as, batch)
                    if progress:
                        progress.advance(len(batch), file.position())
                if file.damage is not None:  # quarantined at its line; said again at the end
                    damage = file.damage
                    tally.damaged.append(RowError(file.display, damage.line, damage.reason))
                if progress:
                    progress.end_file()
    except BaseException:
        finish_run(store, run_id, "failed", now)
        raise
    finally:
        for file in files:
            file.close()
    return tally


def sync_columns(store: Store) -> None:
    """Bring the columnar copy the rescore reads up to date now, while the user expects to
    wait, rather than at the next rescore. The copy is a cache: if it cannot be written here,
    the rescore builds it, so an import never fails for it."""
    try:
        ActivityColumns(store.url, store.engine, directory=store.columns_dir).sync()
    except (KarmabankError, OSError, AdbcError):
        pass


def finish_run(store: Store, run_id: int, status: str, now: datetime) -> None:
    with store.sessions.begin() as session:
        finish_run_in(session, run_id, status, now)


def finish_run_in(session: Session, run_id: int, status: str, now: datetime) -> None:
    session.execute(
        update(ImportRun).where(ImportRun.id == run_id).values(status=status, finished_at=now)
    )
