"""Where splink runs the linkage model: its DuckDB backend in the process (the default) or its
Spark backend on the rescore's Spark session (`measures.spark.SparkEngine`).

The model's SQL (`linkage.py`: the comparison levels' conditions and the query that reads the
pairs back) is written once, in DuckDB's dialect; on Spark each piece is transpiled with
SQLGlot (`measures.spark.to_spark`), as the measures' SQL is. splink itself writes the rest
(blocking, comparison vectors, term frequencies, the u sampling) in each backend's dialect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from karmabank.measures.engines import SqlEngine
from karmabank.measures.settings import LinkageSettings


@dataclass(frozen=True)
class LinkageBackend:
    """A splink database API, how the model's SQL reads on it, and how to read a query."""

    api: Any  # splink's DuckDBAPI or SparkAPI
    condition: Callable[[str], str]  # a condition in DuckDB's dialect -> in the backend's
    arrow: Callable[[str], pa.Table]  # a query in DuckDB's dialect -> its rows
    close: Callable[[], None]


def linkage_backend(engine: SqlEngine, settings: LinkageSettings) -> LinkageBackend:
    """splink on `engine`: a private in-memory DuckDB (no external access, at most
    `settings.memory_mb`), or the Spark session of a `SparkEngine`."""
    if engine.name == "spark":
        return _spark(engine)
    from splink import DuckDBAPI

    con = duckdb.connect(config={"enable_external_access": False, "threads": 2,
                                 "memory_limit": f"{settings.memory_mb}MB"})  # fmt: skip
    return LinkageBackend(DuckDBAPI(con), lambda sql: sql,
                          lambda sql: con.sql(sql).to_arrow_table(), con.close)  # fmt: skip


def _spark(engine: Any) -> LinkageBackend:
    from splink import SparkAPI

    from karmabank.measures.spark import SparkRunner, to_spark

    session = engine.session()  # one clear line if PySpark, Java or the master is missing
    # intermediate tables kept in the executors' memory (spilling to their disks), not written
    # as Parquet under a checkpoint folder; the model uses no string-similarity function, so
    # splink's jar of them is not needed
    api = SparkAPI(  # type: ignore[no-untyped-call]
        spark_session=session, break_lineage_method="persist", register_udfs_automatically=False
    )
    runner = SparkRunner(session)
    return LinkageBackend(api, to_spark, runner.arrow, runner.close)
