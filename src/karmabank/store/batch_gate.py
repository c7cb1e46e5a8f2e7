"""PostgreSQL: import batches against the writes that must see every batch whole (issue 18).

An import or sync batch looks its identities up, then writes its rows, in one transaction. On
SQLite that transaction holds the database's only write lock from its first statement, so
nothing can come between the lookup and the commit. On PostgreSQL another transaction can: an
erasure committing after a batch looked a person's identity up (and before the batch commits)
would find nothing of the batch's rows to erase, and the batch would then store them on the
erased person's empty row; a retention pass reading `max(activity.id)` while a batch holds ids
it has not committed yet would mark those rows checked before their texts are there.

So on PostgreSQL each batch holds this gate *shared* for its transaction (batches run side by
side), and an erasure or a retention pass holds it *alone* for theirs: they wait for the
batches in flight to commit (seconds, a batch, not a whole import), and a batch starting
meanwhile waits for them. Transaction-level advisory locks (`pg_advisory_xact_lock*`): released
at commit or rollback, by a crash too. The key's class differs from the import runs' locks
(`actions/import_runs.py`), which `live_runs` reads from `pg_locks`. On SQLite: nothing to do.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

GATE_CLASS = 0x6B67  # "kg": the first key of the gate's advisory lock
GATE_KEY = 1


def batch_shared(conn: Connection) -> None:
    """Called first in an import batch's transaction."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock_shared(:c, :k)"),
                     {"c": GATE_CLASS, "k": GATE_KEY})  # fmt: skip


def batches_held_off(conn: Connection) -> None:
    """Called first in an erasure's or a retention pass's transaction: waits for the batches in
    flight to commit, and holds new ones off until this transaction ends."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:c, :k)"),
                     {"c": GATE_CLASS, "k": GATE_KEY})  # fmt: skip
