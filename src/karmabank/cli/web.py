"""`karmabank user add`, `karmabank token new` and `karmabank serve`: team accounts and the web
app (REST API under /api, OpenAPI docs at /docs)."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer

from karmabank.actions.accounts import Role
from karmabank.cli.options import Db, Now, opened
from karmabank.cli.render import console, safe
from karmabank.errors import ConfigError
from karmabank.settings import load_settings

user_app = typer.Typer(
    help="Team members who may use the web app and the API.", no_args_is_help=True
)
token_app = typer.Typer(help="API bearer tokens.", no_args_is_help=True)


def _read_password() -> str:
    """One line from stdin when it is piped; typed twice (not shown) at a terminal."""
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise ConfigError("no password on stdin (or pass --generate)")
        return password
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise ConfigError("the two passwords differ")
    return first


@user_app.command("add")
def user_add(
    email: Annotated[str, typer.Argument(help="Their email: they log in with it.")],
    role: Annotated[
        Role,
        typer.Option(
            help="viewer reads; organizer also records and plans; owner also manages users."
        ),
    ],
    generate: Annotated[
        bool, typer.Option("--generate", help="Generate a password and print it once.")
    ] = False,
    db: Db = None,
    now: Now = None,
) -> None:
    """Add a team member; the password is read from stdin (or typed twice, or generated)."""
    from karmabank.actions.accounts import add_user
    from karmabank.store.open import open_store

    settings = load_settings(db=db, now=now)
    password = None if generate else _read_password()
    with open_store(settings.db) as store:
        user, generated = add_user(
            store=store, email=email, role=role.value, now=settings.clock(), password=password
        )
    console().print(f"user {user.id} {safe(user.email)} added as {user.role}")
    if generated is not None:
        console().print("password (shown once, keep it safe):", markup=False)
        sys.stdout.write(generated + "\n")


@token_app.command("new")
def token_new(
    email: Annotated[str, typer.Argument(help="The user the token acts as.")],
    db: Db = None,
    now: Now = None,
) -> None:
    """Create an API token for a user; it is printed once, on the last line."""
    from karmabank.actions.accounts import new_token

    with opened(db, now) as (store, settings):
        user, token = new_token(store=store, email=email, now=settings.clock())
    console().print(
        f"API token for {safe(user.email)} ({user.role}); shown once, send it as "
        "`Authorization: Bearer TOKEN`:"
    )
    sys.stdout.write(token + "\n")


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    secure_cookies: Annotated[
        bool,
        typer.Option("--secure-cookies", help="Mark cookies Secure (behind an https proxy)."),
    ] = False,
    db: Db = None,
    now: Now = None,
) -> None:
    """Run the web app: REST API under /api (OpenAPI docs at /docs) and the dashboard."""
    import uvicorn

    from karmabank.web import WebSettings, create_app

    settings = load_settings(db=db, now=now)
    app = create_app(WebSettings.from_settings(settings, secure_cookies=secure_cookies))
    console().print(
        f"karmabank on http://{safe(host)}:{port}/ (API docs at /docs); Ctrl-C stops it"
    )
    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False)
