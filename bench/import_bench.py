"""Import benchmark: the higgs-twitter activity file into a fresh database, against a floor.

    .venv/bin/python bench/import_bench.py [--rows N] [--skip-pg | --pg URL] [--profile N]

What is timed
-------------
product
    `import_files(fmt="edgelist", options={"org": "88", "verb_map": "RT=share,MT=mention,
    RE=reply"})` into a fresh database (schema created beforehand by `open_store(create=True)`,
    not timed): everything `karmabank import` does - parse, row keys, ~304k persons and their
    identities, activities, the run's counters, the audit entry.

reference (the floor for the same database, in the same run)
    The same activity rows loaded with the plain driver, no ORM, no persons.
    SQLite: plain `sqlite3`, a table with the product's columns and types, the same unique
    index on source_key and the same indexes on (person_id, occurred_at) and (occurred_at)
    (same names), the product's pragmas (WAL, synchronous=NORMAL, cache_size=-131072,
    foreign_keys, busy_timeout), the product's `INSERT ... ON CONFLICT (source_key) DO NOTHING`
    through `executemany`, one transaction per 50,000 rows.
    PostgreSQL: `COPY` into such a table in another fresh database, one transaction per
    50,000 rows.

    Headline ("parse + load"): the reference's own plain parse of the file (gzip + str.split,
    node id -> integer through a dict, verb map, direction by --org, self-loops dropped)
    plus the load. Its source_key values are the product's (EdgeListSource, computed
    beforehand, not timed), so that both tables hold identical rows; computing keys (a blake2b
    digest and a repeat window per row) is therefore product time only. A second line
    ("load only") times the load alone from tuples built beforehand.
    ratio = product seconds / reference seconds; the target is <= 3x the headline reference.

What the reference does not do (the product's honest overhead, inside the ratio)
    - persons and identities: the product looks up and creates one person and one identity
      per distinct node (~304k for the full file); the reference maps nodes to integers with
      a dict and has no person or identity tables;
    - foreign keys: the product's activity references person (twice) and import_run, checked
      per row (SQLite foreign_keys=ON, PostgreSQL constraints); the reference table has no
      foreign keys, as there is nothing to reference;
    - row keys, ParsedRow objects, the per-batch import_run counters and the audit entry;
    - PostgreSQL: the product copies into a temporary table and then runs
      `INSERT ... SELECT ... ON CONFLICT DO NOTHING`; the reference copies straight in.

Memory
    Every measured phase runs in its own fresh process (multiprocessing "spawn"), the product
    first; its peak is that process's peak resident set (VmHWM on Linux, see `peak_kib` for
    why not `ru_maxrss`), which includes the interpreter and the imports (printed as the
    baseline). The reference's peak
    includes the product's precomputed source keys it is handed; "load only" holds every
    tuple at once.

Checks (exit status 1 when one fails)
    imported + duplicates + skipped + quarantined = the data rows of the file (563,069 for the
    full file); the reference stored as many rows as the product imported, with the same
    (source_key, occurred_at, verb, direction, channel, object, text, weight, import_run_id)
    and as many distinct persons; the reference table has the product's columns and indexes
    and its connection the product's pragmas. A PostgreSQL URL that was given but fails is an
    error too; without a URL (or with --skip-pg) PostgreSQL is skipped with the reason.
"""

from __future__ import annotations

import argparse
import cProfile
import gzip
import io
import itertools
import os
import pstats
import resource
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import IO, Any, TypeVar

from karmabank.store.bulk import ACTIVITY_COLUMNS

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = PROJECT_ROOT / "../shared/data/higgs-twitter/higgs-activity_time.txt.gz"
FULL_FILE_ROWS = 563_069
ORG = "88"
VERB_MAP = "RT=share,MT=mention,RE=reply"
OPTIONS = {"org": ORG, "verb_map": VERB_MAP}
CHANNEL = "other"  # the edge list's default platform
RUN_ID = 1  # the product's first import_run in a fresh database
BATCH = 50_000  # the product's default batch size: one transaction each
TARGET_RATIO = 3.0

COLUMNS = ACTIVITY_COLUMNS  # the columns the product's bulk writer stores, in its order
CHECK_COLUMNS = (
    "source_key, occurred_at, verb, direction, channel, object, text, weight, import_run_id"
)

Row = tuple[str, int, int, str, str, str, None, None, int | None, None, int]
T = TypeVar("T")

# As src/karmabank/store/engine.py `_sqlite_pragmas`; compared with the product's at run time.
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=10000",
    "PRAGMA cache_size=-131072",
)
SETTINGS = ("journal_mode", "foreign_keys", "synchronous", "busy_timeout", "cache_size")


def reference_ddl(dialect_name: str) -> list[str]:
    """The product's activity table (columns, types, key, unique source_key, indexes, names)
    without its foreign keys (the reference has no person table), compiled for a dialect."""
    from sqlalchemy import Column, Index, MetaData, Table, UniqueConstraint, create_engine
    from sqlalchemy.schema import CreateIndex, CreateTable

    from karmabank.store.tables import Activity, Base

    product = Base.metadata.tables[Activity.__tablename__]
    table = Table(
        "activity",
        MetaData(naming_convention=Base.metadata.naming_convention),
        *(Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
          for c in product.columns),
        *(UniqueConstraint(*(c.name for c in uc.columns), name=uc.name)
          for uc in product.constraints if isinstance(uc, UniqueConstraint)),
    )  # fmt: skip
    indexes = [
        Index(ix.name, *(table.c[c.name] for c in ix.columns))
        for ix in sorted(product.indexes, key=lambda ix: str(ix.name))
    ]
    # an engine that never connects, for its dialect's DDL compiler
    dialect = create_engine(
        "sqlite://" if dialect_name == "sqlite" else "postgresql+psycopg://"
    ).dialect
    return [
        str(CreateTable(table).compile(dialect=dialect)),
        *(str(CreateIndex(ix).compile(dialect=dialect)) for ix in indexes),
    ]


class BenchError(Exception):
    """A failed check or a failed run; the message says which."""


@dataclass(frozen=True)
class Phase:
    """One measured phase, as returned by its process."""

    seconds: float
    rows: int  # activities stored
    peak_kib: int  # ru_maxrss of the phase's own process
    counts: tuple[int, int, int, int] | None = None  # imported, duplicates, skipped, quarantined
    skip_reasons: dict[str, int] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)
    profile: str = ""


# -- input ------------------------------------------------------------------------------------
def open_text(path: Path) -> IO[str]:
    """Plain or gzip (by magic bytes, as the product does), as text lines."""
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace", newline="")
    return open(path, encoding="utf-8", errors="replace", newline="")


def count_data_rows(path: Path) -> int:
    """Lines that are data to the edge-list importer: not blank, not a % or # comment."""
    n = 0
    with open_text(path) as f:
        for line in f:
            s = line.strip()
            if s and s[0] not in "%#":
                n += 1
    return n


def truncated_copy(src: Path, rows: int, folder: Path) -> Path:
    """The first `rows` lines of `src`, gzip-compressed like the original."""
    out = folder / f"{src.name.removesuffix('.gz').removesuffix('.txt')}-first-{rows}.txt.gz"
    with open_text(src) as fin, gzip.open(out, "wt", encoding="utf-8", newline="") as fout:
        fout.writelines(itertools.islice(fin, rows))
    return out


def parse_verb_map(text: str) -> dict[str, str]:
    return {k.strip(): v.strip().lower() for k, _, v in (p.partition("=") for p in text.split(","))}


def product_keys(path: Path) -> tuple[list[str], float]:
    """The product's source_key of every stored row, in file order, and how long the product's
    parser alone took to read the file (no database)."""
    from karmabank.sources.base import InputFile, ParsedRow
    from karmabank.sources.edgelist import EdgeListSource

    source = EdgeListSource(OPTIONS)
    t0 = time.perf_counter()
    with InputFile(path) as file:
        keys = [item.source_key for item in source.read(file) if type(item) is ParsedRow]
    return keys, time.perf_counter() - t0


def plain_rows(path: Path, keys: Sequence[str], org: str, verbs: dict[str, str]) -> Iterator[Row]:
    """The reference's own parse: the rows the product stores, built with plain Python."""
    ids: dict[str, int] = {}
    i = 0
    with open_text(path) as f:
        for line in f:
            fields = line.split()
            if not fields or fields[0][0] in "%#":
                continue
            src, dst, t, typ = fields
            if src == dst:
                continue
            verb = verbs.get(typ) or typ.lower()
            at = int(t) * 1_000_000
            if dst == org:
                row: Row = (keys[i], at, ids.setdefault(src, len(ids) + 1), verb, "in",
                            CHANNEL, None, None, None, None, RUN_ID)  # fmt: skip
            elif src == org:
                row = (keys[i], at, ids.setdefault(dst, len(ids) + 1), verb, "give",
                       CHANNEL, None, None, None, None, RUN_ID)  # fmt: skip
            else:
                pid = ids.setdefault(src, len(ids) + 1)
                row = (keys[i], at, pid, verb, "peer", CHANNEL, None, None,
                       ids.setdefault(dst, len(ids) + 1), None, RUN_ID)  # fmt: skip
            i += 1
            yield row
    if i != len(keys):
        raise BenchError(f"the reference parsed {i} rows, the product {len(keys)}")


def chunks(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(rows)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def peak_kib() -> int:
    """This process's peak resident memory in KiB.

    On Linux, VmHWM of /proc/self/status: `ru_maxrss` of a spawned child also counts the
    parent's peak (Linux keeps the high-water mark across fork + exec: a child of a 300 MiB
    parent reports 300 MiB), while VmHWM belongs to the child's own address space.
    Elsewhere, `ru_maxrss` (bytes on macOS)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    maxrss = int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return maxrss // 1024 if sys.platform == "darwin" else maxrss


# -- phases: each runs in a fresh process ----------------------------------------------------
def baseline_phase() -> Phase:
    """A process with everything imported and nothing done: the floor of the peaks."""
    import karmabank.actions.importing  # noqa: F401
    import karmabank.store.open  # noqa: F401

    return Phase(0.0, 0, peak_kib())


def product_phase(db: str, data: str, now: datetime, profile_top: int = 0) -> Phase:
    from karmabank.actions.importing import import_files
    from karmabank.store.open import open_store

    with open_store(db, create=True) as store:
        prof = cProfile.Profile() if profile_top else None
        t0 = time.perf_counter()
        if prof:
            prof.enable()
        report = import_files(
            store=store, fmt="edgelist", paths=[Path(data)], options=OPTIONS, now=now
        )
        if prof:
            prof.disable()
        seconds = time.perf_counter() - t0
        with store.engine.connect() as conn:
            stored = int(conn.exec_driver_sql("SELECT count(*) FROM activity").scalar_one())
    text = ""
    if prof:
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out)
        stats.strip_dirs().sort_stats("tottime").print_stats(profile_top)
        stats.sort_stats("cumulative").print_stats(profile_top)
        text = out.getvalue()
    counts = (report.imported, report.duplicates, report.skipped, report.quarantined)
    return Phase(seconds, stored, peak_kib(), counts, dict(report.skip_reasons), profile=text)


def sqlite_settings(cur: Callable[[str], Any]) -> dict[str, str]:
    return {name: str(cur(f"PRAGMA {name}").fetchone()[0]) for name in SETTINGS}


def ref_sqlite_phase(
    db: str, data: str, keys: list[str], verbs: dict[str, str], load_only: bool
) -> Phase:
    con = sqlite3.connect(db, isolation_level=None)  # explicit BEGIN/COMMIT below
    try:
        for pragma in SQLITE_PRAGMAS:
            con.execute(pragma)
        for ddl in reference_ddl("sqlite"):
            con.execute(ddl)
        settings = sqlite_settings(con.execute)
        sql = (
            f"INSERT INTO activity ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
            " ON CONFLICT (source_key) DO NOTHING"
        )
        rows: Iterable[Row] = plain_rows(Path(data), keys, ORG, verbs)
        if load_only:
            rows = list(rows)
        t0 = time.perf_counter()
        for chunk in chunks(rows, BATCH):
            con.execute("BEGIN")
            con.executemany(sql, chunk)
            con.execute("COMMIT")
        seconds = time.perf_counter() - t0
        stored = int(con.execute("SELECT count(*) FROM activity").fetchone()[0])
    finally:
        con.close()
    return Phase(seconds, stored, peak_kib(), settings=settings)


def ref_pg_phase(
    url: str, data: str, keys: list[str], verbs: dict[str, str], load_only: bool
) -> Phase:
    import psycopg

    with psycopg.connect(url) as conn:
        with conn.cursor() as cur:
            for ddl in reference_ddl("postgresql"):
                cur.execute(ddl)
        conn.commit()
        rows: Iterable[Row] = plain_rows(Path(data), keys, ORG, verbs)
        if load_only:
            rows = list(rows)
        copy = f"COPY activity ({', '.join(COLUMNS)}) FROM STDIN"
        t0 = time.perf_counter()
        for chunk in chunks(rows, BATCH):
            with conn.cursor() as cur, cur.copy(copy) as cp:
                for row in chunk:
                    cp.write_row(row)
            conn.commit()
        seconds = time.perf_counter() - t0
        with conn.cursor() as cur:
            got = cur.execute("SELECT count(*) FROM activity").fetchone()
            stored = int(got[0]) if got else -1
    return Phase(seconds, stored, peak_kib())


def in_fresh_process(fn: Callable[..., Phase], *args: Any) -> Phase:
    """Run `fn(*args)` in a new interpreter, so its peak memory is its own."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


# -- checks -------------------------------------------------------------------------------------
def check_counts(label: str, phase: Phase, data_rows: int) -> list[str]:
    assert phase.counts is not None
    imported, duplicates, skipped, quarantined = phase.counts
    total = imported + duplicates + skipped + quarantined
    problems = []
    if total != data_rows:
        problems.append(
            f"{label}: imported {imported} + duplicates {duplicates} + skipped {skipped}"
            f" + quarantined {quarantined} = {total}, but the file has {data_rows} data rows"
        )
    if phase.rows != imported:
        problems.append(f"{label}: reported {imported} imported, the table holds {phase.rows}")
    return problems


def sqlite_shape(con: sqlite3.Connection) -> tuple[Any, ...]:
    columns = con.execute("PRAGMA table_info(activity)").fetchall()
    indexes = sorted(
        (name, unique, tuple(r[2] for r in con.execute(f"PRAGMA index_info('{name}')")))
        for _, name, unique, *_ in con.execute("PRAGMA index_list(activity)")
    )
    return tuple(columns), tuple(indexes)


def check_sqlite(product_db: Path, ref_db: Path, ref: Phase) -> list[str]:
    """The reference table has the product's shape and settings and holds the same rows."""
    from karmabank.store.engine import make_engine

    problems = []
    engine = make_engine(str(product_db))
    try:
        with engine.connect() as conn:
            product_settings = sqlite_settings(conn.exec_driver_sql)
    finally:
        engine.dispose()
    if product_settings != ref.settings:
        problems.append(f"pragmas differ: product {product_settings}, reference {ref.settings}")
    con = sqlite3.connect(product_db)
    try:
        con.execute("ATTACH DATABASE ? AS ref", (str(ref_db),))
        if sqlite_shape(con) != sqlite_shape_of(ref_db):
            problems.append("the reference table's columns or indexes differ from the product's")
        for a, b in (("main", "ref"), ("ref", "main")):
            n = con.execute(
                f"SELECT count(*) FROM (SELECT {CHECK_COLUMNS} FROM {a}.activity"
                f" EXCEPT SELECT {CHECK_COLUMNS} FROM {b}.activity)"
            ).fetchone()[0]
            if n:
                problems.append(f"{n} rows of the {a} table are not in the {b} table")
        persons = [
            con.execute(
                f"SELECT count(*) FROM (SELECT person_id FROM {s}.activity UNION"
                f" SELECT target_id FROM {s}.activity WHERE target_id IS NOT NULL)"
            ).fetchone()[0]
            for s in ("main", "ref")
        ]
        if persons[0] != persons[1]:
            problems.append(f"distinct persons differ: product {persons[0]}, ref {persons[1]}")
    finally:
        con.close()
    return problems


def sqlite_shape_of(db: Path) -> tuple[Any, ...]:
    con = sqlite3.connect(db)
    try:
        return sqlite_shape(con)
    finally:
        con.close()


def pg_fingerprint(url: str) -> tuple[Any, ...]:
    """Columns, indexes and a digest of the compared columns of `activity` in one database."""
    import psycopg

    with psycopg.connect(url) as conn:
        columns = conn.execute(
            "SELECT column_name, data_type, is_nullable, character_maximum_length,"
            " column_default FROM information_schema.columns"
            " WHERE table_name = 'activity' ORDER BY ordinal_position"
        ).fetchall()
        indexes = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'activity' ORDER BY indexname"
        ).fetchall()
        digest = conn.execute(
            f"SELECT count(*), md5(string_agg(concat_ws('|', {CHECK_COLUMNS}), ','"
            " ORDER BY source_key)) FROM activity"
        ).fetchone()
        persons = conn.execute(
            "SELECT count(*) FROM (SELECT person_id FROM activity UNION"
            " SELECT target_id FROM activity WHERE target_id IS NOT NULL) p"
        ).fetchone()
    return tuple(columns), tuple(indexes), digest, persons


# -- PostgreSQL databases ---------------------------------------------------------------------
def pg_urls(url: str, dbname: str) -> tuple[str, str]:
    """(SQLAlchemy URL for the product, libpq URL for psycopg) of database `dbname` on the
    server of `url`."""
    from sqlalchemy.engine import make_url

    from karmabank.store.engine import database_url

    u = make_url(database_url(url)).set(database=dbname)
    return (
        u.render_as_string(hide_password=False),
        u.set(drivername="postgresql").render_as_string(hide_password=False),
    )


class PgDatabases:
    """Fresh databases on the server of a URL, dropped on exit."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.admin = psycopg.connect(pg_urls(url, make_url_db(url))[1], autocommit=True)
        self.url = url
        self.names: list[str] = []

    def create(self, name: str) -> tuple[str, str]:
        from psycopg import sql

        self.admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        self.admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.names.append(name)
        return pg_urls(self.url, name)

    def __enter__(self) -> PgDatabases:
        return self

    def __exit__(self, *exc: object) -> None:
        from psycopg import sql

        try:
            for name in self.names:
                self.admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
        finally:
            self.admin.close()


def make_url_db(url: str) -> str:
    from sqlalchemy.engine import make_url

    from karmabank.store.engine import database_url

    return make_url(database_url(url)).database or "postgres"


def pg_server(url: str) -> str:
    from sqlalchemy.engine import make_url

    from karmabank.store.engine import database_url

    u = make_url(database_url(url))
    return f"{u.host or 'local socket'}:{u.port or 5432}"


# -- the run ----------------------------------------------------------------------------------
@dataclass
class Line:
    backend: str
    reference: str
    product: Phase
    ref: Phase


def mib(kib: int) -> str:
    return f"{kib / 1024:,.0f} MiB"


def render(lines: list[Line]) -> str:
    head = ("backend", "reference", "rows", "product s", "ref s", "ratio", "product act/s",
            "ref act/s", "product peak", "ref peak")  # fmt: skip
    table = [head]
    for ln in lines:
        p, r = ln.product, ln.ref
        table.append((
            ln.backend, ln.reference, f"{p.rows:,}", f"{p.seconds:.2f}", f"{r.seconds:.2f}",
            f"{p.seconds / r.seconds:.2f}x", f"{p.rows / p.seconds:,.0f}",
            f"{r.rows / r.seconds:,.0f}", mib(p.peak_kib), mib(r.peak_kib),
        ))  # fmt: skip
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    out = []
    for row in table:
        cells = [
            c.ljust(w) if i < 2 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def log(msg: str) -> None:
    print(f"... {msg}", file=sys.stderr, flush=True)


def run_sqlite(
    work: Path, data: Path, data_rows: int, now: datetime, verbs: dict[str, str],
    profile_top: int,
) -> tuple[list[Line], list[str], list[str], list[str]]:  # fmt: skip
    """Returns the table's lines, notes, problems and the product's source keys."""
    notes: list[str] = []
    product_db = work / "product.db"
    log("SQLite: product import")
    product = in_fresh_process(product_phase, str(product_db), str(data), now)
    problems = check_counts("SQLite product", product, data_rows)
    imported, duplicates, skipped, quarantined = product.counts or (0, 0, 0, 0)
    reasons = ", ".join(f"{n:,} {r}" for r, n in sorted(product.skip_reasons.items()))
    notes.append(
        f"product counts: {imported:,} imported + {duplicates:,} duplicates + {skipped:,}"
        f" skipped ({reasons or 'none'}) + {quarantined:,} quarantined"
        f" = {imported + duplicates + skipped + quarantined:,} of {data_rows:,} data rows"
    )
    log("product's parser alone (for the reference's source keys)")
    keys, parse_s = product_keys(data)
    notes.append(
        f"product's parser alone (EdgeListSource.read + row keys, no database): {parse_s:.2f} s"
        f" = {parse_s / product.seconds:.0%} of the product's SQLite import"
    )
    lines = []
    for label, load_only in (("parse + executemany", False), ("executemany only", True)):
        ref_db = work / f"reference-{'load' if load_only else 'parse'}.db"
        log(f"SQLite: reference, {label}")
        ref = in_fresh_process(ref_sqlite_phase, str(ref_db), str(data), keys, verbs, load_only)
        if ref.rows != product.rows:
            problems.append(f"SQLite reference ({label}) stored {ref.rows}, product {product.rows}")
        problems += [
            f"SQLite reference ({label}): {p}" for p in check_sqlite(product_db, ref_db, ref)
        ]
        lines.append(Line("SQLite", label, product, ref))
    if profile_top:
        log("SQLite: product import again, under cProfile")
        prof = in_fresh_process(
            product_phase, str(work / "profiled.db"), str(data), now, profile_top
        )
        notes.append(f"cProfile of the product's SQLite import ({prof.seconds:.2f} s profiled):")
        notes.append(prof.profile.rstrip())
    return lines, notes, problems, keys


def run_pg(
    url: str, data: Path, data_rows: int, now: datetime, verbs: dict[str, str],
    keys: list[str], profile_top: int,
) -> tuple[list[Line], list[str], list[str]]:  # fmt: skip
    """Returns the table's lines, notes and problems."""
    lines: list[Line] = []
    notes: list[str] = []
    problems: list[str] = []
    with PgDatabases(url) as dbs:
        prefix = f"bench_{os.getpid()}"
        product_url, product_libpq = dbs.create(f"{prefix}_product")
        log("PostgreSQL: product import")
        product = in_fresh_process(product_phase, product_url, str(data), now)
        problems += check_counts("PostgreSQL product", product, data_rows)
        product_print = pg_fingerprint(product_libpq)
        for label, load_only in (("parse + COPY", False), ("COPY only", True)):
            _, ref_libpq = dbs.create(f"{prefix}_ref_{'load' if load_only else 'parse'}")
            log(f"PostgreSQL: reference, {label}")
            ref = in_fresh_process(ref_pg_phase, ref_libpq, str(data), keys, verbs, load_only)
            ref_print = pg_fingerprint(ref_libpq)
            for what, a, b in zip(
                ("columns", "indexes", "rows (count, digest)", "distinct persons"),
                product_print, ref_print, strict=True,
            ):  # fmt: skip
                if a != b:
                    problems.append(f"PostgreSQL reference ({label}): {what} differ: {a} != {b}")
            lines.append(Line("PostgreSQL", label, product, ref))
        if profile_top:
            profiled_url, _ = dbs.create(f"{prefix}_profiled")
            log("PostgreSQL: product import again, under cProfile")
            prof = in_fresh_process(product_phase, profiled_url, str(data), now, profile_top)
            notes.append(
                f"cProfile of the product's PostgreSQL import ({prof.seconds:.2f} s profiled):"
            )
            notes.append(prof.profile.rstrip())
    return lines, notes, problems


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the activity file")
    ap.add_argument("--rows", type=int, help="only the first N lines of the file")
    ap.add_argument("--pg", help="PostgreSQL URL (default: $KARMABANK_TEST_PG)")
    ap.add_argument("--skip-pg", action="store_true", help="do not run PostgreSQL")
    ap.add_argument(
        "--profile", type=int, default=0, metavar="N",
        help="also run each product import under cProfile; print the top N functions",
    )  # fmt: skip
    args = ap.parse_args(argv)
    data: Path = args.data.resolve()
    if not data.is_file():
        print(f"no data file at {data}", file=sys.stderr)
        return 2
    if args.rows is not None and args.rows < 1:
        print("--rows must be at least 1", file=sys.stderr)
        return 2
    now = datetime.now(UTC)
    verbs = parse_verb_map(VERB_MAP)
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="karmabank-bench-") as tmp:
        work = Path(tmp)
        if args.rows:
            data = truncated_copy(data, args.rows, work)
        data_rows = count_data_rows(data)
        if args.rows is None and args.data.resolve() == DEFAULT_DATA.resolve():
            if data_rows != FULL_FILE_ROWS:
                problems.append(f"{data} has {data_rows:,} data rows, expected {FULL_FILE_ROWS:,}")
        baseline = in_fresh_process(baseline_phase)
        lines, notes, sqlite_problems, keys = run_sqlite(
            work, data, data_rows, now, verbs, args.profile
        )
        problems += sqlite_problems
        pg_url = None if args.skip_pg else (args.pg or os.environ.get("KARMABANK_TEST_PG"))
        if args.skip_pg:
            pg_note = "PostgreSQL: skipped (--skip-pg)"
        elif not pg_url:
            pg_note = "PostgreSQL: skipped (no URL: pass --pg URL or set KARMABANK_TEST_PG)"
        else:
            try:
                pg_lines, pg_notes, pg_problems = run_pg(
                    pg_url, data, data_rows, now, verbs, keys, args.profile
                )
            except Exception as e:  # a URL was given: failing to use it is an error
                problems.append(f"PostgreSQL failed: {type(e).__name__}: {e}")
                pg_note = "PostgreSQL: FAILED (see below)"
            else:
                lines += pg_lines
                notes += pg_notes
                problems += pg_problems
                source = "--pg" if args.pg else "$KARMABANK_TEST_PG"
                pg_note = (
                    f"PostgreSQL: server {pg_server(pg_url)} ({source}), fresh databases"
                    f" bench_{os.getpid()}_*, dropped afterwards"
                )
    shown = f"{args.data.name}" + (f", first {args.rows:,} lines" if args.rows else "")
    print(f"karmabank import bench: {shown}: {data_rows:,} data rows,"
          f" --org {ORG} --verb-map {VERB_MAP}")  # fmt: skip
    print()
    print(render(lines))
    print()
    headline = lines[0]
    ratio = headline.product.seconds / headline.ref.seconds
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    print(f"SQLite headline: product / (plain parse + executemany) = {ratio:.2f}x"
          f" (target <= {TARGET_RATIO:g}x: {verdict})")  # fmt: skip
    for ln in lines[2:3]:
        pg_ratio = ln.product.seconds / ln.ref.seconds
        print(f"PostgreSQL headline: product / (plain parse + COPY) = {pg_ratio:.2f}x")
    print(pg_note)
    print(
        "peak = peak RSS (VmHWM) of each phase's own fresh process;"
        f" baseline (interpreter + imports): {mib(baseline.peak_kib)}"
    )
    for note in notes:
        print(note)
    if problems:
        print()
        for p in problems:
            print(f"CHECK FAILED: {p}")
        return 1
    print("checks: counts, reference rows, shape and pragmas all match")
    return 0


if __name__ == "__main__":
    sys.exit(main())
