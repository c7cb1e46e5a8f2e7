"""The registry of live connectors: platform name -> the connector class, as `module:Class`.

A dict, read on demand: a module is imported only when its platform is used (a `sync` of
Mastodon connections never imports the Bluesky connector). A platform's connector is
constructed by `make_connector` with the connection's stored settings, its secret and the
`Transport` it reads through.
"""

from __future__ import annotations

from importlib import import_module

from karmabank.connectors.base import ConnectionSettings, Connector, Transport
from karmabank.errors import NotFoundError

CONNECTORS: dict[str, str] = {
    "mastodon": "karmabank.connectors.mastodon:MastodonConnector",
    "bluesky": "karmabank.connectors.bluesky:BlueskyConnector",
}


def platforms() -> list[str]:
    """The platforms a connection can be made to."""
    return sorted(CONNECTORS)


def connector_class(platform: str) -> type[Connector]:
    """The connector class registered for `platform` (NotFoundError naming the known ones)."""
    target = CONNECTORS.get(platform)
    if target is None:
        known = ", ".join(platforms())
        raise NotFoundError(f"no connector for platform {platform!r} (known: {known})")
    module, _, name = target.partition(":")
    cls: type[Connector] = getattr(import_module(module), name)
    return cls


def make_connector(
    platform: str, settings: ConnectionSettings, *, secret: str, transport: Transport
) -> Connector:
    """The connector for `platform`, constructed for one connection."""
    return connector_class(platform)(settings, secret=secret, transport=transport)
