"""The rescore's measures on DuckDB and on Spark local[2], same machine, same Parquet file
(docs/scale.md): `python bench/spark_bench.py --activities 1000000 [--engines duckdb,spark]`.

The network is tests/measures/test_spark_equality.py's generator (people = activities / 16);
each engine scores it once at the same `now` (Spark's session is started before the clock
runs). Prints one JSON line per engine: seconds, the load average, and for Spark the shuffle
bytes written per stage (from its event log).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import NOW  # noqa: E402
from tests.measures.test_spark_equality import generated  # noqa: E402

from karmabank.frames import ParquetFiles  # noqa: E402
from karmabank.measures import spark as spark_module  # noqa: E402
from karmabank.measures.network import score_network  # noqa: E402
from karmabank.measures.settings import MeasureSettings  # noqa: E402


def shuffles(log_dir: str) -> list[dict[str, Any]]:
    """Per completed stage: its name, tasks, shuffle bytes read and written."""
    stages = []
    for path in glob.glob(f"{log_dir}/**/*", recursive=True):
        if os.path.isdir(path):
            continue
        for line in open(path):
            event = json.loads(line)
            if event.get("Event") != "SparkListenerStageCompleted":
                continue
            info = event["Stage Info"]
            acc = {a.get("Name"): a.get("Value") for a in info.get("Accumulables", [])}
            stages.append({
                "stage": info["Stage ID"], "name": info["Stage Name"].split(" at ")[0],
                "tasks": info["Number of Tasks"],
                "shuffle_read": int(acc.get("internal.metrics.shuffle.read.remoteBytesRead", 0))
                + int(acc.get("internal.metrics.shuffle.read.localBytesRead", 0)),
                "shuffle_write": int(acc.get("internal.metrics.shuffle.write.bytesWritten", 0)),
                "input": int(acc.get("internal.metrics.input.bytesRead", 0)),
            })  # fmt: skip
    return sorted(stages, key=lambda s: s["stage"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--activities", type=int, default=1_000_000)
    ap.add_argument("--engines", default="duckdb,spark")
    ap.add_argument("--driver-memory", default="3g")
    args = ap.parse_args()
    settings = MeasureSettings()
    with tempfile.TemporaryDirectory(prefix="spark-bench-") as tmp:
        path = Path(tmp) / "acts.parquet"
        t0 = time.perf_counter()
        table = generated(people=args.activities // 16, activities=args.activities, seed=20,
                          now=NOW)  # fmt: skip
        pq.write_table(table, path, row_group_size=1 << 20, compression="zstd")
        del table
        made = {"generated": args.activities, "seconds": round(time.perf_counter() - t0, 1),
                "parquet_mb": round(path.stat().st_size / 2**20, 1)}  # fmt: skip
        print(json.dumps(made), flush=True)
        acts = ParquetFiles((path,))
        for name in args.engines.split(","):
            engine: Any = None
            log_dir = f"{tmp}/events"
            if name == "spark":
                os.makedirs(log_dir)
                engine = spark_module.SparkEngine(
                    master="local[2]",
                    conf={"spark.sql.shuffle.partitions": "4", "spark.ui.enabled": "false",
                          "spark.driver.memory": args.driver_memory,
                          "spark.eventLog.enabled": "true", "spark.eventLog.dir": log_dir,
                          "spark.eventLog.compress": "false"},
                )  # fmt: skip
                engine.session()
            t0 = time.perf_counter()
            kw = {} if engine is None else {"engine": engine}
            result = score_network(acts, now=NOW, settings=settings, **kw)
            seconds = time.perf_counter() - t0
            line: dict[str, Any] = {
                "engine": name, "activities": args.activities, "people": result.scores.num_rows,
                "seconds": round(seconds, 1), "load": os.getloadavg(),
            }  # fmt: skip
            print(json.dumps(line), flush=True)
            if engine is not None:
                engine.session().stop()
                print(json.dumps({"stages": shuffles(log_dir)}), flush=True)


if __name__ == "__main__":
    main()
