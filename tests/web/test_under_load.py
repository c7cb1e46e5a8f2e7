"""The web app while a real import runs in another process on the same SQLite file: reads answer
200 from the last scores (and say so), writes are stored or answered 503 with Retry-After, never
500; the import completes whole and no accepted write is lost."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from karmabank.actions.accounts import add_user, new_token
from karmabank.actions.import_runs import run_lock
from karmabank.actions.importing import import_files
from karmabank.store.open import open_store
from karmabank.store.tables import Activity, ImportRun, ScoreState
from karmabank.web import WebSettings, create_app
from karmabank.web.security import SCORES_HEADER
from tests.conftest import NOW

ROWS = 150_000
PASSWORD = "correct horse battery staple"


def _base(db: str, folder: Path) -> str:
    """A small scored network and an owner's token."""
    rows = ["occurred_at,person,name,verb,direction,channel"]
    for i in range(300):
        for d in (2, 9, 30 + i % 40):
            at = (NOW - timedelta(days=d, minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
            rows.append(f"{at},p{i}@example.org,Person {i},comment,in,blog")
    f = folder / "base.csv"
    f.write_text("\n".join(rows) + "\n")
    with open_store(db, create=True) as store:
        import_files(store=store, fmt="csv", paths=[f], options={}, now=NOW)
        add_user(store=store, email="owner@example.org", role="owner", now=NOW,
                 password=PASSWORD)  # fmt: skip
        return new_token(store=store, email="owner@example.org", now=NOW)[1]


@pytest.mark.slow
def test_reads_and_writes_while_a_real_import_runs(tmp_path: Path) -> None:
    db = str(tmp_path / "karmabank.db")
    token = _base(db, tmp_path)
    edges = tmp_path / "edges.txt"
    with edges.open("w") as f:
        for i in range(ROWS):
            f.write(f"{i % 1999} {(i * 7919) % 2003 + 2000} {1_700_000_000 + i * 60}\n")
    auth = {"Authorization": f"Bearer {token}"}
    app = create_app(WebSettings(db=db, now=NOW))
    reads: dict[str, list[int]] = {}
    writes: list[tuple[int, str | None]] = []
    notes: set[str] = set()
    with TestClient(app) as client:
        assert client.get("/api/status", headers=auth).status_code == 200  # scored once
        cmd = [sys.executable, "-m", "karmabank", "import", "edgelist", str(edges), "--org", "0",
               "--db", db, "--batch-size", "5000", "--json"]  # fmt: skip
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            _load(client, auth, db, proc, reads, writes, notes)
        finally:
            if proc.poll() is None:
                proc.kill()
            out, err = proc.communicate()
        assert proc.returncode == 0, err
        # after the import, a read rescores over everything
        after = client.get("/api/status", headers=auth)
        assert after.status_code == 200 and SCORES_HEADER.lower() not in after.headers
    n_reads = sum(len(v) for v in reads.values())
    assert n_reads >= 20, f"only {n_reads} reads while the import ran: make it bigger"
    assert all(code == 200 for codes in reads.values() for code in codes)
    assert all(retry is not None and int(retry) >= 1 for code, retry in writes if code == 503)
    assert any("as of the last rescore" in n for n in notes), notes
    with open_store(db) as store, store.sessions() as s:
        stored = s.scalar(select(func.count()).select_from(Activity))
        recorded = sum(1 for code, _ in writes if code == 201)
        assert stored == 900 + ROWS + recorded  # the whole import, and every accepted write
        assert recorded >= 1
        assert s.scalars(select(ImportRun.status).order_by(ImportRun.id)).all() == ["done", "done"]


def _load(
    client: TestClient, auth: dict[str, str], db: str, proc: subprocess.Popen[str],
    reads: dict[str, list[int]], writes: list[tuple[int, str | None]], notes: set[str],
) -> None:  # fmt: skip
    """Reads and writes, one after another, for as long as the import runs."""
    with open_store(db) as store:  # wait until it is under way
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            with store.sessions() as s:
                if s.scalar(select(func.coalesce(func.sum(ImportRun.imported), 0))):
                    break
            time.sleep(0.01)
    i = 0
    while proc.poll() is None:
        for path in ("/api/people?limit=5", "/api/status", "/api/people/1", "/api/nurture"):
            r = client.get(path, headers=auth)
            reads.setdefault(path, []).append(r.status_code)
            assert r.status_code == 200, (path, r.status_code, r.text)
            if SCORES_HEADER.lower() in r.headers:
                notes.add(r.headers[SCORES_HEADER])
        r = client.post("/api/activities", headers=auth, json={
            "direction": "in", "person": "email:p1@example.org", "verb": "comment",
            "channel": "blog", "at": f"2026-05-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z",
        })  # fmt: skip
        i += 1
        assert r.status_code in (201, 503), (r.status_code, r.text)
        writes.append((r.status_code, r.headers.get("Retry-After")))


@pytest.mark.slow
def test_a_write_the_database_cannot_take_answers_503_with_retry_after(tmp_path: Path) -> None:
    """Another process's transaction holds SQLite's write lock past the busy timeout: reads
    still answer (WAL), a write waits, then answers 503 with Retry-After, and stores nothing."""
    db = str(tmp_path / "karmabank.db")
    token = _base(db, tmp_path)
    auth = {"Authorization": f"Bearer {token}"}
    app = create_app(WebSettings(db=db, now=NOW))
    with TestClient(app) as client:
        assert client.get("/api/status", headers=auth).status_code == 200
        holder = sqlite3.connect(db, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            assert client.get("/api/people?limit=3", headers=auth).status_code == 200
            r = client.post("/api/activities", headers=auth, json={
                "direction": "in", "person": "email:p1@example.org", "verb": "comment",
                "channel": "blog", "at": "2026-05-01T00:00:00Z",
            })  # fmt: skip
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert r.status_code == 503, r.text
        assert r.headers["Retry-After"] == "5"
        assert "database is busy" in r.json()["detail"]
        r = client.post("/api/activities", headers=auth, json={
            "direction": "in", "person": "email:p1@example.org", "verb": "comment",
            "channel": "blog", "at": "2026-05-01T00:00:00Z",
        })  # fmt: skip
        assert r.status_code == 201  # the retry is stored, once
    with open_store(db) as store, store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Activity)) == 901


@pytest.fixture
def scored(db_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    token = _base(db_url, tmp_path)
    with TestClient(create_app(WebSettings(db=db_url, now=NOW)), follow_redirects=False) as c:
        auth = {"Authorization": f"Bearer {token}"}
        assert c.get("/api/status", headers=auth).status_code == 200  # scored
        yield c, auth


def test_while_an_import_runs_reads_say_their_scores_are_the_last_rescores(
    scored: tuple[TestClient, dict[str, str]], db_url: str
) -> None:
    """An import under way (its run's lock held, as `import_files` holds it) and new data
    since the rescore: reads do not rescore, and the API and the pages say so."""
    client, auth = scored
    with open_store(db_url) as store:
        with store.sessions.begin() as s:
            run = ImportRun(format="csv", paths="[]", started_at=NOW, status="running")
            s.add(run)
            s.flush()
            run_id = run.id
        with run_lock(store, run_id):
            r = client.post("/api/activities", headers=auth, json={
                "direction": "in", "person": "email:p1@example.org", "verb": "comment",
                "channel": "blog", "at": "2026-05-01T00:00:00Z",
            })  # fmt: skip
            assert r.status_code == 201 and SCORES_HEADER.lower() not in r.headers  # a write
            with store.sessions() as s:
                computed = s.scalar(select(ScoreState.computed_at))
            status = client.get("/api/status", headers=auth)
            assert status.status_code == 200
            assert status.headers[SCORES_HEADER] == (
                "as of the last rescore (2026-06-01T12:00:00+00:00): an import is running;"
                " the next read after it rescores"
            )
            with store.sessions() as s:
                assert s.scalar(select(ScoreState.computed_at)) == computed  # no rescore
            _log_in(client)
            home = client.get("/")
            assert home.status_code == 200
            assert ('<p class="note" id="scores-note" role="note">Scores as of the last rescore'
                    in home.text)  # fmt: skip
            for other in ("/docs", "/login", "/no-such-page"):  # pages without the note
                assert client.get(other).status_code in (200, 404), other
        status = client.get("/api/status", headers=auth)  # the import ended: rescored
        assert status.status_code == 200 and SCORES_HEADER.lower() not in status.headers
        with store.sessions() as s:
            assert s.scalar(select(ScoreState.computed_at)) != computed
        assert 'id="scores-note"' not in client.get("/").text


def _log_in(client: TestClient) -> None:
    page = client.get("/login")
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert found is not None
    r = client.post("/login", data={"email": "owner@example.org", "password": PASSWORD,
                                    "csrf_token": found.group(1), "next": "/"})  # fmt: skip
    assert r.status_code == 303
