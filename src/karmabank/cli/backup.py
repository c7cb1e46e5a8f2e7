"""Keeping data safe: `backup` and `restore` (`actions/backup.py`, `actions/restore.py`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from karmabank.cli import render
from karmabank.cli.options import Db, Json
from karmabank.cli.output import print_json
from karmabank.settings import load_settings

_KINDS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def backup(
    file: Annotated[Path, typer.Argument(help="The backup file to write (never replaced).")],
    db: Db = None,
    portable: Annotated[
        bool,
        typer.Option(
            "--portable", help="One Parquet file per table: restores into SQLite or PostgreSQL."
        ),
    ] = False,
    json_: Json = False,
) -> None:
    """Back up the database into one file, consistently, while it may be in use."""
    from karmabank.actions.backup import backup_database

    settings = load_settings(db=db)
    report = backup_database(db=settings.db, path=file, portable=portable)
    if json_:
        print_json(report.as_json())
        return
    out = render.console()
    kind = _KINDS.get(report.source_backend, report.source_backend)
    out.print(
        f"Backed up {render.safe(settings.db)} ({kind}, schema {report.schema_revision})"
        f" to {render.safe(file)}"
    )
    size = f"{report.bytes / 1e6:,.1f} MB"
    out.print(f"{_counts(report.counts)}; {size} ({report.payload} payload)")
    if report.note:
        out.print(f"note: {render.safe(report.note)}")


def restore(
    file: Annotated[Path, typer.Argument(help="A file `karmabank backup` wrote.")],
    db: Db = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a database that holds data (all of it).")
    ] = False,
    json_: Json = False,
) -> None:
    """Restore a backup into an empty database (or, with --force, in place of one)."""
    from karmabank.actions.restore import restore_database

    settings = load_settings(db=db)
    report = restore_database(path=file, settings=settings, force=force)
    if json_:
        print_json(report.as_json())
        return
    out = render.console()
    kind = _KINDS.get(report.source_backend, report.source_backend)
    out.print(
        f"Restored {render.safe(file)} ({kind}, schema {report.schema_revision}) into"
        f" {render.safe(report.db)}, now at schema {report.migrated_to}"
    )
    out.print(f"{_counts(report.counts)}: the counts match the manifest's")
    if report.replaced:
        out.print(f"({report.replaced:,} rows it held before were replaced)")


def _counts(counts: dict[str, int]) -> str:
    rows = sum(counts.values())
    people, activities = counts.get("person", 0), counts.get("activity", 0)
    return f"{people:,} people, {activities:,} activities, {rows:,} rows in {len(counts)} tables"
