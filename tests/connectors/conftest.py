"""Fixtures of the connector tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.connectors.mastodon_replay import serve_account, serve_history
from tests.connectors.replay import ReplayServer


@pytest.fixture
def history_server() -> Iterator[ReplayServer]:
    """A Mastodon instance (the replay server) with the account, its follower list and the
    first sync's four pages of notifications (`mastodon_replay`)."""
    with ReplayServer() as s:
        serve_account(s)
        serve_history(s)
        yield s
