"""Alembic environment: the engine comes from `karmabank.store.migrate`, never from a file."""

from alembic import context
from sqlalchemy import Engine, create_engine

from karmabank.store import connections, erasures, identity_names, merges, org_tables  # noqa: F401  (their tables join Base.metadata)
from karmabank.store.tables import Base

config = context.config
engine = config.attributes.get("engine")
if not isinstance(engine, Engine):  # `alembic` run by hand: KARMABANK_DB or ./karmabank.db
    from karmabank.settings import load_settings
    from karmabank.store.engine import database_url

    engine = create_engine(database_url(load_settings().db))

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
