"""Erasure and syncs (issue 18 item 3), on SQLite and PostgreSQL: a person erased after a
Mastodon sync is not re-created when every page is read again (their notifications counted
skipped, nothing of theirs stored), and a later sync's new rows of theirs are skipped too."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from karmabank.actions.connections import connect
from karmabank.actions.erasure import erase_person
from karmabank.actions.syncing import sync
from karmabank.measures.settings import MeasureSettings
from karmabank.store.connections import Connection
from karmabank.store.open import Store
from karmabank.store.tables import Person
from tests.actions.test_erasure import found_in_tables
from tests.connectors.mastodon_replay import NOW, TOKEN
from tests.connectors.replay import ReplayServer
from tests.connectors.test_sync import POLICY, SECRETS

ADA = ("ada@other.example", "Ada Okafor")  # two of the first sync's six activities are hers


@pytest.fixture
def server(history_server: ReplayServer) -> ReplayServer:
    return history_server


def test_a_resync_does_not_bring_an_erased_person_back(store: Store, server: ReplayServer) -> None:
    connect(store=store, platform="mastodon", base_url=server.url, secret_env="KB_MASTODON_TOKEN",
            secret=TOKEN, name="org-mastodon", policy=POLICY, now=NOW)  # fmt: skip
    (first,) = sync(store=store, secrets=SECRETS, now=NOW, policy=POLICY).connections
    assert (first.imported, first.skipped) == (6, 1)
    assert found_in_tables(store, ADA)  # the check can fail
    done = erase_person(store=store, ref="mastodon:@ada@other.example", now=NOW, actor="cli",
                        settings=MeasureSettings())  # fmt: skip
    assert done.removed["activity"] == 2 and done.tombstones == 1

    with store.sessions.begin() as s:  # forget the cursor: every page read again
        s.execute(update(Connection).values(cursor=None))
    (again,) = sync(store=store, secrets=SECRETS, now=NOW, policy=POLICY,
                    followers_every=timedelta(0)).connections  # the follower list again too
    assert again.error is None
    assert (again.imported, again.duplicates, again.skipped) == (0, 4, 1 + 2)  # a poll, hers
    assert (again.audiences, again.audiences_outside) == (1, 1)  # di; zed. Hers: not set
    with store.sessions() as s:
        assert s.scalar(select(Person.followers).where(Person.erased)) is None
    assert found_in_tables(store, ADA) == []
    with store.sessions() as s:
        names = set(s.scalars(select(Person.name).where(~Person.erased)))
        assert names == {"Bo Lindqvist", "cy", "Di Marsh", "Eve Tanaka"}
