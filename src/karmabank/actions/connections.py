"""Connections: connect an account on a platform, list them, disconnect one.

`connect` checks the credentials once through the platform's connector (a refused token is one
line naming the connection and the variable), adds the account to the organization's
identities, and stores the connection: its platform, name, base URL, the account's identity,
the *name* of the variable that holds the secret, and what the connector keeps with it. The
secret itself is given in by the edge, used for the check, and never stored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from karmabank.actions.organization import (
    add_org_identity,
    ensure_organization,
    org_identity_owner,
    owned_refusal,
    write_audit,
)
from karmabank.connectors.base import Account, ConnectionSettings
from karmabank.connectors.http import HttpTransport, Policy, Progress
from karmabank.connectors.registry import make_connector
from karmabank.connectors.secrets import read_secret
from karmabank.errors import ConfigError, NotFoundError
from karmabank.settings import SyncSettings
from karmabank.store.connections import Connection
from karmabank.store.open import Store

MAX_NAME = 100


@dataclass(frozen=True)
class Secrets:
    """Where secrets come from, handed in by the edge: its environment and the secrets file."""

    environ: Mapping[str, str]
    file: Path | None = None

    def read(self, variable: str, *, connection: str) -> str:
        return read_secret(
            variable, connection=connection, environ=self.environ, secrets_file=self.file
        )


@dataclass(frozen=True)
class ConnectionView:
    """One connection as listed (`karmabank connections`, the home page)."""

    id: int
    platform: str
    name: str
    base_url: str
    identity: str  # platform:key
    account_name: str | None
    secret_env: str
    cursor: str | None
    last_sync_at: datetime | None
    last_result: str | None
    last_import_run_id: int | None

    @classmethod
    def of(cls, row: Connection) -> ConnectionView:
        return cls(
            id=row.id, platform=row.platform, name=row.name, base_url=row.base_url,
            identity=f"{row.platform}:{row.identity_key}", account_name=row.account_name,
            secret_env=row.secret_env, cursor=row.cursor, last_sync_at=row.last_sync_at,
            last_result=row.last_result, last_import_run_id=row.last_import_run_id,
        )  # fmt: skip

    def settings(self, options: Mapping[str, str]) -> ConnectionSettings:
        return ConnectionSettings(self.name, self.base_url, self.secret_env, dict(options))

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "platform": self.platform,
            "name": self.name,
            "base_url": self.base_url,
            "identity": self.identity,
            "account_name": self.account_name,
            "secret_env": self.secret_env,
            "cursor": self.cursor,
            "last_sync_at": self.last_sync_at.isoformat() if self.last_sync_at else None,
            "last_result": self.last_result,
            "last_import_run_id": self.last_import_run_id,
        }


def sync_policy(settings: SyncSettings) -> Policy:
    """The transport's patience, from the settings (`KARMABANK_SYNC_BACKOFF`, `..._MAX_WAIT`)."""
    return Policy(backoff=settings.backoff, max_wait=settings.max_wait)


def transport_for(
    settings: ConnectionSettings, *, secret: str, policy: Policy, progress: Progress | None
) -> HttpTransport:
    """The HTTP transport of one connection (it knows the secret only to scrub messages)."""
    return HttpTransport(
        base_url=settings.base_url, connection=settings.name, secret_env=settings.secret_env,
        secrets=(secret,), policy=policy, progress=progress,
    )  # fmt: skip


def connect(
    *,
    store: Store,
    platform: str,
    base_url: str,
    secret_env: str,
    secret: str,
    name: str | None = None,
    options: Mapping[str, str] | None = None,
    policy: Policy | None = None,
    progress: Progress | None = None,
    now: datetime,
    actor: str = "cli",
) -> ConnectionView:
    """Check the credentials, then store the connection (a new one, or the same account's
    connection of that name, updated) and add the account to the organization's identities."""
    base_url = _base_url(base_url)
    label = connection_label(platform, base_url, name, options or {})
    settings = ConnectionSettings(label, base_url, secret_env, dict(options or {}))
    with transport_for(settings, secret=secret, policy=policy or Policy(), progress=progress) as t:
        account = make_connector(platform, settings, secret=secret, transport=t).check()
    chosen = (name or "").strip() or f"{platform}:{account.identity.key}"
    if len(chosen) > MAX_NAME or not chosen.isprintable():
        raise ConfigError(f"connection name: at most {MAX_NAME} printable characters")
    return _store_connection(store, platform, chosen, settings, account, now=now, actor=actor)


def connection_label(
    platform: str, base_url: str, name: str | None, options: Mapping[str, str]
) -> str:
    """What messages call a connection before it is stored: its name, else the platform and
    the handle (Bluesky) or the instance's host (Mastodon)."""
    where = options.get("handle") or base_url.split("://", 1)[-1].rstrip("/")
    return (name or "").strip() or f"{platform} {where}"


def _base_url(url: str) -> str:
    text = url.strip().rstrip("/")
    if "://" not in text:
        text = f"https://{text}"
    scheme, _, rest = text.partition("://")
    if scheme not in ("https", "http") or not rest or any(c in rest for c in " ?#"):
        raise ConfigError(f"{url!r} is not an https:// address of an instance or service")
    return f"{scheme}://{rest}"


def _store_connection(
    store: Store, platform: str, name: str, settings: ConnectionSettings, account: Account,
    *, now: datetime, actor: str,
) -> ConnectionView:  # fmt: skip
    options = {**settings.options, **account.options}
    with store.sessions.begin() as session:
        org = ensure_organization(session, now=now)
        conn = session.connection()
        owner = org_identity_owner(conn, account.identity)
        if owner is not None:
            raise ConfigError(owned_refusal(account.identity, owner))
        add_org_identity(conn, org.id, account.identity)
        row = session.scalar(select(Connection).where(Connection.name == name))
        if row is not None and (row.platform, row.identity_key) != (
            platform, account.identity.key
        ):  # fmt: skip
            raise ConfigError(
                f"a connection named {name!r} exists for {row.platform}:{row.identity_key}: "
                "choose another name, or disconnect it first"
            )
        if row is None:
            row = Connection(platform=platform, name=name, created_at=now, cursor=None)
            session.add(row)
        row.base_url, row.identity_key = settings.base_url, account.identity.key
        row.account_name, row.secret_env = account.name, settings.secret_env
        row.options = json.dumps(options, sort_keys=True)
        session.flush()
        write_audit(
            session, now=now, actor=actor, action="connect", subject=f"connection:{row.id}",
            details={"platform": platform, "name": name, "identity": str(account.identity),
                     "base_url": settings.base_url, "secret_env": settings.secret_env},
            scored=False,
        )  # fmt: skip
        return ConnectionView.of(row)


def list_connections(*, store: Store) -> list[ConnectionView]:
    with store.sessions() as session:
        rows = session.scalars(select(Connection).order_by(Connection.id)).all()
        return [ConnectionView.of(r) for r in rows]


def find_connection(session: Any, ref: str) -> Connection:
    """The connection named `ref`, or with id `ref` (NotFoundError naming the known ones)."""
    text = ref.strip()
    row = session.scalar(select(Connection).where(Connection.name == text))
    if row is None and text.removeprefix("id:").isdigit():
        row = session.get(Connection, int(text.removeprefix("id:")))
    if row is None:
        known = ", ".join(session.scalars(select(Connection.name).order_by(Connection.id)))
        raise NotFoundError(f"no connection {text!r} (connections: {known or 'none'})")
    assert isinstance(row, Connection)
    return row


def connection_options(row: Connection) -> dict[str, str]:
    try:
        found = json.loads(row.options or "{}")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


def disconnect(*, store: Store, ref: str, now: datetime, actor: str = "cli") -> ConnectionView:
    """Forget a connection (its activities stay; the account stays the organization's)."""
    with store.sessions.begin() as session:
        row = find_connection(session, ref)
        view = ConnectionView.of(row)
        session.execute(delete(Connection).where(Connection.id == row.id))
        write_audit(
            session, now=now, actor=actor, action="disconnect", subject=f"connection:{row.id}",
            details={"platform": row.platform, "name": row.name}, scored=False,
        )  # fmt: skip
        return view
