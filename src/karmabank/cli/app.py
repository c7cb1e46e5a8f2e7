"""The Typer application: every command parses its options, calls one action, renders."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from karmabank.cli import render
from karmabank.cli.campaigns import campaign_app
from karmabank.cli.options import Db, Json, Now, opened
from karmabank.model import Direction, Flag
from karmabank.settings import load_settings, parse_instant

if TYPE_CHECKING:
    from karmabank.store.open import Store

app = typer.Typer(
    name="karmabank",
    help="Build your network before you need it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _print_version(asked: bool) -> None:
    if asked:
        from karmabank import __version__

        sys.stdout.write(f"karmabank {__version__}\n")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Build your network before you need it."""


def _print_json(value: Any) -> None:
    sys.stdout.write(render.json_text(value) + "\n")


def _stale_note(store: Store, now: datetime) -> None:
    """On stderr, when the newest activity is far older than `now`: everyone looks dormant."""
    from karmabank.actions.clock import stale_hint

    hint = stale_hint(store, now)
    if hint is not None:  # one line, never wrapped
        sys.stderr.write(f"note: {hint}\n")


@app.command()
def init(db: Db = None) -> None:
    """Create the database, or upgrade it to the newest schema."""
    from karmabank.store import migrate
    from karmabank.store.engine import make_engine

    settings = load_settings(db=db)
    engine = make_engine(settings.db)
    try:
        before, after = migrate.upgrade(engine)
    finally:
        engine.dispose()
    if before == after:
        render.console().print(f"{render.safe(settings.db)}: already at schema {after}")
    else:
        shown = render.safe(settings.db)
        render.console().print(f"{shown}: schema {before or 'empty'} -> {after}")


@app.command("import")
def import_(
    format: Annotated[str, typer.Argument(help="csv or edgelist (see `karmabank formats`).")],
    paths: Annotated[list[Path], typer.Argument(help="Files to import (plain or .gz).")],
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
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Rows per transaction.")
    ] = 50_000,
    encoding: Annotated[
        str | None,
        typer.Option(help="The files' text encoding, e.g. cp1252, latin-1 (default: UTF-8)."),
    ] = None,
    json_: Json = False,
) -> None:
    """Import activities from files; bad rows are quarantined, re-runs import nothing twice."""
    from karmabank.actions.importing import import_files
    from karmabank.store.open import open_configured

    options = {
        k: v
        for k, v in {
            "org": org, "columns": columns, "verb_map": verb_map, "platform": platform, "map": map_,
        }.items()
        if v is not None
    }  # fmt: skip
    settings = load_settings(db=db)
    with open_configured(settings, create=True) as store, render.import_progress() as progress:
        report = import_files(
            store=store, fmt=format, paths=paths, options=options, now=settings.clock(),
            progress=progress, batch_size=batch_size, encoding=encoding,
        )  # fmt: skip
    if json_:
        _print_json(report.as_json())
    else:
        render.import_report(report)


@app.command()
def formats() -> None:
    """List the import formats installed."""
    from karmabank.sources import registry

    for name, target in sorted(registry.available().items()):
        render.console().print(f"{render.safe(name):10} {render.safe(target)}")


@app.command()
def people(
    db: Db = None,
    now: Now = None,
    circle: Annotated[
        str | None, typer.Option(help="core, allies, friends, acquaintances, newcomers, observers")
    ] = None,
    status: Annotated[
        str | None, typer.Option(help="active, resting, drifting, quiet, dormant")
    ] = None,
    stage: Annotated[
        str | None, typer.Option(help="aware, engaged, participant, advocate, leader")
    ] = None,
    sort: Annotated[
        str, typer.Option(help="warmth, tenure, balance, silence (longest first) or recent")
    ] = "warmth",
    limit: Annotated[int, typer.Option(help="At most this many people.")] = 50,
    search: Annotated[
        str | None, typer.Option("--search", "-q", help="Name or identity contains.")
    ] = None,
    flag: Annotated[Flag | None, typer.Option(help="Only people with this flag.")] = None,
    tsv: Annotated[
        bool, typer.Option("--tsv", help="Tab-separated values with a header line (for scripts).")
    ] = False,
    json_: Json = False,
) -> None:
    """List people with their circle, rhythm, warmth, balance and stage (warmest first).
    Rows are written as they are read; in a pipe or a file no column is cut."""
    from karmabank.actions.listing import stream_people
    from karmabank.cli.people_listing import people_listing

    with opened(db, now) as (store, settings):
        chunks = stream_people(
            store=store, now=settings.clock(), settings=settings.measures, limit=limit,
            query=search, flag=flag, circle=circle, status=status, stage=stage, sort=sort,
            details=json_,
        )  # fmt: skip
        _stale_note(store, settings.clock())
        if json_:
            _stream_json(r.as_json() for chunk in chunks for r in chunk)
        else:
            people_listing(chunks, tsv=tsv)


def _stream_json(items: Iterator[dict[str, Any]]) -> None:
    """A JSON list written an item at a time (the same text as `_print_json` of the list)."""
    write, first = sys.stdout.write, True
    for item in items:
        body = "\n".join("  " + line for line in render.json_text(item).splitlines())
        write(("[\n" if first else ",\n") + body)
        first = False
    write("[]\n" if first else "\n]\n")


@app.command()
def person(
    ref: Annotated[str, typer.Argument(help="An id, an identity platform:key, or a unique name.")],
    db: Db = None,
    now: Now = None,
    json_: Json = False,
) -> None:
    """One person: every score with its reason, the ledger, and the timeline."""
    from karmabank.actions.relationships import person_scores

    with opened(db, now) as (store, settings):
        detail = person_scores(
            store=store, ref=ref, now=settings.clock(), settings=settings.measures
        ).as_json()
    if detail.get("note"):  # a bare number that could mean two people: which one it took
        sys.stderr.write(f"note: {render.plain(detail['note'])}\n")
    if json_:
        _print_json(detail)
    else:
        render.person_view(detail)


@app.command()
def status(db: Db = None, now: Now = None, json_: Json = False) -> None:
    """The network at a glance: share ratio, people per circle, rhythm status and stage."""
    from karmabank.actions.relationships import network_status

    with opened(db, now) as (store, settings):
        report = network_status(store=store, now=settings.clock(), settings=settings.measures)
        _stale_note(store, settings.clock())
    if json_:
        _print_json(report)
    else:
        render.status_view(report)


@app.command()
def record(
    direction: Annotated[Direction, typer.Argument(help="in, give or ask.")],
    ref: Annotated[str, typer.Argument(metavar="PERSON", help="An id, identity or unique name.")],
    verb: Annotated[str, typer.Argument(help="e.g. comment, donate, thank, share, ask.")],
    at: Annotated[
        str | None, typer.Option(help="When it happened (ISO-8601; default now).")
    ] = None,
    channel: Annotated[
        str | None, typer.Option(help="Where (default: the person's platform).")
    ] = None,
    text: Annotated[str | None, typer.Option(help="What was said.")] = None,
    object_: Annotated[str | None, typer.Option("--object", help="A URL or title.")] = None,
    weight: Annotated[float | None, typer.Option(help="Override the verb's weight.")] = None,
    name: Annotated[str | None, typer.Option(help="Name of a new person.")] = None,
    db: Db = None,
    now: Now = None,
) -> None:
    """Record one activity by hand (a new identity creates its person)."""
    from karmabank.actions.clock import with_database_clock
    from karmabank.actions.recording import record_activity
    from karmabank.store.open import open_configured

    settings = load_settings(db=db, now=now)
    given = parse_instant(at, "--at") if at else None
    with open_configured(settings, create=True) as store:
        clock = with_database_clock(store, settings).clock()
        when = given or clock
        act = record_activity(
            store=store, direction=direction, ref=ref, verb=verb, at=when, now=clock,
            channel=channel, text=text, object_=object_, weight=weight, name=name,
        )  # fmt: skip
    # stored by now: the line is plain text (no markup to misread), so printing it cannot fail
    # and tempt a retry that would record the activity twice
    render.console().print(
        render.plain(
            f"recorded {act.direction} {act.verb} for person {act.person_id} at "
            f"{act.occurred_at.isoformat()} (activity {act.id})"
        ),
        markup=False,
    )


@app.command()
def flag(
    ref: Annotated[str, typer.Argument(metavar="PERSON", help="An id, identity or unique name.")],
    flag: Annotated[Flag, typer.Argument(help="team, bot or do_not_contact.")],
    off: Annotated[
        bool, typer.Option("--off", help="Clear the flag instead of setting it.")
    ] = False,
    db: Db = None,
) -> None:
    """Flag a person as team, bot or do_not_contact (imports never change flags)."""
    from karmabank.actions.people import set_flag

    with opened(db) as (store, settings):
        p = set_flag(store=store, ref=ref, flag=flag, on=not off, now=settings.clock(), actor="cli")
    state = "cleared" if off else "set"
    render.console().print(f"{flag.value} {state} for {render.safe(p.name or 'person')} ({p.id})")


issue_app = typer.Typer(
    help="The organization's issues: causes and topics, with keywords.", no_args_is_help=True
)
app.add_typer(issue_app, name="issue")


@issue_app.command("add")
def issue_add(
    name: Annotated[str, typer.Argument(help="e.g. 'River cleanup'.")],
    keywords: Annotated[
        list[str],
        typer.Option("--keywords", "-k", help="Words about the issue (repeat, or commas)."),
    ],
    description: Annotated[str, typer.Option(help="A sentence or two about it.")] = "",
    db: Db = None,
    now: Now = None,
) -> None:
    """Add an issue the organization cares about."""
    from karmabank.actions.issues import add_issue
    from karmabank.store.open import open_configured

    settings = load_settings(db=db, now=now)
    with open_configured(settings, create=True) as store:
        issue = add_issue(
            store=store, name=name, keywords=keywords, description=description,
            now=settings.clock(),
        )  # fmt: skip
    render.console().print(
        f"issue {issue.id}: {render.safe(issue.name)} ({render.safe(', '.join(issue.keywords))})"
    )


@issue_app.command("list")
def issue_list(db: Db = None, json_: Json = False) -> None:
    """List the organization's issues."""
    from karmabank.actions.issues import list_issues

    with opened(db) as (store, settings):
        issues = list_issues(store=store)
    if json_:
        _print_json([i.as_json() for i in issues])
        return
    for i in issues:
        keywords = render.safe(", ".join(i.keywords))
        render.console().print(f"{i.id:>3}  {render.safe(i.name)}: {keywords}")
    if not issues:
        render.console().print("no issues yet: `karmabank issue add NAME --keywords WORD...`")


@app.command()
def influencers(
    issue: Annotated[str | None, typer.Option(help="An issue's id or name (default: any).")] = None,
    limit: Annotated[int, typer.Option(help="At most this many people.")] = 10,
    db: Db = None,
    now: Now = None,
    json_: Json = False,
) -> None:
    """People with warmth, reach and affinity for the organization's issues."""
    from karmabank.actions.influencers import find_influencers

    with opened(db, now) as (store, settings):
        found = find_influencers(
            store=store, now=settings.clock(), settings=settings.measures, issue=issue,
            limit=limit,
        )  # fmt: skip
    if found.note:
        render.console(stderr=True).print("note: " + render.plain(found.note), markup=False)
    if json_:
        _print_json(found.rows)
    else:
        render.influencers_table(found)


app.add_typer(campaign_app, name="campaign")

nurture_app = typer.Typer(
    help="Today's queue of good things to do for people (karmabank never sends anything).",
    invoke_without_command=True,
)
app.add_typer(nurture_app, name="nurture")
ItemId = Annotated[int, typer.Argument(help="The item's id, from `karmabank nurture`.")]


@nurture_app.callback()
def nurture(
    ctx: typer.Context,
    limit: Annotated[int | None, typer.Option(help="At most this many items (default 10).")] = None,
    db: Db = None,
    now: Now = None,
    json_: Json = False,
) -> None:
    """Today's queue: who to thank, answer, welcome, check in with, celebrate, share."""
    if ctx.invoked_subcommand is not None:
        return
    from karmabank.actions.nurture import nurture_queue

    with opened(db, now) as (store, settings):
        items = nurture_queue(
            store=store, now=settings.clock(), settings=settings.measures, limit=limit
        )
        _stale_note(store, settings.clock())
    if json_:
        _print_json([i.as_json() for i in items])
    else:
        render.nurture_queue(items)


@nurture_app.command("done")
def nurture_done(item: ItemId, db: Db = None, now: Now = None) -> None:
    """Record the give the item asked for (after you sent it yourself)."""
    from karmabank.actions.nurture import nurture_done as done

    with opened(db, now) as (store, settings):
        s, act = done(store=store, item_id=item, now=settings.clock())
    render.console().print(
        f"done: recorded give {render.safe(act.verb)} for person {act.person_id} "
        f"(activity {act.id})"
    )


@nurture_app.command("skip")
def nurture_skip(item: ItemId, db: Db = None, now: Now = None) -> None:
    """Skip an item: it will not come back."""
    from karmabank.actions.nurture import nurture_skip as skip

    with opened(db, now) as (store, settings):
        skip(store=store, item_id=item, now=settings.clock())
    render.console().print(f"skipped item {item}")


@nurture_app.command("snooze")
def nurture_snooze(
    item: ItemId,
    days: Annotated[int, typer.Option(help="Bring it back after this many days.")] = 7,
    db: Db = None,
    now: Now = None,
) -> None:
    """Snooze an item for some days."""
    from karmabank.actions.nurture import nurture_snooze as snooze

    with opened(db, now) as (store, settings):
        s = snooze(store=store, item_id=item, now=settings.clock(), days=days)
    until = s.snoozed_until.date().isoformat() if s.snoozed_until else "?"
    render.console().print(f"snoozed item {item} until {until}")


@app.command()
def rescore(db: Db = None, now: Now = None, json_: Json = False) -> None:
    """Recompute every score (commands that show scores also do it when data changed)."""
    from karmabank.actions.scoring import rescore as rescore_all

    with opened(db, now) as (store, settings):
        report = rescore_all(store=store, now=settings.clock(), settings=settings.measures)
    if json_:
        _print_json(report.as_json())
    else:
        render.rescore_report(report)


@app.command()
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


from karmabank.cli.backtest import backtest  # noqa: E402  (registered last: its own module)

app.command()(backtest)

from karmabank.cli.web import serve, token_app, user_app  # noqa: E402

app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.command()(serve)
