"""A Mastodon sync reads the account's follower list for follower counts (reach), over real
HTTP (the replay server) on SQLite and PostgreSQL: once a day by default, resumed from where a
sync stopped in the middle of it, its malformed page and bad entries quarantined, and a
follower outside the network left out (the list has no times: no activity is made)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from karmabank.actions.syncing import sync
from karmabank.errors import ConfigError
from karmabank.settings import load_settings
from karmabank.store.connections import Connection
from karmabank.store.open import Store
from karmabank.store.tables import Activity, Person, Quarantine
from tests.connectors.mastodon_replay import (
    ADA,
    DI,
    FOLLOWERS,
    NOW,
    serve_followers,
)
from tests.connectors.replay import Replay, ReplayServer
from tests.connectors.test_sync import POLICY, SECRETS, connect_mastodon


@pytest.fixture
def server(history_server: ReplayServer) -> ReplayServer:
    return history_server


def followers(store: Store) -> dict[str | None, int | None]:
    with store.sessions() as s:
        return {n: f for n, f in s.execute(select(Person.name, Person.followers))}


def options(store: Store) -> dict[str, str]:
    with store.sessions() as s:
        found: dict[str, str] = json.loads(s.scalar(select(Connection.options)) or "{}")
        return found


def follower_pages(server: ReplayServer) -> list[str | None]:
    return [r.param("max_id") for r in server.requests_to(FOLLOWERS)]


def test_read_once_a_day_and_never_an_activity(store: Store, server: ReplayServer) -> None:
    connect_mastodon(store, server)
    first = sync(store=store, secrets=SECRETS, now=NOW, policy=POLICY).connections[0]
    assert (first.audiences, first.audiences_outside) == (2, 1)
    assert follower_pages(server) == [None, "9001"]
    assert options(store)["followers_read_at"] == NOW.isoformat()
    assert "followers_max_id" not in options(store)
    with store.sessions() as s:
        made = s.scalar(select(func.count()).select_from(Activity))
    assert made == 6  # the notifications' activities only: a list without times makes none

    for hours in (1, 23):  # not due yet: the list is not asked for
        sync(store=store, secrets=SECRETS, now=NOW + timedelta(hours=hours), policy=POLICY)
    assert follower_pages(server) == [None, "9001"]

    serve_followers(server, first=[{**ADA, "followers_count": 1400}], second=[])
    later = sync(store=store, secrets=SECRETS, now=NOW + timedelta(days=1), policy=POLICY)
    assert follower_pages(server) == [None, "9001", None, "9001"]
    assert (later.connections[0].audiences, later.connections[0].audiences_outside) == (1, 0)
    assert followers(store)["Ada Okafor"] == 1400

    every_sync = sync(
        store=store, secrets=SECRETS, now=NOW + timedelta(days=1, minutes=15), policy=POLICY,
        followers_every=timedelta(0),
    )  # fmt: skip
    assert every_sync.connections[0].error is None and len(follower_pages(server)) == 6
    never = sync(store=store, secrets=SECRETS, now=NOW + timedelta(days=9), policy=POLICY,
                 followers_every=None)  # fmt: skip
    assert never.connections[0].error is None and len(follower_pages(server)) == 6


def test_a_sync_stopped_in_the_list_goes_on_from_that_page(
    store: Store, server: ReplayServer
) -> None:
    connect_mastodon(store, server)
    server.answer("GET", FOLLOWERS, Replay(503, {"error": "busy"}), query={"max_id": "9001"})
    broken = sync(store=store, secrets=SECRETS, now=NOW, policy=POLICY).connections[0]
    assert broken.error is not None and "org-mastodon" in broken.error
    assert (broken.imported, broken.audiences) == (6, 1)  # ada: the page before it is kept
    assert options(store)["followers_max_id"] == "9001"
    assert "followers_read_at" not in options(store)
    assert followers(store)["Di Marsh"] == 9  # the notification's count: page 2 not read

    serve_followers(server)  # the instance answers again; an hour later, not a day
    fixed = sync(store=store, secrets=SECRETS, now=NOW + timedelta(hours=1), policy=POLICY)
    assert fixed.connections[0].error is None
    assert follower_pages(server)[-1:] == ["9001"]  # went on from page 2, not from the top
    assert server.requests_to(FOLLOWERS)[-2].param("max_id") == "9001"
    assert followers(store)["Di Marsh"] == 11
    assert options(store)["followers_read_at"] == (NOW + timedelta(hours=1)).isoformat()
    assert "followers_max_id" not in options(store)


def test_a_malformed_page_and_bad_entries_are_quarantined(
    store: Store, server: ReplayServer
) -> None:
    connect_mastodon(store, server)
    bad_entries = [
        {**DI, "followers_count": -3},  # not a count
        {"id": "400", "username": "noacct", "followers_count": 5},  # no acct
        "not an account",
        {**ADA, "followers_count": 1300},
    ]
    serve_followers(server, first=bad_entries)
    server.answer("GET", FOLLOWERS, Replay(200, "<html>maintenance</html>"),
                  query={"max_id": "9001"})  # fmt: skip
    done = sync(store=store, secrets=SECRETS, now=NOW, policy=POLICY).connections[0]
    assert done.error is None and done.audiences == 1  # ada's; the rest are quarantined
    assert done.quarantined == 1 + 3 + 1  # the notifications' bad page, 3 entries, the page
    with store.sessions() as s:
        reasons = {q.file.rpartition("/")[2]: q.reason for q in s.scalars(select(Quarantine))}
        rows = [q.reason for q in s.scalars(select(Quarantine)) if "followers" in q.file]
    assert "followers?limit=80&max_id=9001" in reasons
    assert "not a JSON list of accounts" in reasons["followers?limit=80&max_id=9001"]
    assert sorted(r.split(":")[0] for r in rows) == [
        "follower", "follower", "follower", "the page is not a JSON list of accounts (followers)"
    ]
    assert followers(store)["Ada Okafor"] == 1300 and followers(store)["Di Marsh"] == 9
    assert options(store)["followers_read_at"] == NOW.isoformat()  # ended at the bad page


def test_the_interval_is_a_setting(tmp_path: Path) -> None:
    db = str(tmp_path / "k.db")
    env = {"KARMABANK_SYNC_FOLLOWERS_EVERY": "3600"}
    assert load_settings(db=db, environ=env).sync.followers_interval == timedelta(hours=1)
    assert load_settings(db=db, environ={}).sync.followers_interval == timedelta(days=1)
    with pytest.raises(ConfigError, match="KARMABANK_SYNC_FOLLOWERS_EVERY"):
        load_settings(db=db, environ={"KARMABANK_SYNC_FOLLOWERS_EVERY": "soon"})
