"""The models and the migrations must agree, on both backends; SQLite runs WAL with FKs."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from karmabank.store import migrate
from karmabank.store.engine import make_engine
from karmabank.store.open import Store, open_store
from karmabank.store.tables import Base


def test_models_and_migrations_agree(store: Store) -> None:
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"


def test_database_is_at_head(store: Store) -> None:
    assert migrate.current_revision(store.engine) == migrate.head_revision()


def test_init_twice_changes_nothing(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        before, after = migrate.upgrade(engine)
    finally:
        engine.dispose()
    assert before == after == migrate.head_revision()


def test_sqlite_runs_wal_with_foreign_keys(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    with open_store(str(tmp_path / "k.db"), create=True) as s, s.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_head_constant_is_alembics_head() -> None:
    """`migrate.HEAD` lets every command check the schema without importing Alembic."""
    assert migrate.HEAD == migrate.scripts_head()
