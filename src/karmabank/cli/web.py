"""`karmabank user add`, `karmabank token new` and `karmabank serve`: team accounts and the web
app (REST API under /api, OpenAPI docs at /docs)."""

from __future__ import annotations

import getpass
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from karmabank.actions.accounts import Role
from karmabank.cli.options import Db, Now, opened
from karmabank.cli.render import console, safe
from karmabank.errors import ConfigError
from karmabank.settings import load_settings

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI

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
    from karmabank.actions.database import open_database

    settings = load_settings(db=db, now=now)
    password = None if generate else _read_password()
    with open_database(settings=settings) as store:
        user, generated = add_user(
            store=store, email=email, role=role.value, now=settings.clock(), password=password
        )
    console().print(f"user {user.id} {safe(user.email)} added as {user.role}")
    if generated is not None:
        console().print("password (shown once, keep it safe):", markup=False)
        sys.stdout.write(generated + "\n")


@user_app.command("list")
def user_list(db: Db = None) -> None:
    """The team: id, email, role, and whether the account is disabled."""
    from karmabank.actions.accounts import list_users

    with opened(db, None) as (store, _settings):
        users = list_users(store=store)
    for u in users:
        console().print(
            f"{u.id} {safe(u.email)} {u.role}" + (" disabled" if u.disabled else "")
        )


@user_app.command("disable")
def user_disable(
    email: Annotated[str, typer.Argument(help="The user to disable (or enable again).")],
    off: Annotated[
        bool, typer.Option("--off", help="Enable the user again (their tokens work again).")
    ] = False,
    db: Db = None,
    now: Now = None,
) -> None:
    """Disable a user at once: their sessions end, their tokens are refused (`--off` undoes)."""
    from karmabank.actions.accounts import set_disabled

    with opened(db, now) as (store, settings):
        user = set_disabled(store=store, email=email, disabled=not off, now=settings.clock())
    if user.disabled:
        console().print(
            f"user {user.id} {safe(user.email)} disabled: logged out everywhere, "
            "API tokens refused (`--off` enables again)"
        )
    else:
        console().print(f"user {user.id} {safe(user.email)} enabled")


@token_app.command("list")
def token_list(
    email: Annotated[str | None, typer.Argument(help="Only this user's tokens.")] = None,
    db: Db = None,
) -> None:
    """API tokens: id, whose, created, last used (the tokens themselves are never kept)."""
    from karmabank.actions.accounts import list_tokens

    with opened(db, None) as (store, _settings):
        tokens = list_tokens(store=store, email=email)
    for t in tokens:
        used = t.last_used_at.isoformat(timespec="minutes") if t.last_used_at else "never"
        console().print(
            f"{t.id} {safe(t.email)} created {t.created_at.isoformat(timespec='minutes')}, "
            f"last used {used}"
        )


@token_app.command("revoke")
def token_revoke(
    token: Annotated[str, typer.Argument(help="The token's id (`token list`) or the token.")],
    db: Db = None,
    now: Now = None,
) -> None:
    """Revoke an API token: it stops working at once."""
    from karmabank.actions.accounts import revoke_token

    with opened(db, now) as (store, settings):
        t = revoke_token(store=store, token=token, now=settings.clock())
    console().print(f"API token {t.id} of {safe(t.email)} revoked")


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
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="The reverse proxy's addresses (comma-separated): only requests from them may "
            "say who the client is (X-Forwarded-For, -Proto). Default: none, trust no header."
        ),
    ] = None,
    max_body_mb: Annotated[
        float,
        typer.Option(min=0.001, max=1024, help="Refuse larger request bodies (413), unread."),
    ] = 10,
    db: Db = None,
    now: Now = None,
) -> None:
    """Run the web app: REST API under /api (OpenAPI docs at /docs) and the dashboard."""
    from karmabank.web import WebSettings, create_app

    settings = load_settings(db=db, now=now)
    web = WebSettings.from_settings(
        settings, secure_cookies=secure_cookies, max_body_bytes=int(max_body_mb * 1024 * 1024)
    )
    app = create_app(web)
    console().print(
        f"karmabank on http://{safe(host)}:{port}/ (API docs at /docs); Ctrl-C stops it"
    )
    server_config(app, host=host, port=port, forwarded_allow_ips=forwarded_allow_ips).run()


def server_config(
    app: FastAPI, *, host: str, port: int, forwarded_allow_ips: str | None = None,
    log_level: str = "info",
) -> uvicorn.Server:  # fmt: skip
    """uvicorn's server for `app`. Proxy headers are believed only from the addresses named
    (uvicorn believes them from 127.0.0.1 by default, so anyone on the host could rotate
    X-Forwarded-For past the login rate limit)."""
    import uvicorn

    trusted = [a.strip() for a in (forwarded_allow_ips or "").split(",") if a.strip()]
    config = uvicorn.Config(
        app, host=host, port=port, log_level=log_level, server_header=False,
        proxy_headers=bool(trusted), forwarded_allow_ips=trusted or [],
    )  # fmt: skip
    return uvicorn.Server(config)
