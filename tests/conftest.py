"""Fixtures: real stores on SQLite files and on a real PostgreSQL server.

`store` runs a test once per backend. PostgreSQL comes from $KARMABANK_TEST_PG (set by
`scripts/test-postgres`, which `make test` uses); each test gets its own database cloned
from a template migrated once. Without the variable the PostgreSQL runs skip with the
reason, unless $KARMABANK_REQUIRE_PG=1 (CI), where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from karmabank.store.open import Store, open_store

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

BACKENDS = ["sqlite", "postgresql"]


def pg_server_url() -> str | None:
    url = os.environ.get("KARMABANK_TEST_PG")
    if not url:
        if os.environ.get("KARMABANK_REQUIRE_PG") == "1":
            pytest.fail("KARMABANK_REQUIRE_PG=1 but KARMABANK_TEST_PG is not set")
        pytest.skip(
            "PostgreSQL tests need a server: run them through scripts/test-postgres "
            "(make test does), or set KARMABANK_TEST_PG"
        )
    return url


def _admin(url: str) -> tuple[str, str]:
    base, _, _db = url.rpartition("/")
    return base, _db


class PgDatabases:
    """Creates databases on the test server: a migrated template, then clones of it."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.base, dbname = _admin(url)
        self.conninfo = url.replace("postgresql+psycopg://", "postgresql://")
        self.conn = psycopg.connect(self.conninfo, autocommit=True)
        self.template = f"kb_template_{uuid.uuid4().hex[:8]}"
        self.created: list[str] = []
        self.conn.execute(f'CREATE DATABASE "{self.template}"')
        with open_store(f"{self.base}/{self.template}", create=True):
            pass

    def fresh(self, migrated: bool = True) -> str:
        name = f"kb_{uuid.uuid4().hex[:12]}"
        tmpl = f' TEMPLATE "{self.template}"' if migrated else ""
        self.conn.execute(f'CREATE DATABASE "{name}"{tmpl}')
        self.created.append(name)
        return f"{self.base}/{name}"

    def drop(self, url: str) -> None:
        name = url.rpartition("/")[2]
        self.conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        for name in [*self.created, self.template]:
            self.conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.conn.close()


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PgDatabases]:
    url = pg_server_url()
    assert url is not None
    dbs = PgDatabases(url)
    yield dbs
    dbs.close()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty, migrated database on each backend."""
    if request.param == "sqlite":
        url = str(tmp_path / "karmabank.db")
        with open_store(url, create=True):
            pass
        yield url
    else:
        dbs: PgDatabases = request.getfixturevalue("pg_databases")
        url = dbs.fresh()
        yield url
        dbs.drop(url)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    with open_store(db_url) as s:
        yield s


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    with open_store(str(tmp_path / "karmabank.db"), create=True) as s:
        yield s


def require_data(*parts: str) -> Path:
    path = DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data set not found at {path} (CI always has ../shared/data)")
    return path


@pytest.fixture(autouse=True)
def _columns_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The columnar copy of a PostgreSQL database goes under the test's folder, not ~/.cache:
    for commands, as a user says it ($KARMABANK_COLUMNS_DIR, read by the CLI); for stores the
    tests open themselves, as the default folder."""
    monkeypatch.setenv("KARMABANK_COLUMNS_DIR", str(tmp_path / "columns"))
    monkeypatch.setattr("karmabank.store.open.COLUMNS_HOME", tmp_path / "columns")
