"""Opening a database: URLs, engines with the right pragmas, sessions."""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from karmabank.errors import ConfigError
from karmabank.store.sqlite_gate import gated

# every engine this process made, so that the console script can close what is still open
# before it exits (see `karmabank.cli.run`): SQLite folds its WAL into the file on close
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def database_url(db: str) -> str:
    """Turn what a user typed after `--db` into a SQLAlchemy URL.

    A plain path is a SQLite file; `postgresql://` and `postgres://` use psycopg 3.
    """
    db = db.strip()
    if not db:
        raise ConfigError("empty database URL")
    if "://" not in db:
        return f"sqlite:///{Path(db).expanduser().resolve()}"
    for prefix in ("postgresql://", "postgres://"):
        if db.startswith(prefix):
            return "postgresql+psycopg://" + db[len(prefix) :]
    return db


def dispose_engines() -> None:
    """Close the connections of every engine still alive (idempotent)."""
    for engine in list(_ENGINES):
        engine.dispose()


def close_idle_connections(path: str) -> None:
    """Close the idle pooled connections of every engine of this process on the SQLite file at
    `path` (before another copy of SQLite opens it: `store/sqlite_gate.py`)."""
    target = Path(path).resolve()
    for engine in list(_ENGINES):
        url = engine.url
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            if Path(url.database).resolve() == target:
                engine.dispose()


def make_engine(db: str, **kwargs: Any) -> Engine:
    """An engine for `db`. SQLite runs in WAL mode with foreign keys enforced."""
    url = database_url(db)
    try:
        parsed = make_url(url)
    except ArgumentError as e:
        raise ConfigError(f"not a database URL: {db!r}") from e
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database
        if path and path != ":memory:" and not Path(path).parent.exists():
            raise ConfigError(f"folder of the database does not exist: {Path(path).parent}")
        if path and path != ":memory:" and "poolclass" not in kwargs:
            kwargs["poolclass"] = gated(path)  # one copy of SQLite at a time: store/sqlite_gate
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        _ENGINES.add(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        try:
            import psycopg  # noqa: F401
        except ImportError as e:  # pragma: no cover - depends on the install
            raise ConfigError(
                "PostgreSQL needs the postgres extra: pip install 'karmabank[postgres]'"
            ) from e
        from karmabank.store.tables import for_postgresql

        for_postgresql()
        engine = create_engine(url, **kwargs)
        _ENGINES.add(engine)
        return engine
    raise ConfigError(
        f"unsupported database {parsed.get_backend_name()!r}: use SQLite or PostgreSQL"
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA cache_size=-131072")  # 128 MiB: imports touch random index pages
    cur.close()


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
