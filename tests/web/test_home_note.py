"""The dashboard's home says when the newest activity is long past (everyone would look dormant)
and how to see the network as it was then; and on a database with a fixed time (the demo's),
the app computes as of that time, as the commands do."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from karmabank.actions.accounts import new_token
from karmabank.actions.clock import fix_now
from karmabank.store.open import open_store
from karmabank.web import WebSettings, create_app
from tests.conftest import NOW
from tests.web.test_browser import build_store
from tests.web.test_pages import form_login


def _home(settings: WebSettings) -> str:
    with TestClient(create_app(settings), follow_redirects=False) as client:
        form_login(client, "viewer")
        return client.get("/").text


def test_home_says_when_the_newest_activity_is_long_past(db_url: str, tmp_path: Path) -> None:
    build_store(db_url, tmp_path)  # the newest activity: a day before NOW
    later = NOW + timedelta(days=400)
    newest, then = (NOW - timedelta(days=1)).date(), NOW.date()
    text = _home(WebSettings(db=db_url, now=later))
    assert (
        f'<p class="note" id="stale" role="note">Note: the newest activity is from {newest}, '
        f'401 days ago: <a href="/as-of?day={then}&amp;next=/">view the network as of {then}</a>'
        " to see it as it was then.</p>"
    ) in text
    assert text.count('id="stale"') == 1  # said once
    assert 'id="stale"' not in _home(WebSettings(db=db_url, now=NOW))


def test_the_app_runs_at_the_databases_fixed_time(db_url: str, tmp_path: Path) -> None:
    build_store(db_url, tmp_path)
    with open_store(db_url) as store:
        with store.sessions.begin() as session:
            fix_now(session, now=NOW, actor="test")
        _, token = new_token(store=store, email="viewer@example.org", now=NOW)
    with TestClient(create_app(WebSettings(db=db_url))) as client:  # no `now` given
        client.headers["Authorization"] = f"Bearer {token}"
        status = client.get("/api/status")
        assert status.status_code == 200, status.text
        assert status.json()["scored_at"] == "2026-06-01T12:00:00Z"  # NOW, not the clock
    assert 'id="stale"' not in _home(WebSettings(db=db_url))
