"""People listing benchmark: `karmabank people --limit N` piped, against a plain reference.

    .venv/bin/python bench/listing_bench.py --db PATH [--limit N ...] [--runs N] [--now ISO]

The database is any karmabank SQLite database, e.g. the one `bench/rescore_bench.py --db PATH`
builds (1M people by default). Its scores are brought up to date first (one `karmabank people
--limit 1`, untimed), so every timed run reads stored scores.

What is timed (each in its own process, stdout to a file; wall time, CPU time (user + system)
and peak resident set from `os.wait4`)
    product     `karmabank people --db DB --now NOW --limit N` (the aligned table, as in a pipe),
                and the same with `--tsv` and with `--json`.
    reference   the listing's SELECT (people not erased, left-joined to their scores, warmest
                first, then by id, LIMIT N) through the standard library's `sqlite3`, written
                with `csv.writer` (tab-separated): no identities, no flags' names, no freshness
                check of the scores.
The median of --runs runs is printed. Checks (exit status 1 when one fails): every run exits
0, and the product lists the reference's ids in the same order.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REFERENCE = """
import csv, sqlite3, sys
db, limit = sys.argv[1], int(sys.argv[2])
con = sqlite3.connect(db)
rows = con.execute('''SELECT p.id, p.name, s.circle, s.status, s.warmth, s.balance, s.stage
    FROM person p LEFT OUTER JOIN person_score s ON s.person_id = p.id
    WHERE NOT p.erased ORDER BY s.warmth DESC NULLS LAST, p.id LIMIT ?''', (limit,))
csv.writer(sys.stdout, delimiter="\\t").writerows(rows)
"""


def timed(argv: list[str], out: Path) -> tuple[float, float, int]:
    """(wall s, cpu s, peak RSS bytes) of one child process writing stdout to `out`."""
    with out.open("w") as f:
        started = time.perf_counter()
        child = subprocess.Popen(argv, stdout=f)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"FAILED: {' '.join(argv)}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


def ids(path: Path, header: bool) -> list[str]:
    """The first column of each line (the person id), after the header line if there is one."""
    return [line.split()[0] for line in path.read_text().splitlines()[1 if header else 0 :]]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--limit", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--now", default="2026-11-26T12:00:00Z")
    args = ap.parse_args(argv)
    karmabank = str(Path(sys.executable).parent / "karmabank")
    base = [karmabank, "people", "--db", args.db, "--now", args.now]
    subprocess.run([*base, "--limit", "1"], check=True, stdout=subprocess.DEVNULL)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.limit:
            kinds = {
                "table": [*base, "--limit", str(n)],
                "tsv": [*base, "--limit", str(n), "--tsv"],
                "json": [*base, "--limit", str(n), "--json"],
                "reference": [sys.executable, "-c", REFERENCE, args.db, str(n)],
            }
            for kind, command in kinds.items():
                out = Path(tmp) / f"{kind}-{n}.txt"
                runs = [timed(command, out) for _ in range(args.runs)]
                wall = statistics.median(r[0] for r in runs)
                cpu = statistics.median(r[1] for r in runs)
                rss = max(r[2] for r in runs)
                size = out.stat().st_size / 1e6
                print(f"limit {n:>7,}  {kind:9}  wall {wall:6.2f} s  cpu {cpu:6.2f} s  "
                      f"peak {rss / 1e6:6.0f} MB  ({size:.1f} MB out)")  # fmt: skip
            ref = ids(Path(tmp) / f"reference-{n}.txt", header=False)
            table = ids(Path(tmp) / f"table-{n}.txt", header=True)
            tsv = ids(Path(tmp) / f"tsv-{n}.txt", header=True)
            if not ref == table == tsv:
                print(f"FAILED: limit {n}: the product's ids differ from the reference's")
                ok = False
    print(f"load average while it ran: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
