"""The home page's connections and its "Sync now" form (issue 17), SQLite and PostgreSQL: each
connection is listed with its last sync; only an owner gets the button, and only an owner's
POST with the session's CSRF token runs the sync (over the replay server), whose counts the
answer shows; the secret is on no page."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from karmabank.actions.accounts import Role, add_user
from karmabank.actions.connections import connect
from karmabank.connectors.http import Policy
from karmabank.settings import SyncSettings
from karmabank.store.open import open_store
from karmabank.web.app import create_app
from karmabank.web.settings import WebSettings
from tests.connectors.mastodon_replay import NOW, TOKEN, serve_account, serve_history
from tests.connectors.replay import ReplayServer
from tests.web.test_api import PASSWORD, log_in

VARIABLE = "KB_WEB_MASTODON_TOKEN"


@pytest.fixture
def client(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv(VARIABLE, TOKEN)
    with ReplayServer() as server, open_store(db_url) as store:
        serve_account(server)
        serve_history(server)
        for role in Role:
            add_user(store=store, email=f"{role.value}@example.org", role=role.value, now=NOW,
                     password=PASSWORD, actor="test")  # fmt: skip
        connect(store=store, platform="mastodon", base_url=server.url, secret_env=VARIABLE,
                secret=TOKEN, name="org-mastodon", policy=Policy(backoff=0.001), now=NOW)  # fmt: skip
        app = create_app(WebSettings(db=db_url, now=NOW, sync=SyncSettings(backoff=0.001)))
        with TestClient(app, follow_redirects=False) as c:
            yield c


def home(client: TestClient, role: str) -> tuple[str, str]:
    assert log_in(client, f"{role}@example.org").status_code == 303
    page = client.get("/")
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    return page.text, found.group(1) if found else ""


def test_the_home_page_lists_connections_and_an_owner_syncs(client: TestClient) -> None:
    page, token = home(client, "owner")
    row = re.search(r'<table id="connections">.*?</table>', page, re.S)
    assert row is not None and "org-mastodon" in row.group() and "never" in row.group()
    assert "mastodon:@karmabank@example.social" in row.group()
    assert 'action="/connections/sync"' in page and "Sync now" in page
    assert client.post("/connections/sync", data={}).status_code == 403  # no CSRF token
    done = client.post("/connections/sync", data={"csrf_token": token})
    assert done.status_code == 200, done.text
    assert "6 imported, 0 duplicates, 1 skipped, 1 quarantined (6 pages)" in done.text
    assert "follower counts of 2 people in the network" in done.text
    assert "(first sync: since 2026-09-02)" in done.text
    after, _ = home(client, "owner")
    listed = re.search(r'<table id="connections">.*?</table>', after, re.S)
    assert listed is not None and "2026-12-01 12:00" in listed.group()
    assert "6 imported" in listed.group()
    assert TOKEN not in page + done.text + after


@pytest.mark.parametrize("role", ["organizer", "viewer"])
def test_no_one_else_may_sync(client: TestClient, role: str) -> None:
    page, token = home(client, role)
    assert "org-mastodon" in page and "Sync now" not in page
    forged = client.post("/connections/sync", data={"csrf_token": token})
    assert forged.status_code == 403
    again, _ = home(client, role)
    assert "never" in again  # nothing was synced
