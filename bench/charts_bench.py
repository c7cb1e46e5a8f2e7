"""The charts at scale (issue 19): /charts and the home page, against plain DuckDB computing the
same numbers from the rescore's snapshot; and `karmabank report --html`.

    .venv/bin/python bench/rescore_bench.py --db /tmp/rb/bench.db --keep   # once, to build it
    .venv/bin/python bench/charts_bench.py --db /tmp/rb/bench.db [--n 200] [--ref-n 5]

1. Setup, not timed (`web_bench.setup`): the schema upgraded if older, a viewer and its token,
   the scores made fresh for `--now` (a rescore when stale, said); the app is built with that
   fixed `--now`, so no request rescores. The session comes from the real login form.
2. Cold, once: the chart cache of the snapshot is dropped (`charts-*` beside the columnar copy)
   and GET /charts is timed: the four charts' numbers computed from the snapshot (DuckDB over
   its Parquet copy of activities and its scores) and drawn by vl-convert, Vega's engine
   starting in this process: what the first visitor after a rescore waits.
3. Warm: `--n` requests each of GET /charts and GET / (the home page), in turn, timed one at a
   time through Starlette's TestClient (middleware, authentication, actions, templates; no
   network). Every /charts answer must be 200 with four inline SVGs, every home page 200.
   Then `--n / 6` (at least 3) more home pages, each with the queue's kept choice dropped
   first (`actions/nurture_cache.py`): what the first visit of a minute, or the first after
   any change the queue reads, pays (the choice made again over 1M people).
4. The reference, `--ref-n` times: a fresh in-memory DuckDB reading the same snapshot files
   (`read_parquet` of the activities the rescore saw, and its scores file) and computing the
   same numbers with four plain GROUP BY queries (weekly inbound by channel and gives/asks,
   monthly gives and asks, people per stage, people per circle and month since): what a page
   that computed its charts per request would pay at the least, with no drawing at all.
5. `karmabank report --html FILE` as its own process (`--now`, the same database), start to
   exit: once with the chart cache dropped (cold) and once with it kept (warm).

Printed: p50/p95/max per kind, PASS/MISS against p95 <= 300 ms for the pages and <= 10 s for the
report. Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
from fastapi.testclient import TestClient

from karmabank.actions.scores import LastRescore
from karmabank.frames import US_PER_DAY
from karmabank.model import to_micros
from karmabank.settings import parse_instant
from karmabank.store.open import open_store
from karmabank.web import WebSettings, create_app
from web_bench import log_in, setup  # bench/web_bench.py

PAGE_TARGET_MS = 300.0
REPORT_TARGET_S = 10.0
KARMABANK = str(Path(sys.executable).with_name("karmabank"))


def drop_chart_cache(folder: Path) -> int:
    gone = 0
    for f in folder.glob("charts-*"):
        f.unlink()
        gone += 1
    return gone


def drop_queue_choice(folder: Path) -> None:
    for f in folder.glob("charts-*-queue_*"):
        f.unlink()


def reference(acts_sql: str, scores: Path, now_us: int) -> float:
    """Seconds for plain DuckDB to compute the charts' numbers from the snapshot's files."""
    start = time.perf_counter()
    con = duckdb.connect(":memory:")
    try:
        year = now_us - 365 * US_PER_DAY
        con.execute(f"CREATE VIEW acts AS SELECT * FROM {acts_sql} WHERE occurred_at <= {now_us}")
        con.execute(f"""SELECT date_trunc('week', make_timestamp(occurred_at)) AS week, direction,
            CASE WHEN direction = 'in' THEN channel END AS channel, count(*)
            FROM acts WHERE direction IN ('in', 'give', 'ask') AND occurred_at > {year}
            GROUP BY ALL""").fetchall()  # fmt: skip
        con.execute(f"""SELECT date_trunc('month', make_timestamp(occurred_at)) AS month,
            count(*) FILTER (WHERE direction = 'give'), count(*) FILTER (WHERE direction = 'ask')
            FROM acts WHERE direction IN ('give', 'ask') AND occurred_at > {year}
            GROUP BY 1""").fetchall()  # fmt: skip
        snap = f"read_parquet('{scores}')"
        con.execute(f"SELECT stage, count(*) FROM {snap} GROUP BY 1").fetchall()
        con.execute(f"""SELECT circle, date_trunc('month', make_timestamp(circle_since)), count(*)
            FROM {snap} WHERE circle IS NOT NULL GROUP BY ALL""").fetchall()  # fmt: skip
    finally:
        con.close()
    return time.perf_counter() - start


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def row(name: str, ms: list[float]) -> str:
    a = np.array(ms)
    p50, p95 = np.percentile(a, 50), np.percentile(a, 95)
    return f"{name:<24}{len(ms):>6,}{p50:>10.1f}{p95:>10.1f}{a.max():>10.1f}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", required=True, help="a SQLite database (the rescore bench's)")
    p.add_argument("--now", default="2026-11-26T12:00:00Z", help="the app's fixed clock")
    p.add_argument("--n", type=int, default=200, help="timed requests per page (default 200)")
    p.add_argument("--ref-n", type=int, default=5, help="reference runs (default 5)")
    args = p.parse_args()
    now = parse_instant(args.now)
    print(f"charts bench on {args.db}, now {now.isoformat()}")
    setup(args.db, now)
    failures: list[str] = []
    with open_store(args.db) as store:
        columns = store.columns_dir
        last = LastRescore.read(store)
        assert last is not None
        snapshot = last.snapshot(store)
        acts_sql = snapshot.activities().sql()
        scores = snapshot.path("scores")
        people = store.engine.connect().exec_driver_sql("SELECT count(*) FROM person").scalar()
        acts = store.engine.connect().exec_driver_sql("SELECT max(id) FROM activity").scalar()
    print(f"  {people:,} people, {acts:,} activities; snapshot {last.token}")

    app = create_app(WebSettings(db=args.db, now=now))
    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as client:
        log_in(client)
        print(f"  chart cache: {drop_chart_cache(columns)} files dropped (cold)")
        t = time.perf_counter()
        first = client.get("/charts")
        cold = time.perf_counter() - t
        if first.status_code != 200 or first.text.count("<svg") < 4:
            failures.append(f"cold /charts: {first.status_code}")
        charts_ms, home_ms = [], []
        got: list[Any] = []
        for _ in range(args.n):
            charts_ms.append(timed(lambda: got.append(client.get("/charts"))))
            home_ms.append(timed(lambda: got.append(client.get("/"))))
        fresh_ms = []  # the queue's kept choice dropped first: what the minute's first visit pays
        for _ in range(max(3, args.n // 6)):
            drop_queue_choice(columns)
            fresh_ms.append(timed(lambda: got.append(client.get("/"))))
        for r in got:
            if r.status_code != 200 or (r.url.path == "/charts" and r.text.count("<svg") < 4):
                failures.append(f"{r.url.path}: {r.status_code}")
    ref_ms = [reference(acts_sql, scores, to_micros(now)) * 1000 for _ in range(args.ref_n)]

    report_s = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label in ("cold", "warm"):
            if label == "cold":
                drop_chart_cache(columns)
            out = Path(tmp) / f"report-{label}.html"
            t = time.perf_counter()
            done = subprocess.run([KARMABANK, "report", "--html", str(out), "--db", args.db,
                                   "--now", args.now], capture_output=True, text=True)  # fmt: skip
            report_s[label] = time.perf_counter() - t
            if done.returncode != 0 or out.read_text().count("<svg") < 4:
                failures.append(f"report {label}: exit {done.returncode}: {done.stderr.strip()}")
            else:
                print(f"  report {label}: {done.stdout.strip()}")

    print(f"\nfirst GET /charts after a rescore (cold cache, Vega starting): {cold:.2f} s")
    print(f"{'request':<24}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    print(row("reference DuckDB", ref_ms))
    print(row("GET /charts (warm)", charts_ms))
    print(row("GET / (home)", home_ms))
    print(row("GET / (queue chosen)", fresh_ms))
    for name, ms in (("/charts", charts_ms), ("home page", home_ms)):
        p95 = float(np.percentile(ms, 95))
        ratio = p95 / float(np.percentile(ref_ms, 95))
        verdict = "PASS" if p95 <= PAGE_TARGET_MS else "MISS"
        print(f"{name} p95 {p95:.1f} ms ({ratio:.3f}x the reference's p95): {verdict} "
              f"(target <= {PAGE_TARGET_MS:.0f} ms)")  # fmt: skip
    for label, s in report_s.items():
        verdict = "PASS" if s <= REPORT_TARGET_S else "MISS"
        print(f"karmabank report --html ({label} chart cache): {s:.2f} s: {verdict} "
              f"(target <= {REPORT_TARGET_S:.0f} s)")  # fmt: skip
    for f in failures:
        print("FAILED:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
