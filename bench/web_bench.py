"""The person page and /api/people/{id} at scale, against a raw SQL fetch of the same rows.

    .venv/bin/python bench/rescore_bench.py --db /tmp/rb/bench.db --keep   # once, to build it
    .venv/bin/python bench/web_bench.py --db /tmp/rb/bench.db [--n 1000] [--seed 0] [--profile 5]

In this process, through Starlette's TestClient on the ASGI app `create_app` builds (no network,
no server: the app, its middleware, authentication, the actions and the template are all timed):

1. Setup, not timed: the schema is upgraded if it is older (as `karmabank init`); a viewer
   `web-bench@example.org` is added once, and an API token for it is kept beside the database
   (`DB-web-bench-token`, reused while it is valid: a new token is an audited change, which
   makes the scores stale). If the stored scores are stale for `--now`, the bench rescores first
   (and says so); the app is built with that fixed `--now`, so no request rescores.
2. `--n` people drawn with `--seed` from all the database's people. The browser session comes
   from the real login form (GET /login, POST /login with its CSRF token).
3. Warm-up, untimed: 3 people outside the sample, each fetched by all three.
4. Each sampled person, timed one request at a time with `perf_counter`, in rotating order so
   that none of the three always comes first: GET /people/{id} (HTML, session cookie),
   GET /api/people/{id} (JSON, bearer token), and the reference: the same SQL statements the
   actions run for that person (`person_detail` and `person_scores`: score freshness, the
   person, identities, activity counts, first/last seen, the timeline, the names in it, the
   score row, the inbound activities behind warmth), on a plain `sqlite3` connection, rows
   fetched as tuples: no ORM, no computing, no rendering, no HTTP.
   Every answer must be 200 and carry the person's name (or "person ID" when unnamed); one
   that does not is left out of the figures, listed at the end, and the exit status is 1.

Printed: p50/p95/max per kind, the ratios to the reference, PASS/MISS against p95 <= 50 ms, and
the reference's time per statement, which shows which queries dominate. `--profile K` then runs
the action both routes call (`person_scores`) for K of the people under cProfile, in this thread,
and prints the top functions by cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import re
import sqlite3
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from karmabank.actions.accounts import add_user, list_users, new_token, user_for_token
from karmabank.actions.freshness import freshness
from karmabank.actions.scoring import rescore
from karmabank.settings import load_measure_settings, parse_instant, settings_path
from karmabank.store import migrate
from karmabank.store.engine import make_engine
from karmabank.store.open import Store, open_store
from karmabank.store.tables import Activity, Person
from karmabank.web import WebSettings, create_app

EMAIL = "web-bench@example.org"
PASSWORD = "web-bench-password-not-secret"  # a viewer on a bench database
TARGET_MS = 50.0
WARMUP = 3

# The statements `person_scores` (actions/relationships.py) and `person_detail`
# (actions/person_story.py) run for one person by id, in their order.
FRESHNESS = (
    ("freshness", "SELECT revision FROM organization ORDER BY id LIMIT 1", ()),
    ("freshness", "SELECT coalesce(max(id), 0) FROM activity", ()),
    ("freshness", "SELECT * FROM score_state WHERE id = 1", ()),
)
PERSON = "SELECT * FROM person WHERE id = ?"
IDENTITIES = "SELECT * FROM identity WHERE person_id = ? ORDER BY id"
COUNTS = "SELECT direction, count(*) FROM activity WHERE person_id = ? GROUP BY direction"
RECEIVED = "SELECT count(*) FROM activity WHERE target_id = ?"
# what they did, and what others did to them: each half on its own index
FIRST_LAST = (
    "SELECT min(occurred_at), max(occurred_at) FROM activity WHERE person_id = ?",
    "SELECT min(occurred_at), max(occurred_at) FROM activity "
    "WHERE target_id = ? AND person_id != ?",
)
TIMELINE = (
    "SELECT * FROM activity WHERE id IN (SELECT id FROM ("
    "SELECT id, occurred_at FROM (SELECT id, occurred_at FROM activity WHERE person_id = ? "
    "ORDER BY occurred_at DESC, id DESC LIMIT 50) UNION ALL "
    "SELECT id, occurred_at FROM (SELECT id, occurred_at FROM activity "
    "WHERE target_id = ? AND person_id != ? ORDER BY occurred_at DESC, id DESC LIMIT 50)) "
    "ORDER BY occurred_at DESC, id DESC LIMIT 50) ORDER BY occurred_at DESC, id DESC"
)
NAMES = "SELECT id, name FROM person WHERE id IN ({})"
SCORE = "SELECT * FROM person_score WHERE person_id = ?"
INBOUND = (
    "SELECT id, occurred_at, person_id, target_id, verb, direction, channel, weight "
    "FROM activity WHERE person_id = ? AND direction = 'in'"
)


def sqlite_path(db: str) -> str:
    url = make_url(db if "://" in db else f"sqlite:///{db}")
    if url.get_backend_name() != "sqlite" or not url.database:
        sys.exit("web bench: the reference is a plain sqlite3 fetch, so --db must be SQLite")
    return str(url.database)


def reference_fetch(con: sqlite3.Connection, pid: int, parts: dict[str, float]) -> str | None:
    """Every row the person page needs, as the actions fetch them; adds seconds per statement
    to `parts` and returns the person's name."""

    def run(name: str, sql: str, params: tuple[object, ...]) -> list[tuple[object, ...]]:
        t = time.perf_counter()
        rows = con.execute(sql, params).fetchall()
        parts[name] = parts.get(name, 0.0) + time.perf_counter() - t
        return rows

    for name, sql, params in FRESHNESS:
        run(name, sql, params)
    person = run("person", PERSON, (pid,))
    run("identities", IDENTITIES, (pid,))
    run("counts (person_id)", COUNTS, (pid,))
    run("received (target_id)", RECEIVED, (pid,))
    run("first/last (person_id)", FIRST_LAST[0], (pid,))
    run("first/last (target_id)", FIRST_LAST[1], (pid, pid))
    timeline = run("timeline (person_id, target_id)", TIMELINE, (pid, pid, pid))
    others = sorted({int(str(r[3])) for r in timeline} | {int(str(r[9])) for r in timeline if r[9]})
    run("names", NAMES.format(",".join("?" * len(others))), tuple(others))
    run("score row", SCORE, (pid,))
    run("inbound (person_id, direction)", INBOUND, (pid,))
    found = person[0][1]
    return None if found is None else str(found)


def setup(db: str, now: datetime) -> str:
    """Schema, user, token and fresh scores; returns the bearer token."""
    engine = make_engine(db)
    try:
        before = migrate.current_revision(engine)
        head = migrate.head_revision()
        if before != head:
            migrate.upgrade(engine)
            print(f"  schema: {before} -> {head} (setup, as `karmabank init`)")
        else:
            print(f"  schema: already at {head}")
    finally:
        engine.dispose()
    token_file = Path(f"{sqlite_path(db)}-web-bench-token")
    with open_store(db) as store:
        if any(u.email == EMAIL for u in list_users(store=store)):
            print(f"  user {EMAIL}: exists")
        else:
            add_user(store=store, email=EMAIL, role="viewer", now=now, password=PASSWORD,
                     actor="web-bench")  # fmt: skip
            print(f"  user {EMAIL}: added (viewer)")
        token = token_file.read_text().strip() if token_file.exists() else ""
        if token and user_for_token(store=store, token=token, now=now) is not None:
            print(f"  API token: reused ({token_file})")
        else:
            token = new_token(store=store, email=EMAIL, now=now, actor="web-bench")[1]
            token_file.touch(mode=0o600)
            token_file.write_text(token + "\n")
            print(f"  API token: new, kept in {token_file}")
        settings = load_measure_settings(settings_path(store.url))
        fresh = freshness(store=store, now=now, settings=settings)
        if fresh.stale:
            t = time.perf_counter()
            report = rescore(store=store, now=now, settings=settings)
            print(f"  scores: stale ({fresh.reason}): rescored {report.people:,} people in "
                  f"{time.perf_counter() - t:.1f} s (setup)")  # fmt: skip
        else:
            print(f"  scores: fresh for {now.isoformat()}, no rescore")
    return token


def sample(
    store: Store, n: int, seed: int
) -> tuple[list[int], list[int], dict[int, str | None], int]:
    """(`n` person ids by `seed`, WARMUP more outside them, their names, activities)."""
    with store.sessions() as session:
        ids = list(session.scalars(select(Person.id).where(Person.erased.is_(False))))
        activities = int(session.scalar(select(func.count()).select_from(Activity)) or 0)
        if len(ids) < n + WARMUP:
            sys.exit(f"web bench: {len(ids):,} people, fewer than --n {n} + {WARMUP} to warm up")
        chosen = random.Random(seed).sample(ids, n + WARMUP)
        names: dict[int, str | None] = {}
        for start in range(0, len(chosen), 500):
            chunk = chosen[start : start + 500]
            for pid, name in session.execute(
                select(Person.id, Person.name).where(Person.id.in_(chunk))
            ):
                names[pid] = name
    return chosen[WARMUP:], chosen[:WARMUP], names, activities


def log_in(client: TestClient) -> None:
    form = client.get("/login")
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', form.text)
    if form.status_code != 200 or found is None:
        sys.exit(f"web bench: GET /login answered {form.status_code} without a CSRF token")
    done = client.post("/login", data={"email": EMAIL, "password": PASSWORD,
                                       "csrf_token": found.group(1), "next": "/"})  # fmt: skip
    if done.status_code != 303 or "kb_session" not in client.cookies:
        sys.exit(f"web bench: POST /login answered {done.status_code}, no session cookie")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", required=True, help="a SQLite database (the rescore bench's)")
    p.add_argument("--now", default="2026-11-26T12:00:00Z", help="the app's fixed clock")
    p.add_argument("--n", type=int, default=1000, help="people to fetch (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="which people (default 0)")
    p.add_argument("--profile", type=int, default=0, metavar="K",
                   help="then profile K page and K API requests (cProfile)")  # fmt: skip
    args = p.parse_args()
    db, now = args.db, parse_instant(args.now)
    path = sqlite_path(db)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"web bench on {db} as of {args.now} (load average {load})")
    token = setup(db, now)
    with open_store(db) as store:
        chosen, warm, names, activities = sample(store, args.n, args.seed)
    print(f"  sample: {len(chosen):,} people (seed {args.seed}); database: "
          f"{activities:,} activities")  # fmt: skip

    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    app = create_app(WebSettings(db=db, now=now))
    bearer = {"Authorization": f"Bearer {token}"}
    failed: list[str] = []
    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as client:
        log_in(client)
        parts: dict[str, float] = {}

        def ref(pid: int) -> bool:
            if reference_fetch(con, pid, parts) != names[pid]:
                sys.exit(f"web bench: the reference found another name for person {pid}")
            return True

        def shown(pid: int) -> str:
            name = names[pid]
            return name if name is not None else f"person {pid}"

        def page(pid: int) -> bool:
            r = client.get(f"/people/{pid}")
            if r.status_code == 200 and str(escape(shown(pid))) in r.text:
                return True
            failed.append(f"/people/{pid}: {r.status_code} {' '.join(r.text[:120].split())}")
            return False

        def api(pid: int) -> bool:
            r = client.get(f"/api/people/{pid}", headers=bearer)
            if r.status_code == 200 and r.json().get("name") == names[pid]:
                return True
            failed.append(f"/api/people/{pid}: {r.status_code} {' '.join(r.text[:120].split())}")
            return False

        kinds: list[tuple[str, Callable[[int], bool]]] = [
            ("reference SQL", ref), ("person page", page), ("/api/people/{id}", api),
        ]  # fmt: skip
        t = time.perf_counter()
        for pid in warm:
            for _, fetch in kinds:
                fetch(pid)
        print(f"  warm-up: {WARMUP} people outside the sample, each kind once, "
              f"{time.perf_counter() - t:.1f} s (untimed)")  # fmt: skip
        parts.clear()
        times: dict[str, list[float]] = {k: [] for k, _ in kinds}
        started = time.perf_counter()
        for i, pid in enumerate(chosen):
            for j in range(3):
                kind, fetch = kinds[(i + j) % 3]
                t = time.perf_counter()
                if fetch(pid):  # an error page is not timed: it is reported below
                    times[kind].append(time.perf_counter() - t)
            if i == 9 and len(chosen) > 50:
                left = (time.perf_counter() - started) / 10 * (len(chosen) - 10)
                print(f"  (the first 10 people took {time.perf_counter() - started:.1f} s: "
                      f"about {left / 60:.0f} min to go)", flush=True)  # fmt: skip
        print(f"  timed: {len(chosen):,} people x 3 kinds in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip

        ms = {k: np.array(v or [np.nan]) * 1000 for k, v in times.items()}
        stats = {k: (float(np.percentile(v, 50)), float(np.percentile(v, 95)), float(v.max()))
                 for k, v in ms.items()}  # fmt: skip
        print()
        print(f"  {'request':<20}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
        for k, (p50, p95, top) in stats.items():
            print(f"  {k:<20}{len(times[k]):>6,}{p50:>10.1f}{p95:>10.1f}{top:>10.1f}")
        print()
        ref50, ref95, _ = stats["reference SQL"]
        for k in ("person page", "/api/people/{id}"):
            p50, p95, _ = stats[k]
            print(f"  {k} / reference: p50 {p50 / ref50:.2f}x, p95 {p95 / ref95:.2f}x")
        for k in ("person page", "/api/people/{id}"):
            p95 = stats[k][1]
            verdict = "PASS" if p95 <= TARGET_MS else "MISS"
            print(f"  {k} p95 {p95:.1f} ms: {verdict} (target <= {TARGET_MS:.0f} ms)")
        print()
        print("  reference time per statement (mean ms per person):")
        for name, seconds in sorted(parts.items(), key=lambda x: -x[1]):
            print(f"    {name:<38}{seconds / len(chosen) * 1000:>9.2f}")

        if failed:
            print(f"\n  FAILED: {len(failed)} answers were not 200 with the person's name "
                  "(left out of the figures above):")  # fmt: skip
            for line in failed:
                print(f"    {line}")
        if args.profile:
            profile(db, now, random.Random(args.seed + 1).sample(chosen, args.profile))
        client.post("/logout", headers={"X-CSRF-Token": _csrf(client)})
    con.close()
    return 1 if failed else 0


def profile(db: str, now: datetime, pids: list[int]) -> None:
    """cProfile of the action both routes call (`person_scores`) for `pids`, in this thread
    (the TestClient runs the app in another thread, which a profiler here would not see)."""
    from karmabank.actions.relationships import person_scores

    with open_store(db) as store:
        prof = cProfile.Profile()
        prof.enable()
        settings = load_measure_settings(settings_path(store.url))  # as the app: once
        for pid in pids:
            person_scores(store=store, ref=str(pid), now=now, settings=settings)
        prof.disable()
    print(f"\n  cProfile of person_scores for {len(pids)} people (cumulative):")
    stats = pstats.Stats(prof, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(r"karmabank|execute", 20)


def _csrf(client: TestClient) -> str:
    from karmabank.web.security import session_csrf

    return session_csrf(client.cookies.get("kb_session") or "")


if __name__ == "__main__":
    sys.exit(main())
