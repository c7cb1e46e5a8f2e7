"""Loading a checked backup's payload into a database (`store/dump.py` made it,
`store/archive.py` checked it): at the backup's own schema revision, then migrated to the
newest by `store/migrate.py`.

- `load_portable`: the Parquet files into the tables of a database freshly migrated to the
  backup's revision, in one transaction (ADBC ingest; parents before children), each column
  cast to the target's own type; the row counts are checked before it commits, and on
  PostgreSQL every serial column's sequence is moved past the highest id restored.
- `pg_restore`: a `pg_dump -Fc` payload into an empty PostgreSQL database, in one transaction.
- `set_aside` / `put_back` / `drop_aside`: a forced restore into a PostgreSQL database that
  holds data, all or nothing. Its schema (`current_schema()`, usually `public`) is renamed
  aside and an empty one of the same name, owner and grants made in its place (one
  transaction); the restore loads into that as into an empty database; on success the old
  schema is dropped, on any failure the new one is dropped and the old one renamed back (one
  transaction). Only if the process dies half-way is the old data left in the schema set
  aside (`karmabank_before_restore_<time>`), whole, to rename back by hand.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from karmabank.errors import BackupError
from karmabank.store import arrow_io, migrate
from karmabank.store.dump import count_rows, libpq_target, quoted, user_tables


def known_revision(revision: str) -> bool:
    """Whether this version's migrations know `revision` (a newer backup's is unknown)."""
    if revision == migrate.head_revision():
        return True
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


@dataclass(frozen=True)
class SetAside:
    schema: str  # the restore's schema: the same name as the one set aside
    aside: str  # where the old tables are until the restore ends


def set_aside(engine: Engine) -> SetAside:
    """Rename the database's schema aside and make an empty one in its place, with its owner
    (when this role may give it) and its grants, in one transaction."""
    with engine.begin() as conn:
        schema = str(conn.execute(text("SELECT current_schema()")).scalar_one())
        owner, grants = conn.execute(
            text(
                "SELECT pg_get_userbyid(nspowner), coalesce((SELECT array_agg(CASE WHEN"
                " a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END"
                " || ' ' || a.privilege_type) FROM aclexplode(n.nspacl) a), '{}')"
                " FROM pg_namespace n WHERE nspname = :s"
            ),
            {"s": schema},
        ).one()
        aside = f"karmabank_before_restore_{datetime.now(UTC):%Y%m%d%H%M%S}"
        conn.execute(text(f"ALTER SCHEMA {quoted(schema)} RENAME TO {quoted(aside)}"))
        conn.execute(text(f"CREATE SCHEMA {quoted(schema)}"))
        for grant in grants:
            grantee, _, privilege = str(grant).rpartition(" ")
            conn.execute(text(f"GRANT {privilege} ON SCHEMA {quoted(schema)} TO {grantee}"))
        try:
            with conn.begin_nested():
                conn.execute(text(f"ALTER SCHEMA {quoted(schema)} OWNER TO {quoted(owner)}"))
        except DBAPIError:
            pass  # a role that may not give it away: the restoring role owns the new schema
    return SetAside(schema, aside)


def put_back(engine: Engine, moved: SetAside) -> None:
    """Drop the restore's schema and rename the one set aside back, in one transaction."""
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {quoted(moved.schema)} CASCADE"))
        conn.execute(text(f"ALTER SCHEMA {quoted(moved.aside)} RENAME TO {quoted(moved.schema)}"))


def drop_aside(engine: Engine, moved: SetAside) -> None:
    """The restore done: drop the old schema and everything in it."""
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {quoted(moved.aside)} CASCADE"))


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
        lines = done.stderr.strip().splitlines()
        first = next((line for line in lines if "error:" in line), lines[-1] if lines else "")
        raise BackupError(f"pg_restore failed: {first or 'no message'}")


def table_counts(engine: Engine) -> dict[str, int]:
    """Every table's row count (not Alembic's)."""
    names = [t.name for t in user_tables(engine)]
    with engine.connect() as conn:
        return {
            n: int(conn.execute(text(f"SELECT count(*) FROM {quoted(n)}")).scalar_one())
            for n in names
        }
