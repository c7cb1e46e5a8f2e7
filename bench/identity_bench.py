"""Identity resolution on the seeded cross-platform world (issue 15's quality bar).

    .venv/bin/python bench/identity_bench.py [--personas 2000] [--seeds 1 2 3] [--per-platform]

(`--per-platform`: the world whose handles are taken once per platform namespace, as on the
real platforms, with wider pools of names: `generate(per_platform=True)`.)

For each seed, on `karmabank.demo_network.identity_world.generate(seed=, personas=)`:
1. karmabank's model (`measures.identity.linkage.candidates`, the default `LinkageSettings`):
   `auto` pairs (what `merge auto` merges) and auto + every `review` suggestion accepted, both
   measured after the merges they imply (transitive closure), plus the number of suggestions;
2. splink's defaults on the same features: `NameComparison` on the name (term-frequency
   adjusted), array intersections on the handles and domains, u by random sampling, m by EM
   (blocked on the name, then on the surname and initial), the same blocking rules; pairs at
   0.99 as `auto` and at 0.5 as suggestions;
3. a plain exact-name rule: two persons with the same full name (folded) are one; and the
   same full name with a handle in common;
4. profile links alone: the share of true account pairs an import already joins.
Precision and recall are pairwise over persons; times are wall seconds of the linkage alone.

    .venv/bin/python bench/identity_bench.py --scale 1000000 [--db PATH] [--engine spark]

builds (once) a SQLite database of that many persons of the seeded world with about 1.5
identities each (`generate(links=0.9)`: profiles name other accounts often), then runs the use
case of `karmabank merge suggestions --limit 20` on it in a fresh process, from no stored
suggestions, and prints its wall time and peak RSS (that process's alone).
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from pathlib import Path

import pyarrow as pa

from karmabank.demo_network.identity_world import generate
from karmabank.measures.identity.evaluation import Quality, quality
from karmabank.measures.identity.features import features, persons_table
from karmabank.measures.identity.linkage import blocking_rules, candidates
from karmabank.measures.settings import LinkageSettings


def splink_defaults(table: pa.Table, *, seed: int) -> tuple[list[tuple[int, int, float]], float]:
    """Pairs with their probability from splink's library comparisons trained with EM."""
    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    start = time.perf_counter()
    feats = features(table)
    db = DuckDBAPI(duckdb.connect())
    creator = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("name_raw").configure(term_frequency_adjustments=True),
            cl.ArrayIntersectAtSizes("handles", [1]),
            cl.ArrayIntersectAtSizes("domains", [1]),
        ],
        blocking_rules_to_generate_predictions=blocking_rules(),
    )
    linker = Linker(db.register(feats), creator, log_level=None)
    linker.training.estimate_u_using_random_sampling(max_pairs=3e6, seed=seed)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name_raw"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("last", "initial"))
    pred = linker.inference.predict(threshold_match_probability=0.01).as_pyarrow_table()  # type: ignore[no-untyped-call]
    pairs = [(min(a, b), max(a, b), p) for a, b, p in zip(
        pred.column("unique_id_l").to_pylist(), pred.column("unique_id_r").to_pylist(),
        pred.column("match_probability").to_pylist(), strict=True)]  # fmt: skip
    return pairs, time.perf_counter() - start


def exact_name(table: pa.Table) -> list[tuple[int, int]]:
    by: dict[str, list[int]] = {}
    feats = features(table)
    for pid, name in zip(feats.column("unique_id").to_pylist(),
                         feats.column("name_raw").to_pylist(), strict=True):  # fmt: skip
        if name:
            by.setdefault(name, []).append(pid)
    return [(a, b) for ids in by.values() for i, a in enumerate(ids) for b in ids[i + 1 :]]


def name_and_handle(table: pa.Table) -> list[tuple[int, int]]:
    """The issue's plain rule: the same full name (folded) and a handle in common."""
    feats = features(table)
    by: dict[str, list[tuple[int, set[str]]]] = {}
    for pid, name, handles in zip(feats.column("unique_id").to_pylist(),
                                  feats.column("name_raw").to_pylist(),
                                  feats.column("handles").to_pylist(), strict=True):  # fmt: skip
        if name and handles:
            by.setdefault(name, []).append((pid, set(handles)))
    return [(a, b) for group in by.values() for i, (a, ha) in enumerate(group)
            for b, hb in group[i + 1 :] if ha & hb]  # fmt: skip


def line(label: str, q: Quality, extra: str = "") -> str:
    numbers = f"precision {q.precision:.3f}  recall {q.recall:.3f}"
    return f"  {label:<34} pairs {q.pairs:6d}  {numbers}{extra}"


def one_world(seed: int, personas: int, per_platform: bool = False) -> None:
    world = generate(seed=seed, personas=personas, per_platform=per_platform)
    truth = world.true_pairs()
    table = persons_table(world.rows())
    print(f"seed {seed}: {len(world.accounts)} accounts, {len(world.persons)} persons, "
          f"{len(truth)} true pairs; profile links alone join "
          f"{world.linked_share():.1%} of true account pairs")  # fmt: skip
    start = time.perf_counter()
    found = candidates(table, settings=LinkageSettings())
    took = time.perf_counter() - start
    auto = [(c.a, c.b) for c in found if c.action == "auto"]
    every = [(c.a, c.b) for c in found]
    print(line("karmabank auto", quality(auto, truth), f"  ({took:.1f} s)"))
    review = [(c.a, c.b) for c in found if c.action == "review"]
    right = sum(pair in truth for pair in review) / len(review) if review else 1.0
    print(line("karmabank auto + all suggestions", quality(every, truth),
               f"  ({len(review)} review suggestions, {len(review) / len(world.persons):.3f} "
               f"per person, {right:.3f} of them right)"))  # fmt: skip
    print(line("  same, pair by pair (auto)", quality(auto, truth, merged=False)))
    print(line("  same, pair by pair (all)", quality(every, truth, merged=False)))
    pairs, took = splink_defaults(table, seed=seed)
    print(line("splink defaults, p >= 0.99", quality([(a, b) for a, b, p in pairs if p >= 0.99],
                                                     truth), f"  ({took:.1f} s)"))  # fmt: skip
    print(line("splink defaults, p >= 0.5", quality([(a, b) for a, b, p in pairs if p >= 0.5],
                                                    truth)))  # fmt: skip
    print(line("exact full name", quality(exact_name(table), truth)))
    print(line("same full name and a handle", quality(name_and_handle(table), truth)))


# the scale world: profiles name other accounts often, so ~1.5 identities per person
SCALE_LINKS = 0.9
PERSONS_PER_PERSONA = 1.46  # what that gives (measured on 20,000 personas)


def build_scale_db(path: Path, persons: int) -> None:
    """A SQLite database of about `persons` persons of the seeded world (and their identities),
    written column-wise as an import would have stored them."""
    import pyarrow as pa

    from karmabank.names import name_key
    from karmabank.store import arrow_io
    from karmabank.store.open import open_store

    start = time.perf_counter()
    world = generate(seed=1, personas=round(persons / PERSONS_PER_PERSONA), links=SCALE_LINKS)
    people = world.persons
    del world
    print(f"generated {len(people):,} persons ({time.perf_counter() - start:.0f} s)", flush=True)
    with open_store(str(path), create=True) as store:
        url = store.url
    now = 1_764_547_200_000_000  # 2025-12-01, microseconds
    person = pa.table({
        "id": pa.array([p.id for p in people], pa.int32()),
        "name": [p.name for p in people], "name_key": [name_key(p.name) for p in people],
        "name_manual": pa.array([False] * len(people)), "team": [p.team for p in people],
        "bot": [p.bot for p in people], "do_not_contact": pa.array([False] * len(people)),
        "erased": pa.array([False] * len(people)),
        "created_at": pa.array([now] * len(people), pa.int64()),
    })  # fmt: skip
    owner = [p.id for p in people for _ in p.identities]
    identity = pa.table({
        "id": pa.array(range(1, len(owner) + 1), pa.int32()),
        "person_id": pa.array(owner, pa.int32()),
        "platform": [k[0] for p in people for k in p.identities],
        "key": [k[1] for p in people for k in p.identities],
    })  # fmt: skip
    del people
    with arrow_io.connect(url) as conn:
        arrow_io.append(conn, "person", person)
        arrow_io.append(conn, "identity", identity)
        conn.commit()
    print(f"stored {person.num_rows:,} persons, {identity.num_rows:,} identities in {path} "
          f"({time.perf_counter() - start:.0f} s)", flush=True)  # fmt: skip


def scale(persons: int, db: Path | None, engine: str = "duckdb") -> None:
    """`karmabank merge suggestions --limit 20` on a database of `persons` persons, in a fresh
    process (its wall time and peak RSS alone; the database is built first, once)."""
    import sqlite3
    import subprocess
    import sys

    path = db or Path(f"/tmp/identity-scale-{persons}.sqlite")
    if not path.exists():
        build_scale_db(path, persons)
    from karmabank.store.open import open_store

    open_store(str(path), create=True).close()  # a database built before a new migration
    with sqlite3.connect(path) as con:  # every run starts from no suggestions
        con.execute("DELETE FROM merge_suggestion")
    subprocess.run([sys.executable, __file__, "--run-db", str(path), "--engine", engine],
                   check=True)  # fmt: skip


def run_db(path: Path, engine_name: str = "duckdb") -> None:
    """The child: the use case `karmabank merge suggestions --limit 20` runs, timed; with
    `engine_name` spark, on Spark local[2] (its JVM started before the clock runs; the peak RSS
    is then the Python process's alone, not the JVM's)."""
    import resource
    from datetime import UTC, datetime

    from sqlalchemy import func, select

    from karmabank.actions.merge_suggestions import merge_suggestions
    from karmabank.measures.engines import DUCKDB, SqlEngine
    from karmabank.store.merges import MergeSuggestion
    from karmabank.store.open import open_store

    engine: SqlEngine = DUCKDB
    if engine_name == "spark":
        from karmabank.measures.spark import SparkEngine

        engine = SparkEngine(master="local[2]", conf={
            "spark.driver.memory": "6g", "spark.ui.enabled": "false",
            "spark.sql.shuffle.partitions": "8"})  # fmt: skip
        engine.session()
    start = time.perf_counter()
    with open_store(str(path)) as store:
        shown = merge_suggestions(store=store, settings=LinkageSettings(),
                                  now=datetime(2025, 12, 2, tzinfo=UTC), limit=20,
                                  engine=engine)  # fmt: skip
        took = time.perf_counter() - start
        with store.sessions() as session:
            stored = dict(session.execute(select(MergeSuggestion.action, func.count())
                                          .group_by(MergeSuggestion.action)).all())  # fmt: skip
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = usage.ru_maxrss / 1024
    load = os.getloadavg()[0]
    cpu = usage.ru_utime + usage.ru_stime
    print(f"merge suggestions on {engine_name}: {took:.1f} s wall ({cpu:.1f} s CPU, "
          f"load average {load:.1f} on {os.cpu_count()} cores), peak RSS {peak:,.0f} MB; stored "
          f"{stored.get('auto', 0):,} auto and {stored.get('review', 0):,} review suggestions; "
          f"shown {len(shown)}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--personas", type=int, default=2000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--per-platform", action="store_true",
                        help="handles taken once per platform namespace, wider name pools")
    parser.add_argument("--scale", type=int, help="time `merge suggestions` on this many persons")
    parser.add_argument("--db", type=Path, help="with --scale: the database (built if missing)")
    parser.add_argument("--engine", default="duckdb", help="with --scale: duckdb or spark")
    parser.add_argument("--run-db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.getLogger("splink").setLevel(logging.WARNING)
    if args.run_db:
        run_db(args.run_db, args.engine)
        return
    if args.scale:
        scale(args.scale, args.db, args.engine)
        return
    for seed in args.seeds:
        one_world(seed, args.personas, args.per_platform)


if __name__ == "__main__":
    main()
