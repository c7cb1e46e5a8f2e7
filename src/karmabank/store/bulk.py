"""Fast, set-wise writes for imports: resolve identities to persons, insert activities.

Everything here runs inside the caller's transaction on one connection, so a batch is
stored whole or not at all. SQLite uses `executemany` on the driver connection;
PostgreSQL uses `COPY` into a temporary table and one `INSERT ... ON CONFLICT DO NOTHING`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, text

from karmabank.model import IdentityKey
from karmabank.names import name_key
from karmabank.store.erasures import erased_owners
from karmabank.store.identity_names import MAX_NAMES_PER_IDENTITY

ACTIVITY_COLUMNS = (
    "source_key", "occurred_at", "person_id", "verb", "direction", "channel",
    "object", "text", "target_id", "weight", "import_run_id",
)  # fmt: skip
ActivityTuple = tuple[
    str, int, int, str, str, str, str | None, str | None, int | None, float | None, int | None
]
_LOOKUP_CHUNK = 5000


class BulkWriter:
    """Set-wise writes on one connection; the caller owns the transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name
        self.dbapi: Any = conn.connection.driver_connection

    # -- persons and identities -------------------------------------------------------------
    def lookup(self, keys: Iterable[IdentityKey]) -> dict[IdentityKey, tuple[int, bool]]:
        """Existing identities -> (person id, person erased); an identity of an erased person
        (held by nobody, a tombstone: `store/erasures.py`) -> (their empty row, True)."""
        by_platform: dict[str, list[str]] = {}
        for k in keys:
            by_platform.setdefault(k.platform, []).append(k.key)
        found: dict[IdentityKey, tuple[int, bool]] = {}
        sql = (
            "SELECT i.key, i.person_id, p.erased"
            " FROM identity i JOIN person p ON p.id = i.person_id"
            " WHERE i.platform = {p} AND i.key {match}"
        )
        cur = self.dbapi.cursor()
        try:
            for platform, plist in by_platform.items():
                for i in range(0, len(plist), _LOOKUP_CHUNK):
                    chunk = plist[i : i + _LOOKUP_CHUNK]
                    if self.dialect == "sqlite":
                        marks = ", ".join("?" * len(chunk))
                        cur.execute(sql.format(p="?", match=f"IN ({marks})"), [platform, *chunk])
                    else:  # one array parameter: no query text to parse per key
                        cur.execute(sql.format(p="%s", match="= ANY(%s)"), [platform, chunk])
                    for key, pid, erased in cur.fetchall():
                        found[IdentityKey(platform, key)] = (int(pid), bool(erased))
        finally:
            cur.close()
        missing = (IdentityKey(p, k) for p, ks in by_platform.items() for k in ks)
        found.update(erased_owners(self.conn, [k for k in missing if k not in found]))
        return found

    def create_persons(
        self, keys: Sequence[IdentityKey], names: dict[IdentityKey, str], created_at: int
    ) -> dict[IdentityKey, int]:
        """A new person for each identity key, with its identity; returns their ids."""
        if not keys:
            return {}
        ids = self._reserve_ids("person", len(keys))
        persons = [
            (pid, names.get(k), name_key(names.get(k)), created_at)
            for pid, k in zip(ids, keys, strict=True)
        ]
        idents = [(pid, k.platform, k.key) for pid, k in zip(ids, keys, strict=True)]
        if self.dialect == "sqlite":
            cur = self.dbapi.cursor()
            cur.executemany(
                "INSERT INTO person (id, name, name_key, name_manual, team, bot, do_not_contact,"
                " erased, created_at) VALUES (?, ?, ?, 0, 0, 0, 0, 0, ?)",
                persons,
            )
            cur.executemany(
                "INSERT INTO identity (person_id, platform, key) VALUES (?, ?, ?)", idents
            )
        else:
            with self.dbapi.cursor() as cur:
                with cur.copy(
                    "COPY person (id, name, name_key, name_manual, team, bot, do_not_contact,"
                    " erased, created_at) FROM STDIN"
                ) as cp:
                    for pid, name, key, at in persons:
                        cp.write_row((pid, name, key, False, False, False, False, False, at))
                with cur.copy("COPY identity (person_id, platform, key) FROM STDIN") as cp:
                    for row in idents:
                        cp.write_row(row)
        return dict(zip(keys, ids, strict=True))

    def add_identities(self, owners: dict[IdentityKey, int]) -> None:
        """Give existing persons identities nobody holds (a source stated them: `also`)."""
        if owners:
            self.conn.execute(
                text("INSERT INTO identity (person_id, platform, key) VALUES (:p, :platform, :k)"),
                [{"p": pid, "platform": k.platform, "k": k.key} for k, pid in owners.items()],
            )

    def _reserve_ids(self, table: str, n: int) -> list[int]:
        if self.dialect == "sqlite":
            # The batch's transaction already holds SQLite's write lock (see begin_batch),
            # so nobody else can take these ids before we insert them.
            top = self.conn.execute(text(f"SELECT coalesce(max(id), 0) FROM {table}")).scalar_one()
            return list(range(int(top) + 1, int(top) + 1 + n))
        with self.dbapi.cursor() as cur:
            cur.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, n],
            )
            return [int(r[0]) for r in cur.fetchall()]

    def update_names(self, names: dict[int, str]) -> None:
        """Names seen in an import, for persons whose name was not typed by a person."""
        if names:
            self.conn.execute(
                text(
                    "UPDATE person SET name = :name, name_key = :key WHERE id = :id"
                    " AND NOT name_manual AND (name IS NULL OR name <> :name)"
                ),
                [{"id": pid, "name": name, "key": name_key(name)} for pid, name in names.items()],
            )

    def record_names(self, seen: Sequence[tuple[IdentityKey, str, str]]) -> None:
        """Keep each (identity, name key, name) as a distinct name the identity was seen with,
        at most `MAX_NAMES_PER_IDENTITY` per identity (`store/identity_names.py`)."""
        if not seen:
            return
        mark = "?" if self.dialect == "sqlite" else "%s"
        sql = (
            "INSERT INTO identity_name (identity_id, name_key, name)"
            f" SELECT i.id, {mark}, {mark} FROM identity i"
            f" WHERE i.platform = {mark} AND i.key = {mark}"
            " AND (SELECT count(*) FROM identity_name n WHERE n.identity_id = i.id)"
            f" < {MAX_NAMES_PER_IDENTITY}"
            " ON CONFLICT (identity_id, name_key) DO NOTHING"
        )
        rows = [(key, name, k.platform, k.key) for k, key, name in seen]
        if self.dialect == "sqlite":
            self.dbapi.cursor().executemany(sql, rows)
        else:
            with self.dbapi.cursor() as cur:
                cur.executemany(sql, rows)

    def update_followers(self, counts: dict[int, int]) -> None:
        """Audience sizes a source reported (they feed reach)."""
        if counts:
            self.conn.execute(
                text("UPDATE person SET followers = :n WHERE id = :id"),
                [{"id": pid, "n": n} for pid, n in counts.items()],
            )

    # -- activities ---------------------------------------------------------------------------
    def insert_activities(self, rows: Sequence[ActivityTuple]) -> int:
        """Insert activities, skipping any whose source_key is stored; returns how many
        were new."""
        if not rows:
            return 0
        cols = ", ".join(ACTIVITY_COLUMNS)
        if self.dialect == "sqlite":
            cur = self.dbapi.cursor()
            cur.executemany(
                f"INSERT INTO activity ({cols}) VALUES ({', '.join('?' * len(ACTIVITY_COLUMNS))})"
                " ON CONFLICT (source_key) DO NOTHING",
                rows,
            )
            return int(cur.rowcount)
        with self.dbapi.cursor() as cur:
            cur.execute(
                "CREATE TEMP TABLE IF NOT EXISTS _import_activity ON COMMIT DELETE ROWS"
                f" AS SELECT {cols} FROM activity WITH NO DATA"
            )
            with cur.copy(f"COPY _import_activity ({cols}) FROM STDIN") as cp:
                for row in rows:
                    cp.write_row(row)
            cur.execute(
                f"INSERT INTO activity ({cols}) SELECT {cols} FROM _import_activity"
                " ON CONFLICT (source_key) DO NOTHING"
            )
            n = int(cur.rowcount)
            cur.execute("TRUNCATE _import_activity")
            return n
