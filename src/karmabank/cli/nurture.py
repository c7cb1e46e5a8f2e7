"""The nurture queue: `nurture` (today's items), `nurture done`, `skip`, `snooze`."""

from __future__ import annotations

from typing import Annotated

import typer

from karmabank.cli import render
from karmabank.cli.options import Db, Json, Now, opened
from karmabank.cli.output import print_json, stale_note

nurture_app = typer.Typer(
    help="Today's queue of good things to do for people (karmabank never sends anything).",
    invoke_without_command=True,
)


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
        stale_note(store, settings.clock())
    if json_:
        print_json([i.as_json() for i in items])
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
