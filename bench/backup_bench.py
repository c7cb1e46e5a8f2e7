"""Backup and restore benchmark: `karmabank backup` / `restore` of a big SQLite database against
a plain SQLite online backup and a plain file copy, in the same process.

    .venv/bin/python bench/backup_bench.py --db PATH [--repeat N] [--portable]

The database: build it once the way bench/rescore_bench.py does (1,000,000 people,
10,000,000 activities; its generator, a few minutes), then reuse it:

    .venv/bin/python bench/rescore_bench.py --phase generate --phase-args \\
      '{"db": "/tmp/bench/bench.db", "people": 1000000, "activities": 10000000, "seed": 1,
        "now_us": 1795694400000000}'

What is timed (each the least CPU time of --repeat runs, `bench/cpu_timing.py`: the machine is
shared, so its waits are not counted; wall time printed too, the mean; before each run, untimed,
`os.sync()`, so no run pays for the writeback of the one before)
    backup      `backup_database` (actions/backup.py): the online backup API into a file beside
                the output, the row counts, the tar made around it, its digest
    reference   `sqlite3.connect(db).backup(sqlite3.connect(copy))`: what `sqlite3 .backup` does
    restore     `restore_database` into a new file: the archive checked (XXH3-128) while the
                database is extracted, the counts checked, the schema checked at the newest
    references  the same online backup from the plain copy into a new file (`sqlite3
                .restore`), and a plain file copy (`shutil.copyfile`: copy_file_range)
    ratio = product CPU seconds / reference CPU seconds. Target: backup and restore <= 2x.
--portable also times one portable backup (one Parquet file per table) and its restore into
SQLite, for information.
Checks (exit 1 when one fails): the restored database's row counts equal the source's.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cpu_timing import best  # noqa: E402


@dataclass(frozen=True)
class Target:
    db: str
    columns_base: Path | None = None
    templates_dir: Path | None = None


def counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        )]  # fmt: skip
        return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


def same(restored: dict[str, int], source: dict[str, int]) -> bool:
    """The source's tables hold as many rows restored (a newer schema may add empty ones)."""
    return all(restored.get(name) == n for name, n in source.items())


def timed(label: str, fn: Callable[[Path], int], arg: Path, repeat: int) -> float:
    walls: list[float] = []

    def run(path: Path) -> int:
        start = time.perf_counter()
        result = fn(path)
        walls.append(time.perf_counter() - start)
        return result

    # each run starts with the writes of the one before on disk (untimed): the kernel's
    # writeback of gigabytes would otherwise land in whichever run follows
    cpu, _ = best(run, arg, repeat, before=os.sync)
    wall = sum(walls) / len(walls)
    print(f"  {label:<34} {cpu:7.2f} s CPU   ({wall:6.2f} s wall, mean)", flush=True)
    return cpu


def main() -> int:
    from karmabank.actions.backup import backup_database
    from karmabank.actions.restore import restore_database
    from karmabank.store.migrate import head_revision

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--db", required=True, type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--portable", action="store_true")
    args = ap.parse_args()
    db = args.db.resolve()
    work = Path(tempfile.mkdtemp(prefix="karmabank-backup-bench-", dir=db.parent))
    try:
        size = db.stat().st_size
        source = counts(db)
        people, acts = source.get("person", 0), source.get("activity", 0)
        load = os.getloadavg()[0]
        print(f"{db}: {size / 1e9:.2f} GB, {people:,} people, {acts:,} activities; load {load:.1f}")
        print("backup")

        def online_copy(source: Path) -> Callable[[Path], int]:
            """SQLite's online backup API from `source`: the reference for both directions
            (`.backup` writes it, `.restore` reads it back)."""

            def run(out: Path) -> int:
                out.unlink(missing_ok=True)
                src, dst = sqlite3.connect(source), sqlite3.connect(out)
                src.backup(dst)
                dst.close()
                src.close()
                return 0

            return run

        def product_backup(out: Path) -> int:
            out.unlink(missing_ok=True)
            backup_database(db=str(db), path=out)
            return 0

        plain, archive = work / "plain.db", work / "bench.kbbackup"
        ref_b = timed("sqlite3 online backup (reference)", online_copy(db), plain, args.repeat)
        prod_b = timed("karmabank backup", product_backup, archive, args.repeat)
        # as the last backup left it: its audit entry is in the source, not in the backup, and
        # the restore's own is in the restored database (one each); a database at an older
        # schema is not audited by a backup, the restored one (migrated) is
        source = counts(db)
        with sqlite3.connect(db) as conn:
            older = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        if older[0] != head_revision() and "audit_log" in source:
            source["audit_log"] += 1
        print("restore")

        def copy(out: Path) -> int:
            out.unlink(missing_ok=True)
            shutil.copyfile(plain, out)
            return 0

        def product_restore(out: Path) -> int:
            out.unlink(missing_ok=True)
            restore_database(path=archive, settings=Target(str(out)))
            return 0

        target = work / "restored.db"
        ref_r = timed("sqlite3 .restore (reference)", online_copy(plain), target, args.repeat)
        ref_c = timed("file copy (reference)", copy, target, args.repeat)
        prod_r = timed("karmabank restore", product_restore, target, args.repeat)
        ok = same(counts(target), source)
        print(f"ratios: backup {prod_b / ref_b:.2f}x the online backup;")
        print(f"  restore {prod_r / ref_r:.2f}x sqlite3 .restore, {prod_r / ref_c:.2f}x a copy")
        if args.portable:
            print("portable (one run each)")
            port = work / "portable.kbbackup"

            def portable_backup(out: Path) -> int:
                return len(backup_database(db=str(db), path=out, portable=True).counts)

            def portable_restore(out: Path) -> int:
                return len(restore_database(path=port, settings=Target(str(out))).counts)

            timed("karmabank backup --portable", portable_backup, port, 1)
            ported = work / "ported.db"
            timed("karmabank restore (portable)", portable_restore, ported, 1)
            ok = ok and same(counts(ported), source)
        print("check: restored counts equal the source's" if ok else "FAILED: counts differ")
        return 0 if ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
