"""`karmabank.actions.syncing.sync` over real HTTP (the replay server, the real transport) on
SQLite and PostgreSQL: the exact activities imported, the cursor stored with each page, a 429
waited out and a 500 retried, a malformed page quarantined with its URL, nothing twice after a
re-run, a refused token one line naming the connection, Bluesky too."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from karmabank.actions.connections import Secrets, connect, disconnect, list_connections
from karmabank.actions.syncing import since_of, sync
from karmabank.connectors.http import Policy
from karmabank.errors import ConfigError, CredentialsRefused, NotFoundError
from karmabank.store.connections import Connection
from karmabank.store.open import Store
from karmabank.store.tables import Activity, Identity, ImportRun, OrgIdentity, Person, Quarantine
from tests.connectors import test_bluesky as bsky
from tests.connectors.mastodon_replay import (
    FIRST_SYNC,
    FOLLOWERS,
    NOTIFICATIONS,
    NOW,
    SECOND_SYNC,
    TOKEN,
    VERIFY,
    serve_account,
    serve_history,
    serve_next_day,
)
from tests.connectors.replay import Replay, ReplayServer, page

POLICY = Policy(backoff=0.001, max_wait=30)
SECRETS = Secrets(environ={"KB_MASTODON_TOKEN": TOKEN, "KB_BSKY": bsky.PASSWORD})


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as s:
        serve_account(s)
        yield s


def connect_mastodon(store: Store, server: ReplayServer, name: str = "org-mastodon") -> None:
    connect(
        store=store, platform="mastodon", base_url=server.url, secret_env="KB_MASTODON_TOKEN",
        secret=TOKEN, name=name, policy=POLICY, now=NOW,
    )  # fmt: skip


def activities(store: Store) -> list[tuple[str, str, str | None, str | None, str | None]]:
    with store.sessions() as s:
        found = s.execute(
            select(Activity.verb, Identity.key, Activity.object, Activity.text, Person.name)
            .join(Person, Person.id == Activity.person_id)
            .join(Identity, Identity.person_id == Person.id)
            .order_by(Activity.occurred_at.desc())
        )
        return [tuple(r) for r in found]  # type: ignore[misc]


def stored_cursor(store: Store) -> str | None:
    with store.sessions() as s:
        return s.scalar(select(Connection.cursor))


def test_first_sync_then_next_day_then_a_rerun(store: Store, server: ReplayServer) -> None:
    serve_history(server, page_2_first=(
        Replay(429, {"error": "Too many requests"}, {"Retry-After": "1"}),
        Replay(500, {"error": "Internal Server Error"}),
    ))  # fmt: skip
    connect_mastodon(store, server)
    lines: list[str] = []
    report = sync(store=store, secrets=SECRETS, now=NOW, policy=POLICY, progress=lines.append)
    (done,) = report.connections
    assert done.error is None
    assert (done.imported, done.duplicates, done.skipped, done.quarantined) == (6, 0, 1, 1)
    assert done.pages == 6 and done.cursor == "110" == stored_cursor(store)  # 4 + 2 of followers
    assert (done.audiences, done.audiences_outside) == (2, 1)  # ada and di; zed is not in it
    assert done.first_since == NOW - timedelta(days=90)
    assert "first sync: back to 2026-09-02" in lines
    assert "org-mastodon: rate limited (429); waiting 1 s" in lines  # shown, then slept
    assert any(line.startswith("org-mastodon: 500 answer; waiting") for line in lines)
    assert activities(store) == FIRST_SYNC  # Fay's follow is older than 90 days: not read
    with store.sessions() as s:
        (bad,) = s.scalars(select(Quarantine)).all()
        assert (
            bad.file == f"{server.url}{NOTIFICATIONS}?types%5B%5D=mention&types%5B%5D="
            "favourite&types%5B%5D=reblog&types%5B%5D=follow&limit=40&max_id=105"
        )
        assert bad.raw.startswith('[{"id": "104"') and "not a JSON list" in bad.reason
        followers = {n: f for n, f in s.execute(select(Person.name, Person.followers))}
        # reach: the follower list's counts, read after the notifications, are the last word
        assert followers["Ada Okafor"] == 1250 and followers["Di Marsh"] == 11
        assert followers["Eve Tanaka"] == 560 and "Zed Olsen" not in followers
        org = {(i.platform, i.key) for i in s.scalars(select(OrgIdentity))}
        assert ("mastodon", "@karmabank@example.social") in org
        run = s.get(ImportRun, done.run_id)
        assert run is not None and (run.format, run.status, run.imported) == (
            "sync:mastodon", "done", 6)  # fmt: skip
    (listed,) = list_connections(store=store)
    assert listed.last_sync_at == NOW and listed.last_result == done.result
    assert listed.last_result == (
        "6 imported, 0 duplicates, 1 skipped, 1 quarantined (6 pages); follower counts of "
        "2 people in the network (1 other follower not in it yet)"
    )
    assert server.requests_to(FOLLOWERS)[-1].param("max_id") == "9001"  # the Link's, not an id

    serve_next_day(server)
    later = sync(store=store, secrets=SECRETS, now=NOW + timedelta(days=1), policy=POLICY)
    (next_day,) = later.connections
    assert (next_day.imported, next_day.duplicates, next_day.first_since) == (2, 0, None)
    asked = [r.param("min_id") for r in server.requests_to(NOTIFICATIONS)][-2:]
    assert asked == ["110", "112"] and stored_cursor(store) == "112"
    assert activities(store) == SECOND_SYNC + FIRST_SYNC

    with store.sessions.begin() as s:  # forget the cursor: everything read again, none twice
        s.execute(update(Connection).values(cursor=None))
    again = sync(store=store, secrets=SECRETS, now=NOW, policy=POLICY).connections[0]
    assert (again.imported, again.duplicates) == (0, 6)
    assert activities(store) == SECOND_SYNC + FIRST_SYNC
    with store.sessions() as s:
        assert len(s.scalars(select(Quarantine)).all()) == 1  # the same bad page, kept once


def test_a_revoked_token_is_one_line_and_the_others_still_sync(
    store: Store, server: ReplayServer
) -> None:
    serve_history(server)
    connect_mastodon(store, server)
    with ReplayServer() as other:
        serve_account(other)
        connect_mastodon(store, other, name="second")  # another instance, same handle shape
    revoked = Replay(401, {"error": "The access token was revoked"})
    server.answer("GET", NOTIFICATIONS, revoked)
    server.answer("GET", NOTIFICATIONS, revoked, query={"max_id": "108"})
    report = sync(store=store, secrets=SECRETS, now=NOW, policy=POLICY, connection="org-mastodon")
    (failed,) = report.failed
    assert failed.error is not None and "\n" not in failed.error
    assert failed.error.startswith("org-mastodon: the platform refused the credentials (401 at ")
    assert failed.error.endswith("check $KB_MASTODON_TOKEN (revoked, expired or wrong?)")
    assert TOKEN not in failed.error
    listed = {c.name: c for c in list_connections(store=store)}
    assert listed["org-mastodon"].last_result == failed.error
    assert listed["org-mastodon"].cursor is None and listed["second"].last_sync_at is None
    with store.sessions() as s:
        assert s.scalar(select(ImportRun.status)) == "failed"


def test_a_missing_secret_names_the_connection_and_the_variable(
    store: Store, server: ReplayServer
) -> None:
    connect_mastodon(store, server)
    report = sync(store=store, secrets=Secrets(environ={}), now=NOW, policy=POLICY)
    assert report.failed[0].error == (
        "org-mastodon: the secret is not set: $KB_MASTODON_TOKEN is not in the environment"
    )


def test_connect_refused_is_credentials_refused(store: Store, server: ReplayServer) -> None:
    server.answer("GET", VERIFY, Replay(401, {"error": "The access token is invalid"}))
    with pytest.raises(CredentialsRefused, match=r"check \$KB_MASTODON_TOKEN"):
        connect_mastodon(store, server)
    assert list_connections(store=store) == []


def test_disconnect_and_unknown_names(store: Store, server: ReplayServer) -> None:
    connect_mastodon(store, server)
    with pytest.raises(NotFoundError, match=r"no connection 'nope' \(connections: org-mastodon\)"):
        sync(store=store, secrets=SECRETS, now=NOW, connection="nope")
    assert disconnect(store=store, ref="org-mastodon", now=NOW).name == "org-mastodon"
    assert list_connections(store=store) == []


def test_since_spans_and_dates() -> None:
    assert since_of("90d", NOW) == NOW - timedelta(days=90)
    assert since_of("2w", NOW) == NOW - timedelta(weeks=2)
    assert since_of("2026-11-01", NOW).isoformat() == "2026-11-01T00:00:00+00:00"
    with pytest.raises(ConfigError, match="since 'soon'"):
        since_of("soon", NOW)
    with pytest.raises(ConfigError, match="since: '2026-13-01' is not an ISO-8601 time"):
        since_of("2026-13-01", NOW)


def test_bluesky_sync_imports_the_notifications_once(store: Store) -> None:
    with ReplayServer() as s:
        s.answer("POST", bsky.SESSION, page(bsky.fixture("createSession")))
        s.answer("POST", bsky.REFRESH, page(bsky.fixture("refreshSession")))
        s.answer("GET", bsky.PROFILE, page(bsky.fixture("getProfile")))
        bsky.serve_history(s)
        view = connect(
            store=store, platform="bluesky", base_url=s.url, secret_env="KB_BSKY",
            secret=bsky.PASSWORD, options={"handle": bsky.HANDLE}, policy=POLICY, now=NOW,
        )  # fmt: skip
        assert view.identity == f"bluesky:{bsky.ORG.key}"
        since = bsky.SINCE
        first = sync(store=store, secrets=SECRETS, now=NOW, since=since, policy=POLICY)
        (done,) = first.connections
        assert (done.imported, done.skipped, done.quarantined, done.pages) == (7, 1, 1, 3)
        assert stored_cursor(store) == done.cursor and '"walk":null' in (done.cursor or "")
        s.answer("GET", bsky.LIST, page(bsky.fixture("listNotifications-next-day")),
                 query={"limit": "100"})  # fmt: skip
        later = sync(store=store, secrets=SECRETS, now=NOW, since=since, policy=POLICY)
        assert (later.connections[0].imported, later.connections[0].duplicates) == (2, 0)
    with store.sessions() as session:
        keys = list(session.scalars(select(Activity.source_key)))
    assert len(keys) == len(set(keys)) == 9


def test_connect_again_updates_and_a_taken_name_is_refused(
    store: Store, server: ReplayServer
) -> None:
    connect_mastodon(store, server)
    connect(
        store=store, platform="mastodon", base_url=server.url + "/", secret_env="KB_OTHER",
        secret=TOKEN, name="org-mastodon", policy=POLICY, now=NOW,
    )  # fmt: skip
    (only,) = list_connections(store=store)
    assert (only.secret_env, only.base_url) == ("KB_OTHER", server.url)  # the same, updated
    with ReplayServer() as other:
        other.answer("GET", "/api/v2/instance", page({"domain": "other.example"}))
        other.answer("GET", VERIFY, page({"id": "9", "acct": "someone", "username": "someone"}))
        with pytest.raises(ConfigError, match="a connection named 'org-mastodon' exists for"):
            connect_mastodon(store, other)
    with pytest.raises(ConfigError, match="is not an https:// address"):
        connect(store=store, platform="mastodon", base_url="ftp://x", secret_env="V",
                secret=TOKEN, now=NOW)  # fmt: skip
