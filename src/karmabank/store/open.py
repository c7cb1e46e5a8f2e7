"""Opening a karmabank database for a use case: engine, sessions, schema version check."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from karmabank.errors import StoreError
from karmabank.store import migrate
from karmabank.store.engine import database_url, make_engine, make_sessions


@dataclass(frozen=True)
class Store:
    """An open database: its URL, engine and session factory."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(db: str, *, create: bool = False) -> Store:
    """Open `db`. With `create`, create or upgrade the schema; without it, refuse a database
    that does not exist or is not at the newest schema, with the command that fixes it."""
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
    return Store(url, engine, make_sessions(engine))
