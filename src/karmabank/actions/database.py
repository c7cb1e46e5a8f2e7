"""Opening, upgrading and closing databases: the edges' way to the store.

The CLI and the web app reach the database only through actions (`tests/test_layering.py`):
these small use cases hand them an open `Store`, a handle they pass back to every other action
and close when done, bring a database to the newest schema (`karmabank init`), and close what
a process left open before it exits (`karmabank.cli.run`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from karmabank.store.open import Store


class DatabaseSettings(Protocol):
    """Where a database is and the folders it keeps beside it (`karmabank.settings.Settings`,
    the web app's `WebSettings`)."""

    @property
    def db(self) -> str: ...
    @property
    def columns_base(self) -> Path | None: ...
    @property
    def templates_dir(self) -> Path | None: ...


def open_database(*, settings: DatabaseSettings, create: bool = False) -> Store:
    """The database `settings.db`, open. With `create`, created or upgraded to the newest
    schema; without it, one that does not exist or is behind is refused with the command that
    fixes it (a `StoreError`)."""
    from karmabank.store.open import open_store

    return open_store(
        settings.db, create=create, columns_base=settings.columns_base,
        templates_dir=settings.templates_dir,
    )  # fmt: skip


def upgrade_database(*, db: str) -> tuple[str | None, str]:
    """Create the database `db`, or upgrade it to the newest schema: (revision before, after)."""
    from karmabank.store import migrate
    from karmabank.store.engine import make_engine

    engine = make_engine(db)
    try:
        return migrate.upgrade(engine)
    finally:
        engine.dispose()


def close_databases() -> None:
    """Close every database connection this process still holds (idempotent)."""
    from karmabank.store.engine import dispose_engines

    dispose_engines()
