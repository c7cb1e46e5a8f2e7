"""Loading a checked backup's payload into a database (`store/dump.py` made it,
`store/archive.py` checked it): at the backup's own schema revision, then migrated to the
newest by `store/migrate.py`.

- `load_portable`: the Parquet files into the tables of a database freshly migrated to the
  backup's revision, in one transaction (ADBC ingest; parents before children), each column
  cast to the target's own type; the row counts are checked before it commits, and on
  PostgreSQL every serial column's sequence is moved past the highest id restored.
- `pg_restore`: a `pg_dump -Fc` payload into an empty PostgreSQL database, in one transaction.
- `clear_postgresql`: drop every table of a PostgreSQL database (a forced restore).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pyarrow as pa
from sqlalchemy import Engine, text

from karmabank.errors import BackupError
from karmabank.store import arrow_io, migrate
from karmabank.store.dump import count_rows, libpq_target, quoted, user_tables


def known_revision(revision: str) -> bool:
    """Whether this version's migrations know `revision` (a newer backup's is unknown)."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        return ScriptDirectory(str(migrate.MIGRATIONS)).get_revision(revision) is not None
    except CommandError:
        return False


def migrate_to(engine: Engine, revision: str) -> None:
    """Create the schema of `revision` in an empty database."""
    from alembic import command

    command.upgrade(migrate.alembic_config(engine), revision)


def clear_postgresql(engine: Engine) -> None:
    """Drop every table of the database (its own and Alembic's), in one transaction."""
    from sqlalchemy import MetaData

    meta = MetaData()
    meta.reflect(engine)
    meta.drop_all(engine)


def load_portable(
    url: str, engine: Engine, folder: Path, counts: dict[str, int], shown: str
) -> dict[str, int]:
    """Load `folder/<table>.parquet` into the database at `url` (at the backup's revision,
    empty) in one transaction that commits only if every table ends with `counts` rows."""
    import pyarrow.parquet as pq

    tables = {t.name: t for t in user_tables(engine)}
    missing = sorted(set(counts) - set(tables))
    if missing:
        raise BackupError(f"{shown} holds tables its schema revision does not have: {missing}")
    with arrow_io.connect(url, engine) as conn:
        for name, table in tables.items():
            if name not in counts:
                continue
            schema = arrow_io.schema_of(table)
            data = pq.read_table(folder / f"{name}.parquet")
            if not set(schema.names) <= set(data.column_names):
                raise BackupError(f"{shown}: {name} lacks columns its schema revision has")
            try:
                data = data.select(schema.names).cast(schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
                raise BackupError(f"{shown}: {name} does not fit its table: {e}") from None
            arrow_io.append(conn, name, data)
            del data
        with conn.cursor() as cur:
            loaded = count_rows(cur, [n for n in tables if n in counts])
            if loaded != counts:
                conn.rollback()
                raise BackupError(f"{shown}: the restored counts differ from the manifest's")
            if not arrow_io.is_sqlite(conn):
                _move_sequences(cur, list(tables))
        conn.commit()
    return loaded


def _move_sequences(cur: object, names: list[str]) -> None:
    """Every serial column's sequence just past the highest value restored (PostgreSQL: rows
    loaded with their ids leave the sequences where they were)."""
    run = cur.execute  # type: ignore[attr-defined]
    fetch = cur.fetchall  # type: ignore[attr-defined]
    run(
        "SELECT table_name, column_name, pg_get_serial_sequence(quote_ident(table_name),"
        " column_name) FROM information_schema.columns WHERE table_schema = current_schema()"
    )
    serials = [(str(t), str(c), str(s)) for t, c, s in fetch() if s and t in names]
    for table, column, sequence in serials:
        run(
            f"SELECT setval('{sequence}', coalesce(max({quoted(column)}), 0) + 1, false)"
            f" FROM {quoted(table)}"
        )
        fetch()


def pg_restore(url: str, binary: Path, dump: Path) -> None:
    """`pg_restore` a custom-format dump into the (empty) database at `url`, all or nothing."""
    with libpq_target(url) as target:
        done = subprocess.run(
            [str(binary), "--no-owner", "--no-privileges", "--single-transaction",
             "--exit-on-error", f"--dbname={target}", str(dump)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupError(f"pg_restore failed: {last}")


def table_counts(engine: Engine) -> dict[str, int]:
    """Every table's row count (not Alembic's)."""
    names = [t.name for t in user_tables(engine)]
    with engine.connect() as conn:
        return {
            n: int(conn.execute(text(f"SELECT count(*) FROM {quoted(n)}")).scalar_one())
            for n in names
        }
