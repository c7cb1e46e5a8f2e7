"""Writing by hand: `record`, `flag`, `issue add`, `issue list`."""

from __future__ import annotations

from typing import Annotated

import typer

from karmabank.cli import render
from karmabank.cli.options import Db, Json, Now, opened
from karmabank.cli.output import print_json
from karmabank.model import Direction, Flag
from karmabank.settings import load_settings, parse_instant


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
    from karmabank.actions.database import open_database
    from karmabank.actions.recording import record_activity

    settings = load_settings(db=db, now=now)
    given = parse_instant(at, "--at") if at else None
    with open_database(settings=settings, create=True) as store:
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
    render.console().print(f"{flag.value} {state} for {render.safe(p.shown)} ({p.id})")


issue_app = typer.Typer(
    help="The organization's issues: causes and topics, with keywords.", no_args_is_help=True
)


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
    from karmabank.actions.database import open_database
    from karmabank.actions.issues import add_issue

    settings = load_settings(db=db, now=now)
    with open_database(settings=settings, create=True) as store:
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
        print_json([i.as_json() for i in issues])
        return
    for i in issues:
        keywords = render.safe(", ".join(i.keywords))
        render.console().print(f"{i.id:>3}  {render.safe(i.name)}: {keywords}")
    if not issues:
        render.console().print("no issues yet: `karmabank issue add NAME --keywords WORD...`")
