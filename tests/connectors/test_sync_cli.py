"""The connector commands as a user runs them, over the replay server, on SQLite and
PostgreSQL: `connect`, `connections`, `sync`, `disconnect`; a `karmabank sync` process killed
with SIGKILL while a page is on its way, then re-run (nothing lost, nothing twice); and the
secret in no output, no log line and no database row."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from karmabank.store.connections import Connection
from karmabank.store.open import open_store
from karmabank.store.tables import Activity, Base, ImportRun
from tests.cli_helpers import Result, run
from tests.connectors.mastodon_replay import (
    FIRST_SYNC,
    NOTIFICATIONS,
    NOW,
    TOKEN,
    VERIFY,
    serve_account,
    serve_history,
)
from tests.connectors.replay import Replay, ReplayServer
from tests.connectors.test_bluesky import PASSWORD as APP_PASSWORD

VARIABLE = "KB_MASTODON_TOKEN"


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as s:
        serve_account(s)
        yield s


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VARIABLE, TOKEN)
    monkeypatch.setenv("KARMABANK_SYNC_BACKOFF", "0.001")
    monkeypatch.delenv("KARMABANK_SECRETS_FILE", raising=False)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    return run(capsys, *args, "--now", NOW.isoformat())


def connect(capsys: pytest.CaptureFixture[str], server: ReplayServer, db_url: str) -> Result:
    return cli(capsys, "connect", "mastodon", "--instance", server.url, "--token-env", VARIABLE,
               "--name", "org", "--db", db_url)  # fmt: skip


def no_secret_in_the_database(db_url: str) -> int:
    """Every row of every table, as text, holds no trace of the token; the rows read."""
    rows = 0
    with open_store(db_url) as store, store.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                rows += 1
                text = repr(tuple(row))
                assert TOKEN not in text, f"the token is in {table.name}"
                assert APP_PASSWORD not in text, f"the app password is in {table.name}"
    return rows


@pytest.mark.usefixtures("env")
def test_connect_list_sync_disconnect(
    db_url: str, server: ReplayServer, capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)
    serve_history(server, page_2_first=(Replay(429, "", {"Retry-After": "1"}),))
    outputs: list[Result] = []
    r = connect(capsys, server, db_url)
    outputs.append(r)
    assert r.code == 0, r.err
    assert r.out == (
        "Connected org: mastodon:@karmabank@example.social is the organization's; "
        f"`karmabank sync` reads it with ${VARIABLE}\n"
    )
    outputs.append(r := cli(capsys, "sync", "--db", db_url))
    assert r.code == 0, r.err
    assert r.out == (
        "org: 6 imported, 0 duplicates, 1 skipped, 1 quarantined (6 pages); follower counts"
        " of 2 people in the network (1 other follower not in it yet)"
        " (first sync: since 2026-09-02)\n"
    )
    assert r.err.splitlines() == [
        "first sync: back to 2026-09-02",
        "org: rate limited (429); waiting 1 s",
        "reading the follower list (their follower counts: reach)",
    ]
    outputs.append(r := run(capsys, "connections", "--json", "--db", db_url))
    (listed,) = json.loads(r.out)
    assert (listed["name"], listed["cursor"], listed["secret_env"]) == ("org", "110", VARIABLE)
    assert listed["last_sync_at"] == NOW.isoformat() and listed["last_result"].startswith("6 ")
    outputs.append(r := run(capsys, "connections", "--db", db_url))
    assert "org" in r.out and "110" in r.out and "$KB_MASTODON_TOKEN" in r.out
    outputs.append(r := cli(capsys, "sync", "--json", "--db", db_url, "--connection", "org"))
    (again,) = json.loads(r.out)["connections"]
    assert (again["imported"], again["pages"], again["cursor"]) == (0, 0, "110")

    # the token went to the instance, and nowhere else: no output, log line or row holds it
    assert {q.headers["authorization"] for q in server.requests} == {f"Bearer {TOKEN}"}
    assert no_secret_in_the_database(db_url) > 10
    for out in outputs:
        assert TOKEN not in out.out + out.err
    assert TOKEN not in caplog.text

    r = cli(capsys, "disconnect", "org", "--db", db_url)
    assert (r.code, r.out) == (0, "Disconnected org; its activities stay\n")
    r = cli(capsys, "disconnect", "org", "--db", db_url)
    assert (r.code, r.err) == (1, "error: no connection 'org' (connections: none)\n")


@pytest.mark.usefixtures("env")
def test_errors_are_one_line(
    db_url: str, server: ReplayServer, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:  # fmt: skip
    monkeypatch.delenv(VARIABLE)
    r = connect(capsys, server, db_url)
    assert (r.code, r.out) == (1, "")
    assert r.err == (
        "error: org: the secret is not set: $KB_MASTODON_TOKEN is not in the environment\n"
    )
    secrets = tmp_path / "secrets.env"  # the secrets file, if the variable is not set
    secrets.write_text(f"# karmabank\n{VARIABLE}={TOKEN}\n")
    secrets.chmod(0o644)
    monkeypatch.setenv("KARMABANK_SECRETS_FILE", str(secrets))
    r = connect(capsys, server, db_url)
    assert r.code == 1 and r.err.startswith(f"error: secrets file {secrets} is open to others")
    secrets.chmod(0o600)
    assert connect(capsys, server, db_url).code == 0

    server.answer("GET", NOTIFICATIONS, Replay(401, {"error": "The access token was revoked"}))
    r = cli(capsys, "sync", "--db", db_url)
    assert r.code == 1 and r.out == ""
    (line,) = r.err.splitlines()
    assert line.startswith("error: org: the platform refused the credentials (401 at http://")
    assert line.endswith(f"check ${VARIABLE} (revoked, expired or wrong?)")
    server.answer("GET", VERIFY, Replay(401, {"error": "The access token is invalid"}))
    r = connect(capsys, server, db_url)
    assert r.code == 1 and len(r.err.splitlines()) == 1 and "refused the credentials" in r.err
    r = cli(capsys, "sync", "--since", "soon", "--db", db_url)
    assert (r.code, r.err) == (
        1, "error: since 'soon': expected a span such as 90d, 12w, 36h, or an ISO date\n"
    )  # fmt: skip
    assert TOKEN not in r.out + r.err
    no_secret_in_the_database(db_url)


def activities(db_url: str) -> tuple[int, int]:
    with open_store(db_url) as store, store.sessions() as s:
        total = s.scalar(select(func.count()).select_from(Activity)) or 0
        keys = s.scalar(select(func.count(func.distinct(Activity.source_key)))) or 0
    return total, keys


@pytest.mark.usefixtures("env")
def test_sigkill_mid_sync_then_rerun(
    db_url: str, server: ReplayServer, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_history(server, delay_page_2=60)
    assert connect(capsys, server, db_url).code == 0
    cmd = [sys.executable, "-m", "karmabank", "sync", "--json", "--db", db_url,
           "--now", NOW.isoformat()]  # fmt: skip
    environ = {**os.environ, VARIABLE: TOKEN}
    proc = subprocess.Popen(cmd, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    cursor = None
    with open_store(db_url) as store:
        while time.monotonic() < deadline and proc.poll() is None:
            with store.sessions() as s:
                cursor = s.scalar(select(Connection.cursor))
            if cursor is not None and any(r.param("max_id") for r in server.requests):
                break  # page 1 committed, page 2 asked for (the server stalls it)
            time.sleep(0.02)
    assert proc.poll() is None, proc.communicate()
    os.kill(proc.pid, signal.SIGKILL)
    out, err = proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert cursor == "back:110:108"  # page 1's rows and its cursor, committed together
    assert activities(db_url) == (3, 3)
    assert TOKEN not in (out + err).decode()

    done = subprocess.run(cmd, env=environ, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["interrupted_runs"] == [1]
    (synced,) = report["connections"]
    assert (synced["imported"], synced["duplicates"], synced["cursor"]) == (3, 0, "110")
    assert activities(db_url) == (len(FIRST_SYNC), len(FIRST_SYNC))
    with open_store(db_url) as store, store.sessions() as s:
        statuses = dict(s.execute(select(ImportRun.id, ImportRun.status)).all())
    assert statuses == {1: "interrupted", 2: "done"}
    assert TOKEN not in done.stdout + done.stderr
    no_secret_in_the_database(db_url)


def test_connect_bluesky_and_sync(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.connectors import test_bluesky as bsky
    from tests.connectors.replay import page

    monkeypatch.setenv("KB_BSKY", bsky.PASSWORD)
    with ReplayServer() as s:
        s.answer("POST", bsky.SESSION, page(bsky.fixture("createSession")))
        s.answer("GET", bsky.PROFILE, page(bsky.fixture("getProfile")))
        bsky.serve_history(s)
        r = cli(capsys, "connect", "bluesky", "--handle", f"@{bsky.HANDLE}", "--app-password-env",
                "KB_BSKY", "--service", s.url, "--db", db_url)  # fmt: skip
        assert r.code == 0, r.err
        name = f"bluesky:{bsky.ORG.key}"
        assert r.out.startswith(f"Connected {name}: bluesky:{bsky.ORG.key} is the organization's")
        r = cli(capsys, "sync", "--since", "2026-09-01", "--json", "--db", db_url)
        assert r.code == 0, r.err
        (done,) = json.loads(r.out)["connections"]
        assert (done["connection"], done["imported"], done["pages"]) == (name, 7, 3)
        assert done["first_sync_since"] == "2026-09-01T00:00:00+00:00"
        assert json.loads(s.requests_to(bsky.SESSION)[0].body)["identifier"] == bsky.HANDLE
        assert bsky.PASSWORD not in r.out + r.err
    rows = no_secret_in_the_database(db_url)
    assert rows > 10
