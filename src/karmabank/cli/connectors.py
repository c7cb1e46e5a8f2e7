"""Live connectors: `connect mastodon|bluesky`, `connections`, `disconnect`, `sync`
(`actions/connections.py`, `actions/syncing.py`).

The secret is read here, at the edge, from the environment variable the user names (or the
secrets file, `$KARMABANK_SECRETS_FILE`), handed to the action, and never stored, printed or
logged: only the variable's *name* is kept with the connection.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from karmabank.cli import render
from karmabank.cli.options import Db, Json, Now, opened
from karmabank.cli.output import print_json

if TYPE_CHECKING:
    from karmabank.actions.connections import ConnectionView, Secrets
    from karmabank.actions.syncing import SyncReport
    from karmabank.connectors.http import Policy
    from karmabank.settings import Settings

connect_app = typer.Typer(
    help="Connect an organization account whose platform API `sync` reads.",
    no_args_is_help=True,
)

Name = Annotated[
    str | None,
    typer.Option(
        "--name", help="The connection's name (else platform:account).", show_default=False
    ),
]


def _secrets(settings: Settings) -> Secrets:
    from karmabank.actions.connections import Secrets

    return Secrets(environ=dict(os.environ), file=settings.secrets_file)


def _policy(settings: Settings) -> Policy:
    from karmabank.actions.connections import sync_policy

    return sync_policy(settings.sync)


def _progress(line: str) -> None:
    sys.stderr.write(render.plain(line) + "\n")
    sys.stderr.flush()


def _connect(
    db: str | None, now: str | None, platform: str, base_url: str, variable: str,
    name: str | None, options: dict[str, str], json_: bool,
) -> None:  # fmt: skip
    from karmabank.actions.connections import connect, connection_label

    with opened(db, now) as (store, settings):
        label = connection_label(platform, base_url, name, options)
        secret = _secrets(settings).read(variable, connection=label)
        view = connect(
            store=store, platform=platform, base_url=base_url, secret_env=variable,
            secret=secret, name=name, options=options, policy=_policy(settings),
            progress=_progress, now=settings.clock(),
        )  # fmt: skip
    if json_:
        print_json(view.as_json())
        return
    render.console().print(
        f"Connected {render.safe(view.name)}: {render.safe(view.identity)} is the "
        f"organization's; `karmabank sync` reads it with ${render.safe(view.secret_env)}"
    )


@connect_app.command("mastodon")
def connect_mastodon(
    instance: Annotated[str, typer.Option("--instance", help="The instance's URL.")],
    token_env: Annotated[
        str, typer.Option("--token-env", help="The variable holding the access token.")
    ],
    name: Name = None,
    db: Db = None,
    now: Now = None,
    json_: Json = False,
) -> None:
    """Connect a Mastodon account (a token with read:notifications read:accounts)."""
    _connect(db, now, "mastodon", instance, token_env, name, {}, json_)


@connect_app.command("bluesky")
def connect_bluesky(
    handle: Annotated[str, typer.Option("--handle", help="The account's handle.")],
    app_password_env: Annotated[
        str, typer.Option("--app-password-env", help="The variable holding an app password.")
    ],
    service: Annotated[
        str, typer.Option("--service", help="The account's PDS or entryway.")
    ] = "https://bsky.social",
    name: Name = None,
    db: Db = None,
    now: Now = None,
    json_: Json = False,
) -> None:
    """Connect a Bluesky account (with an app password, never the account's own)."""
    handle = handle.strip().lstrip("@")
    _connect(db, now, "bluesky", service, app_password_env, name, {"handle": handle}, json_)


def connections(db: Db = None, json_: Json = False) -> None:
    """List the connections with their last sync and cursor."""
    from karmabank.actions.connections import list_connections

    with opened(db) as (store, _settings):
        found = list_connections(store=store)
    if json_:
        print_json([c.as_json() for c in found])
        return
    _connections_table(found)


def _connections_table(found: list[ConnectionView]) -> None:
    from rich.table import Table

    out = render.console()
    if not found:
        out.print("No connections: add one with `karmabank connect mastodon|bluesky`")
        return
    table = Table("id", "name", "account", "secret from", "last sync", "result", "cursor")
    for c in found:
        table.add_row(
            str(c.id), render.safe(c.name), render.safe(c.identity),
            f"${render.safe(c.secret_env)}",
            c.last_sync_at.strftime("%Y-%m-%d %H:%M") if c.last_sync_at else "never",
            render.safe(c.last_result or "-"), render.safe(_short(c.cursor)),
        )  # fmt: skip
    out.print(table)


def _short(cursor: str | None) -> str:
    if cursor is None:
        return "-"
    return cursor if len(cursor) <= 40 else cursor[:39] + "…"


def disconnect(
    connection: Annotated[str, typer.Argument(help="The connection's name or id.")],
    db: Db = None,
    now: Now = None,
) -> None:
    """Forget a connection (its activities stay)."""
    from karmabank.actions.connections import disconnect as forget

    with opened(db, now) as (store, settings):
        view = forget(store=store, ref=connection, now=settings.clock())
    render.console().print(f"Disconnected {render.safe(view.name)}; its activities stay")


def sync(
    connection: Annotated[
        str | None,
        typer.Option(
            "--connection", help="Sync this connection only (name or id).", show_default=False
        ),
    ] = None,
    since: Annotated[
        str, typer.Option("--since", help="How far back a first sync reads (90d, 12w, a date).")
    ] = "90d",
    db: Db = None,
    now: Now = None,
    json_: Json = False,
) -> None:
    """Import what came in on each connection since its last sync."""
    from karmabank.actions.syncing import since_of
    from karmabank.actions.syncing import sync as run_sync

    with opened(db, now) as (store, settings):
        clock = settings.clock()
        report = run_sync(
            store=store, secrets=_secrets(settings), now=clock, connection=connection,
            since=since_of(since, clock), policy=_policy(settings),
            progress=_progress, followers_every=settings.sync.followers_interval,
        )  # fmt: skip
    if json_:
        print_json(report.as_json())
    else:
        _sync_report(report)
    for failed in report.failed:
        sys.stderr.write(f"error: {render.plain(failed.error)}\n")
    if report.failed:
        raise typer.Exit(1)


def _sync_report(report: SyncReport) -> None:
    out = render.console()
    if report.interrupted:
        runs = ", ".join(str(r) for r in report.interrupted)
        out.print(f"Earlier runs found interrupted (their committed pages are kept): {runs}")
    if not report.connections:
        out.print("No connections: add one with `karmabank connect mastodon|bluesky`")
    for c in report.connections:
        if c.error:
            continue
        first = f" (first sync: since {c.first_since:%Y-%m-%d})" if c.first_since else ""
        out.print(f"{render.safe(c.connection)}: {render.safe(c.result)}{first}")
