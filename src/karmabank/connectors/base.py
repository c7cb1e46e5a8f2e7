"""What every live connector shares: the account it checks, the pages it yields, the transport
it reads them through.

A *connector* reads what came in toward the organization on one platform since a stored cursor
(Mastodon notifications, Bluesky's listNotifications) and yields it as `Page`s of the same
`SourceItem`s the file importers yield (`karmabank.sources.base`), so one pipeline stores both
(idempotent source keys from platform ids, quarantine, exact counts). Connectors do no database
work and never see the database: `karmabank.actions.syncing` stores each page and the page's
cursor in one transaction, so a sync killed at any moment resumes where its last committed page
ended, losing and duplicating nothing.

The cursor is the connector's own opaque text (`Page.cursor`): whatever it needs to resume after
that page (Mastodon: the newest notification id stored; Bluesky, which pages newest first: the
high-water mark plus the page cursor of an unfinished walk back). `None` before the first sync.

Connectors read the platform only through a `Transport` (`karmabank.connectors.http`), which owns
timeouts, retries with backoff on 5xx and connection errors, `429` / `Retry-After` /
`X-RateLimit-*` waits shown on a progress line, and turns a 401/403 into `CredentialsRefused`.
Secrets are given to the connector's constructor, read from the environment or the secrets file
(`karmabank.connectors.secrets`); they are never stored, printed or logged.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Protocol

from karmabank.model import IdentityKey
from karmabank.sources.base import SourceItem


@dataclass(frozen=True, slots=True)
class Account:
    """The organization's account on the platform, as the platform confirms it (`check`)."""

    identity: IdentityKey  # ("mastodon", "@org@host") or ("bluesky", "did:plc:...")
    name: str | None = None  # display name or handle, a label only
    followers: int | None = None
    # What the connector wants kept with the connection and given back in
    # `ConnectionSettings.options` (Mastodon: the instance's domain, the account's id).
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Page:
    """One page the platform answered, turned into items.

    `url` is where it came from (a malformed page is quarantined with it: then `items` holds one
    `BadRow` whose raw text is the start of the page). `cursor` is what to store once this page's
    items are committed. `note` is an optional line for the progress display ("first sync: the
    last 90 days"). `keep` are options to merge into the connection's stored options in the
    same transaction (Mastodon: where a reading of the follower list stands), given back in
    `ConnectionSettings.options` on the next sync.
    """

    url: str
    items: list[SourceItem] = field(default_factory=list)
    cursor: str | None = None
    note: str | None = None
    keep: Mapping[str, str] = field(default_factory=dict)


class Reply(Protocol):
    """What a `Transport` call returns (an `httpx.Response` satisfies it)."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def text(self) -> str: ...

    def json(self) -> Any: ...


class Transport(Protocol):
    """HTTP as connectors see it: relative or absolute URLs on the connection's base URL.

    A call returns only a 2xx reply; it has already waited out 429s and retried 5xx and
    connection errors, and raises `CredentialsRefused` on 401/403 and `ConnectorError` when the
    retries are spent or the status is another 4xx."""

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply: ...

    def post(
        self,
        url: str,
        *,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply: ...


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    """A connection's stored settings, what a connector is constructed with beside its secret
    and its `Transport` (`karmabank.connectors.registry.make_connector`)."""

    name: str  # the connection's name, for messages ("mastodon @org@example.social")
    base_url: str  # the Mastodon instance, the Bluesky service (https://bsky.social)
    secret_env: str  # the name of the variable holding the secret, for messages: never the value
    options: Mapping[str, str] = field(default_factory=dict)  # Bluesky: {"handle": "org.example"}
    # how often a sync reads the account's follower list for their follower counts (reach;
    # Mastodon): None never (`connect`'s check), timedelta(0) every sync
    audience_every: timedelta | None = None


class Connector(Protocol):
    """The interface each platform's connector implements.

    Constructed with the connection's stored settings (instance URL, handle, service URL, the
    name of the environment variable), its secret, and a `Transport`:
    `Connector(settings, secret=..., transport=...)`."""

    platform: ClassVar[str]  # "mastodon" | "bluesky": also the identity platform and channel

    def __init__(
        self, settings: ConnectionSettings, *, secret: str, transport: Transport
    ) -> None: ...

    def check(self) -> Account:
        """Check the credentials once (raises `CredentialsRefused`) and say whose they are."""
        ...

    def pages(
        self, cursor: str | None, since: datetime, *, now: datetime | None = None
    ) -> Iterator[Page]:
        """Yield what is new since `cursor`; with no cursor (a first sync), go back to `since`
        only. Each page's items are stored, then its cursor, before the next page is read.
        `now` (the sync's time) tells when the follower list is due again
        (`ConnectionSettings.audience_every`); without it the list is not read."""
        ...
