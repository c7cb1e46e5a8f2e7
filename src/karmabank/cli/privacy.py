"""A person's data and the record of changes: `export` (everything about one person), `audit`
(the audit log) and `retention show|set|apply` (dropping old activity texts)."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from karmabank.cli import render
from karmabank.cli.options import Db, Json, Now, opened
from karmabank.cli.output import print_json

retention_app = typer.Typer(
    help="Drop activity texts older than N days (off by default).", no_args_is_help=True
)


def export(
    ref: Annotated[str, typer.Argument(metavar="PERSON", help="An id, identity or unique name.")],
    format_: Annotated[str, typer.Option("--format", help="json or csv.")] = "json",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write to this file (never replaced) instead of stdout."),
    ] = None,
    db: Db = None,
    now: Now = None,
) -> None:
    """Everything karmabank holds about one person, for them (docs/privacy.md draws it)."""
    from karmabank.actions.person_export import CSV_HEADER, check_format, csv_cell, export_person
    from karmabank.errors import OptionError

    fmt = check_format(format_)
    if out is not None and out.exists():
        raise OptionError("--out", f"{out} exists: give a new file")
    with opened(db, now) as (store, settings):
        found = export_person(
            store=store, ref=ref, now=settings.clock(), settings=settings.measures
        )
    if out is not None:
        text = render.json_text(found.as_json()) + "\n" if fmt == "json" else found.csv_text()
        with out.open("x", encoding="utf-8", newline="") as f:
            f.write(text)
        sys.stderr.write(f"exported person {found.person_id} to {render.plain(out)} ({fmt})\n")
    elif fmt == "json":
        print_json(found.as_json())
    else:  # on stdout each value as a terminal shows it (`--out` keeps them exactly)
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(CSV_HEADER)
        for row in found.csv_rows():
            w.writerow([render.plain(v) for v in (*row[:3], csv_cell(row[3]))])


def audit(
    person: Annotated[
        str | None, typer.Option("--person", help="Only the entries about this person.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only entries at or after this ISO-8601 time.")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many, the newest first.")] = 100,
    db: Db = None,
    json_: Json = False,
) -> None:
    """The audit log: who changed what, when (imports, records, flags, merges, erasures...)."""
    from karmabank.actions.audit import read_audit
    from karmabank.errors import KarmabankError, OptionError
    from karmabank.settings import parse_instant

    try:
        t = None if since is None else parse_instant(since, "since")
    except KarmabankError as e:
        raise OptionError("--since", str(e)) from None
    with opened(db) as (store, _settings):
        page = read_audit(store=store, person=person, since=t, limit=limit)
    if json_:
        print_json(page.as_json())
        return
    out = render.console()
    if not page.entries:
        out.print("no audit entries" + (" about them" if person else ""))
    for entry in page.as_json()["entries"]:
        out.print(render.safe(_entry_line(entry)), soft_wrap=True)
    if page.next_before is not None:
        out.print(f"(more: the newest {limit} shown; --limit shows more)")


def _entry_line(e: dict[str, Any]) -> str:
    """`at  actor  action  subject  key=value ...`: one entry on one line."""
    details = " ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in e["details"].items())
    at = e["at"][:19].replace("T", " ")
    return f"{e['id']:>5}  {at}  {e['actor']}  {e['action']}  {e['subject']}  {details}".rstrip()


def _retention_line(report: dict[str, object], verb: str) -> str:
    days = report["retention_days"]
    if days is None:
        return "retention: off (activity texts are kept)"
    line = f"retention: {days} days"
    if report["texts_dropped_before"]:
        line += f"; texts of activities before {report['texts_dropped_before']} are dropped"
    return f"{line}; {verb} {report['dropped']} now" if verb else line


@retention_app.command("show")
def retention_show(db: Db = None, now: Now = None, json_: Json = False) -> None:
    """The retention setting and how far it was applied."""
    from karmabank.actions.retention import retention_of

    with opened(db, now) as (store, settings):
        report = retention_of(store=store, now=settings.clock()).as_json()
    if json_:
        print_json(report)
    else:
        render.console().print(render.safe(_retention_line(report, "")))


@retention_app.command("set")
def retention_set(
    days: Annotated[str, typer.Argument(metavar="DAYS|off", help="Days, or off.")],
    db: Db = None,
    now: Now = None,
    json_: Json = False,
) -> None:
    """Drop the texts of activities older than DAYS days (off: keep them); applied at once."""
    from karmabank.actions.retention import parse_days, set_retention

    d = parse_days(days)
    with opened(db, now) as (store, settings):
        report = set_retention(store=store, days=d, now=settings.clock(), actor="cli").as_json()
    if json_:
        print_json(report)
    else:
        render.console().print(render.safe(_retention_line(report, "dropped")))


@retention_app.command("apply")
def retention_apply(db: Db = None, now: Now = None, json_: Json = False) -> None:
    """Apply retention now (imports and rescores also do)."""
    from karmabank.actions.retention import apply_retention

    with opened(db, now) as (store, settings):
        report = apply_retention(store=store, now=settings.clock(), actor="cli").as_json()
    if json_:
        print_json(report)
    else:
        render.console().print(render.safe(_retention_line(report, "dropped")))
