"""Merge benchmark: `merge_people` and `unmerge` of one pair at a million persons, against the
same moves in plain SQL.

    .venv/bin/python bench/merge_bench.py [--people N] [--activities N] [--seed N]
                                          [--db PATH [--reuse]] [--repeat N]

The database is the rescore benchmark's (`bench/rescore_bench.py`'s `generate_phase`: --people
persons, default 1,000,000, and --activities activities, default 3,000,000, Zipf-like per
person, 13% of them peer activities with a target) plus 1.5 identities per person (an email
each, a Mastodon handle every other one), added in one INSERT ... SELECT, and one rescore's
worth of score rows is left out (the merge reads at most two). Each pair is merged and unmerged
--repeat times (default 3) in this process, through the actions (one transaction each, the
`merge` row with what moved, the audit, the revision), and then moved and moved back by the
reference: the same UPDATEs by person id and by row id in one transaction each, with nothing
recorded. Pairs: two typical persons (median activity) and the most active person with a
typical one. Prints JSON: the median seconds of each, rows moved, the database size.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import rescore_bench  # noqa: E402  (the generator lives there)

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
MOVED = (
    ("identity", "person_id"), ("activity", "person_id"), ("activity", "target_id"),
    ("ask", "person_id"), ("suggestion", "person_id"), ("ladder_transition", "person_id"),
)  # fmt: skip


def build(db: str, people: int, activities: int, seed: int) -> None:
    import sqlite3

    rescore_bench.generate_phase(db, people, activities, seed, rescore_bench.micros(NOW))
    with sqlite3.connect(db) as con:
        con.execute("INSERT INTO identity (person_id, platform, key) SELECT id, 'email', "
                    "'p' || id || '@example.org' FROM person")  # fmt: skip
        con.execute("INSERT INTO identity (person_id, platform, key) SELECT id, 'mastodon', "
                    "'@p' || id || '@social.example' FROM person WHERE id % 2 = 0")  # fmt: skip


def pairs(db: str) -> dict[str, tuple[int, int]]:
    import sqlite3

    with sqlite3.connect(db) as con:
        counts = con.execute(
            "SELECT person_id, count(*) AS n FROM activity GROUP BY person_id ORDER BY n, person_id"
        ).fetchall()
    mid = len(counts) // 2
    typical = (counts[mid][0], counts[mid + 1][0])
    return {"typical": typical, "heaviest": (counts[-1][0], counts[mid + 2][0])}


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def product(db: str, a: int, b: int, repeat: int) -> dict[str, Any]:
    from karmabank.actions.merging import merge_people, unmerge
    from karmabank.store.open import open_store

    merges, unmerges = [], []
    with open_store(db) as store:
        for _ in range(repeat):
            t, m = timed(lambda: merge_people(store=store, a=f"id:{a}", b=f"id:{b}", now=NOW,
                                              decided_by="bench"))  # fmt: skip
            merges.append(t)
            undo = partial(unmerge, store=store, merge_id=m.id, now=NOW, decided_by="bench")
            t, _ = timed(undo)
            unmerges.append(t)
    return {"merge_s": _s(merges), "unmerge_s": _s(unmerges)}


def reference(db: str, a: int, b: int, repeat: int) -> dict[str, Any]:
    """The same moves in plain SQL (kept: the higher id), then back by row id."""
    import sqlite3

    kept, gone = max(a, b), min(a, b)
    there, back, rows = [], [], 0
    con = sqlite3.connect(db, isolation_level=None)
    try:
        for _ in range(repeat):
            t0 = time.perf_counter()
            con.execute("BEGIN IMMEDIATE")
            ids = {}
            for table, column in MOVED:
                ids[table, column] = [r[0] for r in con.execute(
                    f"SELECT id FROM {table} WHERE {column} = ?", (gone,))]  # fmt: skip
                con.execute(f"UPDATE {table} SET {column} = ? WHERE {column} = ?", (kept, gone))
            row = con.execute("SELECT * FROM person WHERE id = ?", (gone,)).fetchone()
            con.execute("DELETE FROM person WHERE id = ?", (gone,))
            con.execute("COMMIT")
            there.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            con.execute("BEGIN IMMEDIATE")
            con.execute(f"INSERT INTO person VALUES ({', '.join('?' * len(row))})", row)
            for (table, column), moved in ids.items():
                for start in range(0, len(moved), 10_000):
                    chunk = moved[start : start + 10_000]
                    con.execute(f"UPDATE {table} SET {column} = ? WHERE id IN "
                                f"({', '.join('?' * len(chunk))})", (gone, *chunk))  # fmt: skip
            con.execute("COMMIT")
            back.append(time.perf_counter() - t0)
            rows = sum(len(v) for v in ids.values())
    finally:
        con.close()
    return {"merge_s": _s(there), "unmerge_s": _s(back), "rows_moved": rows}


def _s(times: list[float]) -> float:
    return round(statistics.median(times), 4)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--people", type=int, default=1_000_000)
    ap.add_argument("--activities", type=int, default=3_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--db", help="database path (default: in a temporary folder)")
    ap.add_argument("--reuse", action="store_true", help="use the --db built by an earlier run")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    folder = tempfile.mkdtemp(prefix="merge-bench-")
    db = args.db or str(Path(folder) / "bench.db")
    if not args.reuse:
        t, _ = timed(lambda: build(db, args.people, args.activities, args.seed))
        rescore_bench.log(f"built {db} in {t:.1f} s")
    out: dict[str, Any] = {"people": args.people, "activities": args.activities,
                           "db_mib": round(Path(db).stat().st_size / 2**20)}  # fmt: skip
    for name, (a, b) in pairs(db).items():
        out[name] = {"pair": [a, b], "product": product(db, a, b, args.repeat),
                     "reference": reference(db, a, b, args.repeat)}  # fmt: skip
        rescore_bench.log(f"{name}: {json.dumps(out[name])}")
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
