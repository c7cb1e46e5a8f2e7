"""Getting data in: `init`, `import`, `demo` (`formats`: cli/organization.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from karmabank.cli import render
from karmabank.cli.options import Db, Json
from karmabank.cli.output import print_json
from karmabank.settings import load_settings


def init(db: Db = None) -> None:
    """Create the database, or upgrade it to the newest schema."""
    from karmabank.actions.database import upgrade_database

    settings = load_settings(db=db)
    before, after = upgrade_database(db=settings.db)
    if before == after:
        render.console().print(f"{render.safe(settings.db)}: already at schema {after}")
    else:
        shown = render.safe(settings.db)
        render.console().print(f"{shown}: schema {before or 'empty'} -> {after}")


def import_(
    format: Annotated[str, typer.Argument(help="csv or edgelist (see `karmabank formats`).")],
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Files to import (plain or .gz; mastodon-archive: a .zip or folder too)."
        ),
    ],
    db: Db = None,
    org: Annotated[
        str | None, typer.Option(help="edgelist: the node that is the organization.")
    ] = None,
    columns: Annotated[
        str | None, typer.Option(help="edgelist: e.g. src,dst,weight,time (default: detected).")
    ] = None,
    verb_map: Annotated[
        str | None, typer.Option("--verb-map", help="edgelist: e.g. RT=share,MT=mention,RE=reply")
    ] = None,
    platform: Annotated[
        str | None, typer.Option(help="edgelist: platform of node ids (default other).")
    ] = None,
    map_: Annotated[
        str | None,
        typer.Option("--map", help="csv: rename columns, e.g. When=occurred_at,Email=person"),
    ] = None,
    preset: Annotated[
        str | None,
        typer.Option(help="csv: a platform's export, e.g. mailchimp-audience, or a preset file."),
    ] = None,
    audience: Annotated[
        str | None,
        typer.Option(help="csv --preset mailchimp-activity: the audience export(s) for member_id."),
    ] = None,
    person: Annotated[
        str | None, typer.Option(help="feed: whose posts these are (an identity).")
    ] = None,
    channel: Annotated[
        str | None, typer.Option(help="wxr, feed: the channel (default blog).")
    ] = None,
    comments: Annotated[
        bool, typer.Option("--comments", help="feed: the file is a comment feed.")
    ] = False,
    include_direct: Annotated[
        bool,
        typer.Option(
            "--include-direct", help="mastodon-archive, activitystreams: direct messages too."
        ),
    ] = False,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Rows per transaction.")
    ] = 50_000,
    encoding: Annotated[
        str | None,
        typer.Option(help="The files' text encoding, e.g. cp1252, latin-1 (default: UTF-8)."),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Read the files and show the counts and first rows; store nothing."
        ),
    ] = False,
    json_: Json = False,
) -> None:
    """Import activities from files; bad rows are quarantined, re-runs import nothing twice."""
    from karmabank.actions.database import open_database
    from karmabank.actions.importing import import_files

    options = {
        k: v
        for k, v in {
            "org": org, "columns": columns, "verb_map": verb_map, "platform": platform, "map": map_,
            "preset": preset, "audience": audience,
            "person": person, "channel": channel, "comments": "yes" if comments else None,
            "include_direct": "yes" if include_direct else None,
        }.items()
        if v is not None
    }  # fmt: skip
    settings = load_settings(db=db)
    if dry_run:
        from karmabank.cli.organization import dry_run_import

        dry_run_import(settings, format, paths, options, encoding, batch_size, json_)
        return
    with (
        open_database(settings=settings, create=True) as store,
        render.import_progress() as progress,
    ):
        report = import_files(
            store=store, fmt=format, paths=paths, options=options, now=settings.clock(),
            progress=progress, batch_size=batch_size, encoding=encoding,
        )  # fmt: skip
    if json_:
        print_json(report.as_json())
    else:
        render.import_report(report)


def demo(
    db: Annotated[
        str, typer.Option("--db", help="Where to build the demo database.")
    ] = "./karmabank-demo.db",
    now: Annotated[
        str | None,
        typer.Option(
            "--now",
            help="The demo's time (default 2026-11-26T12:00Z); commands on it compute as of it.",
            show_default=False,
        ),
    ] = None,
    people_: Annotated[int, typer.Option("--people", help="How many people.")] = 3000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same network).")] = 7,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the database if it exists (deletes it all).")
    ] = False,
    keep: Annotated[
        bool, typer.Option("--keep", help="If the database exists, keep it and show the tour.")
    ] = False,
) -> None:
    """Build a demo database from a generated, realistic network, and show a tour."""
    from karmabank.actions.demo import DEMO_NOW, build_demo, demo_exists, keep_demo

    if force and keep:
        raise typer.BadParameter("--force and --keep: choose one")
    settings = load_settings(db=db, now=now)
    if keep and demo_exists(settings.db):
        summary = keep_demo(settings=settings)
    else:
        summary = build_demo(
            settings=settings, now=settings.now or DEMO_NOW, people=people_, seed=seed,
            force=force,
        )  # fmt: skip
    render.demo_tour(summary, activate=_activate_command())


def _activate_command() -> str | None:
    """`source .venv/bin/activate` when this karmabank runs from a virtual environment whose
    scripts are not on the PATH (as after `make demo`), so the tour's commands work as typed."""
    import os
    import shutil

    if sys.prefix == sys.base_prefix:
        return None
    scripts = Path(sys.prefix) / "bin"
    found = shutil.which("karmabank")
    if found is not None and Path(found).resolve().parent == scripts.resolve():
        return None
    shown = os.path.relpath(scripts) if scripts.is_relative_to(Path.cwd()) else str(scripts)
    return f"source {shown}/activate"
