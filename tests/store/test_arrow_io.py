"""`arrow_io.read_table` gives the same Arrow table on an ADBC connection (the column-wise
path) and on a SQLAlchemy connection (the small reads of quick commands), on both backends:
nulls, SQLite's 0/1 booleans and integer-valued floats included."""

from __future__ import annotations

from datetime import timedelta

import pyarrow as pa

from karmabank.actions.recording import record_activity
from karmabank.actions.scoring import flagged_people
from karmabank.frames import FLAGS_SCHEMA
from karmabank.model import Direction
from karmabank.store import arrow_io
from karmabank.store.open import Store
from tests.conftest import NOW

ACTIVITY = pa.schema(
    [("id", pa.int64()), ("verb", pa.string()), ("channel", pa.string()),
     ("weight", pa.float64()), ("text", pa.string())]
)  # fmt: skip


def test_both_paths_read_the_same_table(store: Store) -> None:
    record_activity(store=store, direction=Direction.IN, ref="ann@example.org", verb="comment",
                    at=NOW - timedelta(days=2), now=NOW, channel="blog", text="Hello")  # fmt: skip
    record_activity(store=store, direction=Direction.IN, ref="bob@example.org", verb="like",
                    at=NOW - timedelta(days=1), now=NOW, weight=3)  # fmt: skip
    from karmabank.actions.people import set_flag
    from karmabank.model import Flag

    set_flag(store=store, ref="bob@example.org", flag=Flag.DO_NOT_CONTACT, on=True, now=NOW,
             actor="test")  # fmt: skip
    sql = "(SELECT id, verb, channel, weight, text FROM activity) AS a"
    with store.engine.connect() as conn:
        small = arrow_io.read_table(conn, sql, ACTIVITY, "ORDER BY id")
        small_flags = flagged_people(conn)
    with arrow_io.connect(store.url, store.engine) as conn:
        column_wise = arrow_io.read_table(conn, sql, ACTIVITY, "ORDER BY id")
        column_wise_flags = flagged_people(conn)
    assert small.schema == ACTIVITY
    assert small.equals(column_wise)
    rows = small.to_pylist()
    assert [r["verb"] for r in rows] == ["comment", "like"]
    assert rows[1]["text"] is None
    assert rows[1]["weight"] == 3.0 and isinstance(rows[1]["weight"], float)
    assert small_flags.schema == FLAGS_SCHEMA
    assert small_flags.equals(column_wise_flags)
    [flagged] = small_flags.to_pylist()
    assert flagged["do_not_contact"] is True and flagged["team"] is False
