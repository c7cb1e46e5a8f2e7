"""The Typer application: every command parses its options, calls one action, renders.

The commands live by concept (`data`, `network`, `recording`, `nurture`, `campaigns`,
`backtest`, `web`); here they are put together, in the order `karmabank --help` lists them.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from karmabank.cli import (
    backup,
    charts,
    connectors,
    data,
    merging,
    network,
    nurture,
    organization,
    recording,
)
from karmabank.cli.backtest import backtest
from karmabank.cli.campaigns import campaign_app
from karmabank.cli.erase import erase
from karmabank.cli.privacy import audit, export, retention_app
from karmabank.cli.web import serve, token_app, user_app

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


app.command()(data.init)
app.command("import")(data.import_)
app.command()(organization.formats)
app.command()(network.people)
app.command()(network.person)
app.command()(network.status)
app.command()(recording.record)
app.command()(recording.flag)
app.command()(organization.optout)
app.command()(export)
app.command()(audit)
app.command()(merging.unmerge)
app.command()(network.influencers)
app.command()(network.rescore)
app.command()(charts.rhythm)
app.command()(charts.funnel)
app.command()(charts.share)
app.command()(charts.circles)
app.command()(charts.report)
app.command()(data.demo)
app.command()(backup.backup)
app.command()(backup.restore)
app.command()(erase)
app.command()(connectors.connections)
app.command()(connectors.disconnect)
app.command()(connectors.sync)
app.command()(backtest)
app.command()(serve)
app.add_typer(recording.issue_app, name="issue")
app.add_typer(campaign_app, name="campaign")
app.add_typer(nurture.nurture_app, name="nurture")
app.add_typer(merging.merge_app, name="merge")
app.add_typer(connectors.connect_app, name="connect")
app.add_typer(organization.org_app, name="org")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(retention_app, name="retention")
