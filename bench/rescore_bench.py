"""Rescore benchmark: `karmabank rescore` on a generated network, against plain DuckDB SQL.

    .venv/bin/python bench/rescore_bench.py [--people N] [--activities N] [--seed N] [--now ISO]
                                            [--db PATH [--reuse]] [--keep] [--breakdown]

What is generated (deterministic: the same options and DuckDB version, the same rows)
    --people persons (default 1,000,000) and --activities activities (default 10,000,000),
    computed with hash-based DuckDB SQL and written into a fresh database created with the
    product's own schema (`open_store(create=True)`: the migrations), through ADBC ingest
    (`arrow_io.append`), one transaction per million rows. The two secondary indexes of
    `activity` are dropped during the load and created again from their own DDL afterwards.
    Activities per person follow their rank, Zipf-Mandelbrot-like: 1 + floor(C / (rank +
    people / 10,000)), C fitted so that the counts add up to --activities: everyone has at
    least one, a few people have thousands, about two thirds have 1-3. Ranks map to person
    ids through a fixed permutation. Mix: 75% `in` (like, follow, comment, reply, share,
    mention, attend, register, donate, sign, volunteer, skewed), 10% `give` (thank, reply,
    share, welcome), 2% `ask`, 13% `peer` (reply, share, mention; the target is skewed to
    active people).
    Channels: email, blog, mastodon, bluesky (each person has a home channel, 70% of their
    social activity), events (attend, register, volunteer), donations. Times: each person's
    first activity starts their tenure (uniform over the 3 years before --now); 35% lapse at
    a random point; activities are uniform over the person's active span. Ids and
    `source_key`s follow time order. ~0.5% of people are do_not_contact, 5 are team, 3 bots.
    With --db PATH --reuse an existing bench database is used instead (its scores and its
    columnar copy cleared first, so that the first rescore is cold again).

What is timed (each in its own process; wall time of the whole process, start to exit)
    cold    `karmabank rescore --db DB --now NOW --json` on the fresh database: it builds the
            columnar copy (`DB-columns/`, Parquet) from the row store, scores everyone with no
            previous rescore, and writes person_score and a ladder transition per person.
    warm    the same command again: the copy is in sync (what a user sees after `karmabank
            import`, which syncs the copy at its end); it reads the previous scores for the
            circle and stage history and replaces person_score.
    reference
            plain DuckDB SQL over the same columns (the Parquet files of the columnar copy,
            `read_parquet([...])`) in a fresh `python` process: per person, warmth = sum over
            `in` activities of weight(verb) x decay^(age / decay_days), times 1 + step x
            (distinct `in` channels in the last multiplexity_days - 1); presence = distinct
            active days in the last 30/90/365 days; given and asked = sums of weights. One
            query with a verb-weight join, the product's filters (occurred_at <= now; team,
            bots and erased people left out: their ids read with `sqlite3`), materialized to
            Arrow. Its settings are the ones the product loads for that database.
    ratio = product process seconds / reference process seconds. Both include the
    interpreter's start and the imports (the reference's in-process query time is printed
    too). Targets: warm ratio <= 2, peak memory <= 4 GB (4e9 bytes).

Memory
    Peak resident set of each child from `os.wait4` (ru_maxrss). Linux carries a parent's
    high-water mark into the child at exec, so this process stays small (standard library
    only; the generation runs in a child); its own peak is printed as the floor.

Checks (exit status 1 when one fails)
    Both rescores exit 0 and score as many people as were generated (everyone but team and
    bots) over all the activities; the cold run syncs every activity and the warm run none;
    the reference finds the same people, and its warmth (relative 1e-9), presence, given and
    asked equal the product's `person_score` columns.

--breakdown runs the product's `rescore()` again in-process (once after clearing the scores
and the columnar copy, as the cold run; once more, as the warm run) with timers wrapped around
its parts (sync, reads, each DuckDB statement, writes, commit) and prints the two breakdowns.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from math import gcd
from pathlib import Path
from typing import Any

US_PER_DAY = 86_400_000_000
DEFAULT_NOW = "2026-11-26T12:00:00Z"
SPAN_DAYS = 3 * 365  # first activities spread over this many days before now
CHUNK = 1_000_000  # rows per ingest transaction
TARGET_RATIO = 2.0
TARGET_PEAK_BYTES = 4_000_000_000

HOME_CHANNELS = ("mastodon", "bluesky", "blog", "email")
TEAM_RANKS = (2, 5, 9, 14, 20)
BOT_RANKS = (3, 30, 300)
DIRECTIONS = (("in", 75), ("give", 10), ("ask", 2), ("peer", 13))
IN_VERBS = (
    ("like", 30), ("follow", 10), ("comment", 12), ("reply", 12), ("share", 12), ("mention", 8),
    ("attend", 5), ("register", 4), ("donate", 3), ("sign", 3), ("volunteer", 1),
)  # fmt: skip
GIVE_VERBS = (("thank", 40), ("reply", 30), ("share", 20), ("welcome", 10))
PEER_VERBS = (("reply", 45), ("share", 30), ("mention", 25))


class BenchError(Exception):
    """A failed check or a failed run; the message says which."""


def log(msg: str) -> None:
    print(f"... {msg}", file=sys.stderr, flush=True)


def micros(dt: datetime) -> int:
    delta = dt - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def parse_now(text: str) -> datetime:
    dt = datetime.fromisoformat(text)
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def mib(kib: int) -> str:
    return f"{kib / 1024:,.0f} MiB"


# -- generation (child process) ---------------------------------------------------------------
def pick_sql(u: str, choices: Sequence[tuple[str, int]]) -> str:
    """A CASE choosing among `choices` by their weights, from a uniform [0, 1) expression."""
    total = sum(w for _, w in choices)
    whens, acc = [], 0
    for name, w in choices[:-1]:
        acc += w
        whens.append(f"WHEN {u} < {acc / total!r} THEN '{name}'")
    return f"(CASE {' '.join(whens)} ELSE '{choices[-1][0]}' END)"


def permutation(people: int, seed: int) -> tuple[int, int]:
    """Multiplier and offset of the rank -> person id bijection id = 1 + ((r-1) m + o) % P."""
    m = max(1, int(people * 0.6180339887) + seed % 1000) | 1
    while gcd(m, people) != 1:
        m += 2
    return m, seed % people


def counts_sql(offset: int, c: float) -> str:
    return f"1 + floor({c!r} / (r + {offset}))::BIGINT"


def fit_counts(con: Any, people: int, activities: int, offset: int) -> tuple[float, int]:
    """C such that sum over ranks of 1 + floor(C / (r + offset)) <= activities, and the
    remainder (given, +1 each, to the first ranks)."""

    def total(c: float) -> int:
        sql = f"SELECT sum({counts_sql(offset, c)}) FROM range(1, {people + 1}) t(r)"
        return int(con.execute(sql).fetchall()[0][0])

    lo, hi = 0.0, float(activities) * (1 + offset)
    for _ in range(64):
        mid = (lo + hi) / 2
        if total(mid) <= activities:
            lo = mid
        else:
            hi = mid
    rest = activities - total(lo)
    if not 0 <= rest <= people:
        raise BenchError(f"could not spread {activities} activities over {people} people")
    return lo, rest


def rechunk(batches: Iterable[Any], rows: int) -> Iterator[list[Any]]:
    """Record batches grouped into lists of at least `rows` rows (the last: what is left)."""
    pending: list[Any] = []
    n = 0
    for batch in batches:
        pending.append(batch)
        n += batch.num_rows
        if n >= rows:
            yield pending
            pending, n = [], 0
    if pending:
        yield pending


def generate_phase(db: str, people: int, activities: int, seed: int, now_us: int) -> dict[str, Any]:
    import duckdb
    import pyarrow as pa
    import pyarrow.compute as pc

    from karmabank.store import arrow_io
    from karmabank.store.open import open_store

    t0 = time.perf_counter()
    with open_store(db, create=True) as store:
        url = store.url
    con = duckdb.connect(":memory:")
    # uniform [0, 1) from 53 bits of a hash of (a, b, salt c); hashes are chained because
    # DuckDB's hash(a, b, c) combines its arguments so that salts give correlated values
    con.execute(
        """CREATE MACRO u(a, b, c) AS (hash(xor(hash(xor(hash(c::UBIGINT), a::UBIGINT)),
                                          b::UBIGINT)) >> 11)::DOUBLE / 9007199254740992.0"""
    )
    offset = max(1, round(people / 10_000))
    c, rest = fit_counts(con, people, activities, offset)
    m, o = permutation(people, seed)
    s = seed * 64  # salts: s + 1, s + 2, ... (person) and s + 11, ... (activity)
    team = ", ".join(str(r) for r in TEAM_RANKS)
    bots = ", ".join(str(r) for r in BOT_RANKS)
    homes = "[" + ", ".join(f"'{h}'" for h in HOME_CHANNELS) + "]"
    con.execute(
        f"""CREATE TABLE people AS
        SELECT r, pid, cnt, start_age, home, team, bot, do_not_contact,
               CASE WHEN lapsed THEN lapse * start_age ELSE 0.0 END AS end_age
        FROM (SELECT r, (1 + ((r - 1) * {m} + {o}) % {people})::BIGINT AS pid,
                     {counts_sql(offset, c)} + (r <= {rest})::BIGINT AS cnt,
                     {SPAN_DAYS} * u(r, {s + 1}, 1) AS start_age,
                     u(r, {s + 2}, 2) < 0.35 AS lapsed, u(r, {s + 3}, 3) AS lapse,
                     {homes}[1 + floor(u(r, {s + 4}, 4) * 4)::INTEGER] AS home,
                     r IN ({team}) AS team, r IN ({bots}) AS bot,
                     r NOT IN ({team}, {bots}) AND u(r, {s + 5}, 5) < 0.005 AS do_not_contact
              FROM range(1, {people + 1}) t(r))"""
    )
    stats = con.execute(
        """SELECT sum(cnt), max(cnt), median(cnt), avg((cnt <= 3)::INTEGER),
                  count(*) FILTER (WHERE team), count(*) FILTER (WHERE bot),
                  count(*) FILTER (WHERE do_not_contact),
                  count(*) FILTER (WHERE NOT team AND NOT bot AND cnt > 0)
           FROM people"""
    ).fetchall()[0]
    assert stats is not None and int(stats[0]) == activities, stats
    log(f"generation: counts fitted ({time.perf_counter() - t0:.1f} s)")

    target = f"(1 + ((least({people}, 1 + floor({people} * pow(u(pid, k, {s + 15}), 3))::BIGINT)"
    target += f" - 1) * {m} + {o}) % {people})"
    social = f"{homes}[1 + least(3, floor((uc - 0.7) / 0.3 * 4)::INTEGER)]"
    acts_sql = f"""
        WITH a AS (
          SELECT pid AS person_id, k, start_age, end_age, home,
                 {pick_sql(f"u(pid, k, {s + 11})", DIRECTIONS)} AS direction,
                 u(pid, k, {s + 12}) AS uv, u(pid, k, {s + 13}) AS ut, u(pid, k, {s + 14}) AS uc,
                 {target} AS t
          FROM (SELECT pid, start_age, end_age, home, unnest(range(cnt)) AS k FROM people)
        ), b AS (
          SELECT person_id, k, home, uc, direction,
                 CASE direction WHEN 'in' THEN {pick_sql("uv", IN_VERBS)}
                                WHEN 'give' THEN {pick_sql("uv", GIVE_VERBS)}
                                WHEN 'ask' THEN 'ask'
                                ELSE {pick_sql("uv", PEER_VERBS)} END AS verb,
                 {now_us} - round(CASE WHEN k = 0 THEN start_age
                                       ELSE end_age + ut * (start_age - end_age) END
                                  * {US_PER_DAY})::BIGINT AS occurred_at,
                 CASE WHEN direction = 'peer' THEN
                   CASE WHEN t = person_id THEN 1 + t % {people} ELSE t END END AS target_id
          FROM a
        )
        SELECT occurred_at, person_id, verb, direction,
          CASE
            WHEN direction = 'ask' THEN 'email'
            WHEN direction = 'peer' THEN CASE WHEN home = 'email' THEN 'blog' ELSE home END
            WHEN direction = 'in' AND verb IN ('attend', 'register', 'volunteer') THEN 'events'
            WHEN direction = 'in' AND verb = 'donate' THEN 'donations'
            WHEN direction = 'in' AND verb = 'sign' THEN 'email'
            WHEN direction = 'give' AND verb = 'thank' AND uc < 0.5 THEN 'email'
            WHEN uc < 0.7 THEN home
            ELSE {social} END AS channel,
          target_id
        FROM b ORDER BY occurred_at, person_id, k"""

    with arrow_io.connect(url) as conn:
        with conn.cursor() as cur:
            cur.execute("PRAGMA cache_size = -1048576")
            cur.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'activity'"
                " AND sql IS NOT NULL ORDER BY name"
            )
            index_ddl = [str(r[0]) for r in cur.fetchall()]
            for ddl in index_ddl:
                name = ddl.split()[2]
                cur.execute(f"DROP INDEX {name}")
            cur.execute(
                "INSERT INTO organization (id, name, created_at, revision, activity_epoch)"
                f" VALUES (1, 'rescore bench', {now_us - SPAN_DAYS * US_PER_DAY}, 0, 0)"
            )
        persons = con.sql(
            f"""SELECT pid AS id, false AS name_manual, team, bot, do_not_contact,
                       false AS erased, {now_us} - round(start_age * {US_PER_DAY})::BIGINT
                         AS created_at
                FROM people ORDER BY pid"""
        ).to_arrow_table()
        arrow_io.append(conn, "person", persons)
        conn.commit()
        del persons
        log(f"generation: {people:,} persons stored ({time.perf_counter() - t0:.1f} s)")
        done = 0
        for pending in rechunk(con.sql(acts_sql).to_arrow_reader(CHUNK), CHUNK):
            n = sum(b.num_rows for b in pending)
            ids = pa.array(range(done + 1, done + n + 1), pa.int64())
            keys = pc.binary_join_element_wise(
                "bench:", pc.utf8_lpad(pc.cast(ids, pa.string()), 10, "0"), ""
            )
            table = pa.Table.from_batches(pending).add_column(0, "id", ids)
            table = table.add_column(1, "source_key", keys)
            arrow_io.append(conn, "activity", table)
            conn.commit()
            done += n
            log(f"generation: {done:,} activities stored ({time.perf_counter() - t0:.1f} s)")
        with conn.cursor() as cur:
            for ddl in index_ddl:
                cur.execute(ddl)
        conn.commit()
        log(f"generation: indexes created ({time.perf_counter() - t0:.1f} s)")
        with conn.cursor() as cur:
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cur.fetchall()
    if done != activities:
        raise BenchError(f"generated {done} activities, expected {activities}")
    return {
        "seconds": time.perf_counter() - t0,
        "people": people,
        "activities": done,
        "max_per_person": int(stats[1]),
        "median_per_person": float(stats[2]),
        "share_1_to_3": float(stats[3]),
        "team": int(stats[4]),
        "bots": int(stats[5]),
        "do_not_contact": int(stats[6]),
        "expected_people": int(stats[7]),
    }


def reset_phase(db: str) -> dict[str, Any]:
    """An existing bench database (--reuse): clear the scores and the columnar copy, so that
    the next rescore is cold again; count what it holds."""
    con = sqlite3.connect(db)
    try:
        for table in ("person_score", "ladder_transition", "score_state"):
            con.execute(f"DELETE FROM {table}")
        con.commit()
        people, activities = con.execute(
            "SELECT (SELECT count(*) FROM person), (SELECT count(*) FROM activity)"
        ).fetchone()
        expected = con.execute(
            """SELECT count(DISTINCT person_id) FROM activity WHERE person_id NOT IN
               (SELECT id FROM person WHERE team OR bot OR erased)"""
        ).fetchone()[0]
    finally:
        con.close()
    shutil.rmtree(db + "-columns", ignore_errors=True)
    return {"people": people, "activities": activities, "expected_people": expected}


def settings_phase(db: str) -> dict[str, Any]:
    """The measure settings the product loads for this database (karmabank.toml beside it)."""
    from dataclasses import asdict

    from karmabank.settings import load_measure_settings, settings_path

    s = load_measure_settings(settings_path(db))
    return {"warmth": asdict(s.warmth), "ledger": asdict(s.ledger)}


# -- the reference (child process) ------------------------------------------------------------
def reference_sql(files: Sequence[str], now_us: int, settings: dict[str, Any]) -> str:
    w, lg = settings["warmth"], settings["ledger"]
    weights = [("in", v, x) for v, x in w["weights"].items()]
    weights += [("give", v, x) for v, x in lg["give_weights"].items()]
    values = ", ".join(f"('{d}', '{v}', {float(x)!r})" for d, v, x in weights)
    now_day = now_us // US_PER_DAY
    paths = ", ".join(f"'{f}'" for f in files)
    return f"""
        WITH weights(direction, verb, w) AS (VALUES {values}),
        a AS (
          SELECT a.person_id, a.direction, a.channel,
                 coalesce(a.weight, weights.w,
                          CASE a.direction WHEN 'in' THEN {float(w["default_weight"])!r}
                                           WHEN 'give' THEN {float(lg["default_give_weight"])!r}
                                           WHEN 'ask' THEN {float(lg["ask_weight"])!r}
                                           ELSE 0.0 END) AS w,
                 ({now_us} - a.occurred_at) / {float(US_PER_DAY)!r} AS age,
                 a.occurred_at // {US_PER_DAY} AS day
          FROM read_parquet([{paths}]) a
          LEFT JOIN weights ON weights.direction = a.direction AND weights.verb = a.verb
          WHERE a.occurred_at <= {now_us}
            AND a.person_id NOT IN (SELECT id FROM excluded)
        ),
        per_person AS (
          SELECT person_id,
            coalesce(sum(w * pow({float(w["decay"])!r}, age / {float(w["decay_days"])!r}))
                     FILTER (WHERE direction = 'in'), 0) AS warmth_base,
            count(DISTINCT channel) FILTER (WHERE direction = 'in'
                                            AND age < {int(w["multiplexity_days"])}) AS channels,
            count(DISTINCT day) FILTER (WHERE direction = 'in' AND day > {now_day - 30})
              AS presence_30,
            count(DISTINCT day) FILTER (WHERE direction = 'in' AND day > {now_day - 90})
              AS presence_90,
            count(DISTINCT day) FILTER (WHERE direction = 'in' AND day > {now_day - 365})
              AS presence_365,
            coalesce(sum(w) FILTER (WHERE direction = 'give'), 0) AS given,
            coalesce(sum(w) FILTER (WHERE direction = 'ask'), 0) AS asked
          FROM a GROUP BY person_id
        )
        SELECT person_id,
               warmth_base * (1 + {float(w["multiplexity_step"])!r}
                                  * (greatest(channels, 1) - 1)) AS warmth,
               presence_30, presence_90, presence_365, given, asked
        FROM per_person ORDER BY person_id"""


def reference_phase(
    db: str, files: list[str], now_us: int, settings: dict[str, Any], out: str
) -> dict[str, Any]:
    t0 = time.perf_counter()
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    t_imported = time.perf_counter()
    lite = sqlite3.connect(db)
    excluded = [r[0] for r in lite.execute("SELECT id FROM person WHERE team OR bot OR erased")]
    lite.close()
    con = duckdb.connect(":memory:")
    con.register("excluded", pa.table({"id": pa.array(excluded, pa.int64())}))
    result = con.sql(reference_sql(files, now_us, settings)).to_arrow_table()
    seconds = time.perf_counter() - t_imported
    pq.write_table(result, out)  # for the check, not timed
    return {"seconds": seconds, "imports": t_imported - t0, "rows": result.num_rows}


# -- the check (child process) ----------------------------------------------------------------
def check_phase(db: str, reference: str, files: list[str]) -> dict[str, Any]:
    """Compare the reference's values with the product's person_score; describe the copy."""
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    from karmabank.store import arrow_io
    from karmabank.store.engine import database_url

    cols = ("person_id", "warmth", "presence_30", "presence_90", "presence_365", "given", "asked")
    types = {"person_id": pa.int64(), "warmth": pa.float64(), "given": pa.float64(),
             "asked": pa.float64()}  # fmt: skip
    schema = pa.schema([pa.field(c, types.get(c, pa.int32()), nullable=False) for c in cols])
    with arrow_io.connect(database_url(db)) as conn:
        product = arrow_io.read_table(conn, "person_score", schema)
    con = duckdb.connect(":memory:")
    con.register("p", product)
    row = con.execute(
        f"""SELECT count(p.person_id), count(r.person_id),
              count(*) FILTER (WHERE p.person_id IS NULL OR r.person_id IS NULL),
              coalesce(max(abs(p.warmth - r.warmth) / greatest(abs(r.warmth), 1e-300)), 0),
              count(*) FILTER (WHERE p.presence_30 <> r.presence_30
                               OR p.presence_90 <> r.presence_90
                               OR p.presence_365 <> r.presence_365),
              coalesce(max(abs(p.given - r.given) + abs(p.asked - r.asked)), 0),
              sum(r.warmth)
           FROM p FULL JOIN read_parquet('{reference}') r ON p.person_id = r.person_id"""
    ).fetchall()[0]
    assert row is not None
    row_groups = sum(pq.ParquetFile(f).metadata.num_row_groups for f in files)
    return {
        "row_groups": row_groups,
        "product_rows": int(row[0]),
        "reference_rows": int(row[1]),
        "unmatched": int(row[2]),
        "warmth_max_rel_diff": float(row[3]),
        "presence_diffs": int(row[4]),
        "ledger_max_abs_diff": float(row[5]),
        "warmth_total": float(row[6] or 0),
    }


# -- the breakdown (child process) ------------------------------------------------------------
class Timer:
    """Wall time of labelled, possibly nested, parts; summed per path (label under parents)."""

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.parts: dict[tuple[str, ...], list[float]] = {}  # path -> [seconds, calls]

    @contextmanager
    def mark(self, label: str) -> Iterator[None]:
        path = (*self.stack, label)
        entry = self.parts.setdefault(path, [0.0, 0])
        self.stack.append(label)
        t0 = time.perf_counter()
        try:
            yield
        finally:
            entry[0] += time.perf_counter() - t0
            entry[1] += 1
            self.stack.pop()

    def wrap(self, fn: Callable[..., Any], label: str | Callable[..., str]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            name = label if isinstance(label, str) else label(*args, **kwargs)
            with self.mark(name):
                return fn(*args, **kwargs)

        return timed

    def wrap_iter(self, fn: Callable[..., Iterator[Any]], label: str) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Iterator[Any]:
            it = fn(*args, **kwargs)
            while True:
                with self.mark(label):
                    try:
                        item = next(it)
                    except StopIteration:
                        return
                yield item

        return timed

    def rows(self) -> list[tuple[list[str], float, int]]:
        return [(list(p), s, int(n)) for p, (s, n) in self.parts.items()]


class _TimedDuckDB:
    """A DuckDB connection whose `execute` calls are timed, one label per statement."""

    def __init__(self, con: Any, timer: Timer) -> None:
        self._con = con
        self._timer = timer

    def execute(self, sql: str, *args: Any) -> Any:
        with self._timer.mark(statement_label(sql)):
            return self._con.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def statement_label(sql: str) -> str:
    m = re.match(r"\s*CREATE TEMP (?:TABLE|VIEW) (\w+)", sql)
    if m:
        return f"duckdb: {m.group(1)}"
    return "duckdb: " + " ".join(sql.split())[:40]


def breakdown_phase(db: str, now_us: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    import adbc_driver_manager.dbapi as adbc
    import pyarrow.parquet as pq

    import karmabank.actions.scoring as scoring
    import karmabank.frames as frames
    import karmabank.measures.network as network
    import karmabank.store.arrow_io as arrow_io
    import karmabank.store.columns as columns
    from karmabank.model import from_micros
    from karmabank.settings import load_measure_settings, settings_path
    from karmabank.store.open import open_store

    imports = time.perf_counter() - t0
    now = from_micros(now_us)
    timer = Timer()

    def patch(owner: Any, name: str, label: str | Callable[..., str], each: bool = False) -> None:
        """Time every call of `owner.name` (with `each`: every item it yields)."""
        fn = getattr(owner, name)
        setattr(owner, name, timer.wrap_iter(fn, str(label)) if each else timer.wrap(fn, label))

    patch(scoring, "data_version", "data version (revision, max id)")
    patch(columns.ActivityColumns, "sync", "sync the columnar copy")
    patch(arrow_io, "read_batches", "read batches (ADBC)", each=True)
    patch(arrow_io, "_fix", "rebuild nulls (_fix)")
    patch(pq.ParquetWriter, "write_batch", "write Parquet")
    patch(arrow_io, "read_table", lambda conn, table_sql, *a, **k: f"read {table_sql.split()[-1]}")
    patch(scoring, "score_network", "score_network")
    for name in ("_define_activities", "_aggregate", "_finish", "_transitions", "_counts"):
        patch(network, name, name)
    patch(arrow_io, "append", lambda conn, table, data: f"write {table} ({data.num_rows:,} rows)")
    patch(adbc.Connection, "commit", "commit")
    engine = frames.engine

    def timed_engine(threads: int | None = None, readable: Any = ()) -> Any:
        return _TimedDuckDB(engine(threads, readable), timer)

    setattr(network, "engine", timed_engine)  # noqa: B010
    execute = adbc.Cursor.execute

    def timed_execute(cur: Any, operation: Any, parameters: Any = None) -> Any:
        if isinstance(operation, str) and operation.startswith("DELETE"):
            with timer.mark(operation):
                return execute(cur, operation, parameters)
        return execute(cur, operation, parameters)

    setattr(adbc.Cursor, "execute", timed_execute)  # noqa: B010

    out: dict[str, Any] = {"imports": imports}
    for scenario in ("cold", "warm"):
        if scenario == "cold":
            reset_phase(db)
        timer.parts.clear()
        with timer.mark("open_store"):
            store = open_store(db)
        with store:
            settings = load_measure_settings(settings_path(store.url))
            with timer.mark("rescore()"):
                scoring.rescore(store=store, now=now, settings=settings)
        out[scenario] = timer.rows()
    return out


# -- the runner (this process stays small: its peak is inherited by every child) -------------
@dataclass(frozen=True)
class Run:
    seconds: float
    peak_kib: int
    out: str


def run_child(cmd: list[str], env: dict[str, str]) -> Run:
    """Run `cmd` to its end; its wall time, its own peak RSS (ru_maxrss of os.wait4) and its
    standard output. Standard error passes through."""
    with tempfile.TemporaryFile("w+") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    if proc.returncode != 0:
        raise BenchError(f"{' '.join(cmd[:4])} ... exited with {proc.returncode}:\n{text[-2000:]}")
    maxrss = int(usage.ru_maxrss)
    return Run(seconds, maxrss // 1024 if sys.platform == "darwin" else maxrss, text)


def run_phase(name: str, env: dict[str, str], **kwargs: Any) -> tuple[Run, dict[str, Any]]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--phase", name,
           "--phase-args", json.dumps(kwargs)]  # fmt: skip
    run = run_child(cmd, env)
    return run, json.loads(run.out.strip().splitlines()[-1])


def own_peak_kib() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


PHASES: dict[str, Callable[..., dict[str, Any]]] = {
    "generate": generate_phase,
    "reset": reset_phase,
    "settings": settings_phase,
    "reference": reference_phase,
    "check": check_phase,
    "breakdown": breakdown_phase,
}


def karmabank_cli() -> str:
    beside = Path(sys.executable).parent / "karmabank"
    found = str(beside) if beside.exists() else shutil.which("karmabank")
    if not found:
        raise BenchError("no karmabank script beside this python or on PATH")
    return found


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def render_breakdown(parts: dict[str, list[list[Any]]]) -> list[str]:
    """Cold and warm side by side, as a tree in the order the parts first ran."""
    first: dict[tuple[str, ...], int] = {}
    seconds: dict[tuple[str, ...], tuple[float, int]] = {}
    for scenario in ("cold", "warm"):
        for path, s, n in parts[scenario]:
            key = tuple(path)
            first.setdefault(key, len(first))
            seconds[(scenario, *key)] = (s, n)
    order = sorted(first, key=lambda k: [first[k[: i + 1]] for i in range(len(k))])
    lines = [f"{'part':<64} {'cold s':>9} {'warm s':>9}"]
    for key in order:
        cells = []
        for scenario in ("cold", "warm"):
            s, n = seconds.get((scenario, *key), (0.0, 0))
            cells.append(f"{s:9.2f}" if n else f"{'-':>9}")
        calls = max(seconds.get((sc, *key), (0.0, 0))[1] for sc in ("cold", "warm"))
        label = "  " * (len(key) - 1) + key[-1] + (f" (x{calls:,})" if calls > 1 else "")
        lines.append(f"{label[:64]:<64} {cells[0]} {cells[1]}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--people", type=int, default=1_000_000)
    ap.add_argument("--activities", type=int, default=10_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--now", default=DEFAULT_NOW, help=f"ISO time (default {DEFAULT_NOW})")
    ap.add_argument("--db", help="database path (default: in a temporary folder)")
    ap.add_argument(
        "--reuse", action="store_true",
        help="use the existing --db as it is (scores and columnar copy cleared) instead of"
        " generating it",
    )  # fmt: skip
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument(
        "--breakdown", action="store_true",
        help="also time the parts of the rescore in-process (cold and warm)",
    )  # fmt: skip
    ap.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    ap.add_argument("--phase-args", default="{}", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.phase:
        result = PHASES[args.phase](**json.loads(args.phase_args))
        print(json.dumps(result))
        return 0
    if args.people < 2 or args.activities < args.people:
        print("need --people >= 2 and --activities >= --people", file=sys.stderr)
        return 2
    now = parse_now(args.now)
    now_us = micros(now)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KARMABANK_")}
    tmp: Path | None = None
    if args.db:
        db = Path(args.db).resolve()
        if args.reuse and not db.exists():
            print(f"--reuse: no database at {db}", file=sys.stderr)
            return 2
        if not args.reuse and (db.exists() or Path(f"{db}-columns").exists()):
            print(f"{db} exists: remove it, or pass --reuse to use it", file=sys.stderr)
            return 2
    else:
        if args.reuse:
            print("--reuse needs --db", file=sys.stderr)
            return 2
        tmp = Path(tempfile.mkdtemp(prefix="karmabank-rescore-bench-"))
        db = tmp / "bench.db"
    try:
        return run_bench(args, db, now, now_us, env)
    except BenchError as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return 1
    finally:
        if tmp is not None and not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp is not None:
            print(f"kept {tmp}")


def run_bench(
    args: argparse.Namespace, db: Path, now: datetime, now_us: int, env: dict[str, str]
) -> int:
    problems: list[str] = []
    if args.reuse:
        log(f"reusing {db}: clearing scores and the columnar copy")
        gen_run, gen = run_phase("reset", env, db=str(db))
        gen_line = f"reused {db} (not generated; reset in {gen_run.seconds:.1f} s)"
    else:
        log(f"generating {args.people:,} people and {args.activities:,} activities into {db}")
        gen_run, gen = run_phase(
            "generate", env, db=str(db), people=args.people, activities=args.activities,
            seed=args.seed, now_us=now_us,
        )  # fmt: skip
        gen_line = (
            f"generated in {gen_run.seconds:.1f} s (peak {mib(gen_run.peak_kib)}):"
            f" activities per person max {gen['max_per_person']:,},"
            f" median {gen['median_per_person']:g}, {gen['share_1_to_3']:.0%} of people with 1-3;"
            f" {gen['team']} team, {gen['bots']} bots, {gen['do_not_contact']:,} do_not_contact"
        )
    people, activities, expected = gen["people"], gen["activities"], gen["expected_people"]
    _, settings = run_phase("settings", env, db=str(db))
    cli = karmabank_cli()
    cmd = [cli, "rescore", "--db", str(db), "--now", now.isoformat(), "--json"]
    reports: dict[str, dict[str, Any]] = {}
    runs: dict[str, Run] = {}
    for label in ("cold", "warm"):
        log(f"karmabank rescore ({label})")
        runs[label] = run_child(cmd, env)
        reports[label] = json.loads(runs[label].out)
        rep = reports[label]
        if rep["people"] != expected:
            problems.append(
                f"{label} rescore scored {rep['people']:,} people, expected {expected:,}"
            )
        if rep["activities"] != activities:
            problems.append(
                f"{label} rescore saw {rep['activities']:,} activities of {activities:,}"
            )
        want_synced = activities if label == "cold" else 0
        if rep["synced"] != want_synced:
            problems.append(
                f"{label} rescore synced {rep['synced']:,} rows, expected {want_synced:,}"
            )
    columns_dir = Path(f"{db}-columns")
    manifest = json.loads((columns_dir / "manifest.json").read_text())
    files = [str(columns_dir / s) for s in manifest["segments"]]
    log("reference: plain DuckDB SQL over the columnar copy")
    ref_out = str(db) + ".reference.parquet"
    ref_run, ref = run_phase(
        "reference", env, db=str(db), files=files, now_us=now_us, settings=settings, out=ref_out
    )
    log("checking the reference against person_score")
    _, check = run_phase("check", env, db=str(db), reference=ref_out, files=files)
    Path(ref_out).unlink(missing_ok=True)
    if check["unmatched"] or check["product_rows"] != ref["rows"]:
        problems.append(
            f"people differ: product {check['product_rows']:,},"
            f" reference {check['reference_rows']:,} ({check['unmatched']:,} without a match)"
        )
    if check["warmth_max_rel_diff"] > 1e-9:
        problems.append(
            f"warmth differs: max relative difference {check['warmth_max_rel_diff']:.3g}"
        )
    if check["presence_diffs"]:
        problems.append(f"presence differs for {check['presence_diffs']:,} people")
    if check["ledger_max_abs_diff"] > 1e-9:
        problems.append(f"given/asked differ by up to {check['ledger_max_abs_diff']:g}")
    breakdown: dict[str, Any] | None = None
    if args.breakdown:
        log("breakdown: rescore() in-process, cold then warm")
        _, breakdown = run_phase("breakdown", env, db=str(db), now_us=now_us)

    db_bytes = sum(p.stat().st_size for p in db.parent.glob(db.name + "*") if p.is_file())
    print(
        f"karmabank rescore bench: {people:,} people, {activities:,} activities,"
        f" seed {args.seed}, now {now.isoformat()}"
    )
    print(gen_line)
    print(
        f"database {db}: {db_bytes / 2**20:,.0f} MiB; columnar copy"
        f" {dir_bytes(columns_dir) / 2**20:,.0f} MiB in {len(files)} segment(s),"
        f" {check['row_groups']:,} row groups"
    )
    print()
    print(f"{'run':<34} {'wall s':>8} {'peak RSS':>11}  notes")
    notes = {
        "cold": f"synced {reports['cold']['synced']:,} rows; "
        f"{reports['cold']['transitions']:,} transitions; "
        f"reported seconds {reports['cold']['seconds']:.2f}",
        "warm": f"synced {reports['warm']['synced']:,} rows; "
        f"{reports['warm']['transitions']:,} transitions; "
        f"reported seconds {reports['warm']['seconds']:.2f}",
    }
    for label in ("cold", "warm"):
        r = runs[label]
        print(f"{'karmabank rescore (' + label + ')':<34} {r.seconds:8.2f} {mib(r.peak_kib):>11}"
              f"  {notes[label]}")  # fmt: skip
    print(f"{'reference (plain DuckDB SQL)':<34} {ref_run.seconds:8.2f} {mib(ref_run.peak_kib):>11}"
          f"  query {ref['seconds']:.2f} s in-process, imports {ref['imports']:.2f} s,"
          f" {ref['rows']:,} rows")  # fmt: skip
    print()
    warm_ratio = runs["warm"].seconds / ref_run.seconds
    cold_ratio = runs["cold"].seconds / ref_run.seconds
    ok = "met" if warm_ratio <= TARGET_RATIO else "NOT met"
    print(f"ratio warm / reference: {warm_ratio:.2f}x (target <= {TARGET_RATIO:g}x: {ok})")
    print(f"ratio cold / reference: {cold_ratio:.2f}x")
    peak = max(runs["cold"].peak_kib, runs["warm"].peak_kib)
    ok = "met" if peak * 1024 <= TARGET_PEAK_BYTES else "NOT met"
    print(
        f"peak memory of the rescore: {mib(peak)} = {peak * 1024 / 1e9:.2f} GB"
        f" (target <= {TARGET_PEAK_BYTES / 1e9:g} GB: {ok})"
    )
    print(f"peak RSS of this bench process (the floor of the children's): {mib(own_peak_kib())}")
    print(
        f"rescore: {reports['warm']['people']:,} people scored ({expected:,} expected),"
        f" {reports['warm']['ranked']:,} ranked; circles {reports['warm']['circles']}"
    )
    print(
        f"reference vs person_score: {check['reference_rows']:,}"
        f" / {check['product_rows']:,} people,"
        f" warmth max relative difference {check['warmth_max_rel_diff']:.2g},"
        f" presence differences {check['presence_diffs']},"
        f" given/asked max difference {check['ledger_max_abs_diff']:g}"
    )
    if breakdown is not None:
        print()
        print(f"breakdown (in-process rescore(), imports {breakdown['imports']:.2f} s):")
        for line in render_breakdown(breakdown):
            print(line)
    if problems:
        print()
        for p in problems:
            print(f"CHECK FAILED: {p}")
        return 1
    print("checks: people, activities, sync counts and the reference's values all match")
    return 0


if __name__ == "__main__":
    sys.exit(main())
