"""The models and the migrations must agree, on both backends; SQLite runs WAL with FKs."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from karmabank.store import connections, erasures, merges, migrate, org_tables
from karmabank.store.engine import make_engine
from karmabank.store.open import Store, open_store
from karmabank.store.tables import Base


def test_models_and_migrations_agree(store: Store) -> None:
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert merges.Merge.metadata is Base.metadata  # the merge tables are in the compared models
    assert org_tables.OptOut.metadata is Base.metadata  # and the org content and opt-out ones
    assert connections.Connection.metadata is Base.metadata  # and the connections
    assert erasures.ErasedIdentity.metadata is Base.metadata  # and erasure's tombstones
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


def test_partial_indexes_get_their_postgresql_predicate_with_a_postgresql_engine() -> None:
    """The models name PostgreSQL's options only once a PostgreSQL engine is made: a SQLite
    command never loads that dialect (0.1 s), a PostgreSQL one creates the same indexes."""
    import subprocess
    import sys

    from sqlalchemy.schema import CreateIndex

    code = (
        "import sys, karmabank.cli, karmabank.store.tables, karmabank.store.open;"
        "karmabank.cli._app();"
        "print('sqlalchemy.dialects.postgresql' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")  # never connects
    try:
        ddl = {
            str(ix.name): str(CreateIndex(ix).compile(dialect=engine.dialect))
            for table in ("person", "activity")
            for ix in Base.metadata.tables[table].indexes
        }
    finally:
        engine.dispose()
    assert ddl["ix_person_flagged"].endswith("WHERE team OR bot OR do_not_contact OR erased")
    assert ddl["ix_activity_target_id_occurred_at"].endswith("WHERE target_id IS NOT NULL")
    assert "WHERE" not in ddl["ix_activity_occurred_at"]
