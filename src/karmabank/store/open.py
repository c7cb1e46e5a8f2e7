"""Opening a karmabank database for a use case: engine, sessions, schema version check, and
the folders the database keeps its columnar copy and its custom templates in (given by the edge,
from `karmabank.settings`: nothing here reads the environment)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from karmabank.errors import StoreError
from karmabank.store import migrate
from karmabank.store.engine import database_url, make_engine, make_sessions

COLUMNS_HOME = Path("~/.cache/karmabank/columns")  # PostgreSQL's copies, unless told elsewhere


def columns_dir(url: str, base: Path | None = None) -> Path:
    """Where the database at `url` keeps its columnar copy (`store.columns`): beside a SQLite
    file, else under `base` (default COLUMNS_HOME) in a folder named by the database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return Path(str(parsed.database) + "-columns")
    shown = parsed.render_as_string(hide_password=True)
    digest = hashlib.sha256(shown.encode()).hexdigest()[:16]
    return (base or COLUMNS_HOME).expanduser() / f"{parsed.database or 'db'}-{digest}"


@dataclass(frozen=True)
class Store:
    """An open database: its URL, engine and session factory, the folder of its columnar copy,
    and the folder of draft templates that win over the built-ins (if one was given)."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    columns_dir: Path
    templates_dir: Path | None = None

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(
    db: str, *, create: bool = False, columns_base: Path | None = None,
    templates_dir: Path | None = None,
) -> Store:  # fmt: skip
    """Open `db`. With `create`, create or upgrade the schema; without it, refuse a database
    that does not exist or is not at the newest schema, with the command that fixes it.
    `columns_base` and `templates_dir`: `Settings.columns_base` and `Settings.templates_dir`."""
    url = database_url(db)
    parsed = make_url(url)
    if (
        not create
        and parsed.get_backend_name() == "sqlite"
        and parsed.database not in (None, "", ":memory:")
        and not Path(str(parsed.database)).exists()
    ):
        raise StoreError(f"no database at {parsed.database}: run `karmabank init --db {db}` first")
    engine = make_engine(db)
    shown = parsed.render_as_string(hide_password=True)
    try:
        current = migrate.current_revision(engine)
        if current != migrate.head_revision():
            if create:
                migrate.upgrade(engine)
            elif current is None:
                raise StoreError(f"{shown} is not a karmabank database yet: run `karmabank init`")
            else:
                raise StoreError(f"{shown} has an older schema: run `karmabank init` to upgrade it")
    except OperationalError as e:
        engine.dispose()
        raise StoreError(f"cannot open the database {shown}: {e.orig}") from None
    except StoreError:
        engine.dispose()
        raise
    return Store(
        url, engine, make_sessions(engine), columns_dir=columns_dir(url, columns_base),
        templates_dir=templates_dir,
    )  # fmt: skip
