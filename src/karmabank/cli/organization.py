"""The organization and consent: `org name`, `org identity add|list`, `optout`, `formats`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from karmabank.cli import render
from karmabank.cli.options import Db, Json, opened
from karmabank.cli.output import print_json
from karmabank.settings import Settings, load_settings

org_app = typer.Typer(
    help="The organization: its name (drafts are signed with it) and its own identities.",
    no_args_is_help=True,
)
identity_app = typer.Typer(
    help="The organization's own accounts: activity by one of them is the organization's.",
    no_args_is_help=True,
)
org_app.add_typer(identity_app, name="identity")


@org_app.command("name")
def org_name(
    name: Annotated[str, typer.Argument(help="e.g. 'River Friends'.")],
    db: Db = None,
) -> None:
    """Name the organization: drafts (nurture and campaign) are signed with it."""
    from karmabank.actions.database import open_database
    from karmabank.actions.organization import set_org_name

    settings = load_settings(db=db)
    with open_database(settings=settings, create=True) as store:
        org = set_org_name(store=store, name=name, now=settings.clock(), actor="cli")
    render.console().print(f"the organization is now {render.safe(org.name)}")


@identity_app.command("add")
def identity_add(
    identities: Annotated[
        list[str], typer.Argument(metavar="ID...", help="e.g. mastodon:@us@social.example.")
    ],
    take: Annotated[
        bool,
        typer.Option("--take", help="An identity a person has leaves them for the organization."),
    ] = False,
    db: Db = None,
    json_: Json = False,
) -> None:
    """Add the organization's own identities (an identity a person has needs --take)."""
    from karmabank.actions.database import open_database
    from karmabank.actions.organization import add_org_identities

    settings = load_settings(db=db)
    with open_database(settings=settings, create=True) as store:
        added = add_org_identities(
            store=store, identities=identities, take=take, now=settings.clock(), actor="cli"
        )
    if json_:
        print_json([a.as_json() for a in added])
        return
    for a in added:
        how = {"added": "added", "already": "already the organization's",
               "taken": f"taken from person id:{a.from_person}"}[a.outcome]  # fmt: skip
        render.console().print(f"{render.safe(a.identity)}: {how}")


@identity_app.command("list")
def identity_list(db: Db = None, json_: Json = False) -> None:
    """List the organization's identities."""
    from karmabank.actions.organization import org_view

    with opened(db) as (store, _settings):
        org = org_view(store)
    if json_:
        print_json(org.as_json())
        return
    render.console().print(f"{render.safe(org.name)}:")
    for identity in org.identities:
        render.console().print(f"  {render.safe(identity)}")
    if not org.identities:
        render.console().print("  no identities yet: `karmabank org identity add ID...`")


def optout(
    ref: Annotated[str, typer.Argument(metavar="PERSON", help="An id, identity or unique name.")],
    channel: Annotated[str, typer.Argument(help="e.g. email, mastodon, bluesky.")],
    off: Annotated[bool, typer.Option("--off", help="Opt them back in instead.")] = False,
    db: Db = None,
) -> None:
    """Opt a person out of being contacted on one channel (do_not_contact: every channel)."""
    from karmabank.actions.opt_outs import set_opt_out

    with opened(db) as (store, settings):
        c = set_opt_out(
            store=store, ref=ref, channel=channel, on=not off, now=settings.clock(), actor="cli"
        )
    who = f"{render.safe(c.person.shown)} (id:{c.person.id})"
    state = "opted out of" if c.on else "opted in to"
    already = "" if c.changed else " (already)"
    render.console().print(f"{who} {state} {render.safe(c.channel)}{already}")


def formats(json_: Json = False) -> None:
    """List the import formats installed, each with what it reads."""
    from karmabank.actions.formats import import_formats

    found = import_formats()
    if json_:
        print_json([f.as_json() for f in found])
        return
    rows: list[tuple[str, str]] = []
    for f in found:  # each preset under its format: "  --preset eventbrite  ..."
        rows.append((f.name, f.description))
        rows.extend((f"  --preset {n}", d) for n, d in f.presets)
    width = max((len(name) for name, _ in rows), default=0)
    for name, description in rows:
        render.console().print(
            f"{render.safe(name):{width}}  {render.safe(description)}", soft_wrap=True
        )


def dry_run_import(
    settings: Settings, fmt: str, paths: list[Path], options: dict[str, str],
    encoding: str | None, batch_size: int, json_: bool,
) -> None:  # fmt: skip
    """`import --dry-run`: the counts and first rows of an import, nothing stored (the
    database, if there is one at the current schema, is only read)."""
    from karmabank.actions.database import open_database
    from karmabank.actions.import_preview import preview_files
    from karmabank.errors import StoreError

    try:
        store = open_database(settings=settings)
    except StoreError:  # no database yet (or behind): nothing is stored already
        store = None
    try:
        preview = preview_files(
            store=store, fmt=fmt, paths=paths, options=options, encoding=encoding,
            batch_size=batch_size,
        )  # fmt: skip
    finally:
        if store is not None:
            store.close()
    if json_:
        print_json(preview.as_json())
        return
    out = render.console()
    out.print(
        f"dry run, nothing stored: would import {preview.imported:,}; "
        f"{preview.duplicates:,} already there; {preview.skipped:,} skipped; "
        f"{preview.quarantined:,} quarantined ({preview.rows_read:,} rows read)",
        soft_wrap=True,
    )
    for reason, n in sorted(preview.skip_reasons.items()):
        out.print(f"  skipped {n:,}: {render.safe(reason)}")
    for e in preview.errors[:20]:
        out.print(f"  {render.safe(e.file)}:{e.line}: {render.safe(e.reason)}", soft_wrap=True)
    if preview.org_identities or preview.org_content or preview.opt_outs:
        ids = ", ".join(preview.org_identities) or "none new"
        out.print(
            f"  the organization: identities {render.safe(ids)}; {preview.org_content:,} of "
            f"its own content; {preview.opt_outs:,} opt-outs",
            soft_wrap=True,
        )
    if not preview.checked_database:
        out.print("  (no database yet: nothing is stored already)")
    if preview.first_rows:
        out.print("first rows:")
    for r in preview.first_rows:
        toward = f" -> {r['target']}" if r["target"] else ""
        what = f"  {r['object']}" if r["object"] else ""
        out.print(
            render.safe(
                f"  line {r['line']}  {r['occurred_at']}  {r['person']}{toward}  "
                f"{r['direction']} {r['verb']} ({r['channel']}){what}"
            ),
            soft_wrap=True,
        )
