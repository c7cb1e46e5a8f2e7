"""The measures' SQL on Apache Spark (the `spark` extra): `SparkEngine`, a `measures.engines`
engine.

Each query is the DuckDB text `score_network` writes, transpiled by SQLGlot (DuckDB → Spark)
with two rewrites of dialect: a literal with a decimal point (`0.5`, `86400000000.0`) is a
DOUBLE, as the formulas mean it (Spark reads it as a DECIMAL, and decimal division rounds to
its scale), and a list overlap is `arrays_overlap` (the linkage model's conditions,
`measures/identity/backends.py`). The activities are read by Spark from the columnar copy's
Parquet files, at their path on this machine or under `columns_url` (the same files on storage
every executor reads); the other inputs are small Arrow tables. Every materialized table is
checkpointed, so a later query does not replan its lineage.

Whatever stops Spark from running (no PySpark, no Java, a master nobody answers at, files it
cannot read, a failed job) is one `SparkUnavailable` line, raised before anything is written.
"""

from __future__ import annotations

import atexit
import shutil
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlglot
from sqlglot import exp

from karmabank.errors import SparkUnavailable
from karmabank.frames import ACTIVITY_SCHEMA, ParquetFiles

INSTALL = "pip install 'karmabank[spark]'"
_SESSION: Any = None  # one SparkSession per process, made by the first engine that runs


def to_spark(sql: str) -> str:
    """`sql` (DuckDB's dialect) in Spark's, decimal literals as doubles, and DuckDB's
    `list_has_any(a, b)` as Spark's `arrays_overlap(a, b)` (SQLGlot writes `a && b`, which
    Spark does not read)."""
    tree = sqlglot.parse_one(sql, read="duckdb").transform(_spark_node)
    return tree.sql(dialect="spark")


def _spark_node(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Literal) and node.is_number and any(c in node.this for c in ".eE"):
        return exp.cast(node.copy(), exp.DataType.build("double"))
    if isinstance(node, exp.ArrayOverlaps):
        return exp.Anonymous(this="ARRAYS_OVERLAP", expressions=[node.this, node.expression])
    return node


@dataclass(frozen=True)
class SparkEngine:
    """Spark at `master` (`local[2]`, `spark://host:7077`, `yarn`...; None: what spark-submit
    says, else every core here), with `conf` set on the session the first time one is made in
    this process."""

    master: str | None = None  # None: spark-submit's --master, else local[*]
    conf: Mapping[str, str] = field(default_factory=dict)
    columns_url: str | None = None  # where executors read the copy's segments; None: here
    java_home: str | None = None  # $JAVA_HOME as the edge read it; None: `java` on the PATH
    name: str = "spark"

    def open(
        self, acts: ParquetFiles | pa.Table, view: str, threads: int | None = None
    ) -> SparkRunner:
        runner = SparkRunner(self.session())
        if isinstance(acts, ParquetFiles):
            runner.read_parquet(view, [self.url_of(p) for p in acts.paths])
        else:
            runner.register(view, acts)
        return runner

    def url_of(self, path: Path) -> str:
        if self.columns_url is None:
            return str(path)
        return f"{self.columns_url.rstrip('/')}/{path.name}"

    def session(self) -> Any:
        """The process's session (made at the first call), after checking what it needs."""
        global _SESSION
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise SparkUnavailable(
                f"the Spark engine needs PySpark and Java 17: {INSTALL}"
            ) from None
        self._check_java()
        self._check_master()
        if _SESSION is not None:
            return _SESSION
        builder = SparkSession.builder.appName("karmabank rescore")
        if self.master is not None:
            builder = builder.master(self.master)
        quiet = {"spark.sql.session.timeZone": "UTC", "spark.ui.showConsoleProgress": "false"}
        for key, value in {**quiet, **self.conf}.items():
            builder = builder.config(key, value)
        try:
            _SESSION = builder.getOrCreate()
        except Exception as e:  # the JVM did not start, or the master refused the app
            raise SparkUnavailable(
                f"Spark did not start at {self.master or 'its default master'}: {_first_line(e)}"
            ) from None
        _SESSION.sparkContext.setLogLevel("ERROR")
        atexit.register(_SESSION.stop)  # before the interpreter goes: no JVM left talking to it
        return _SESSION

    def _check_java(self) -> None:
        if self.java_home is not None:
            java = Path(self.java_home) / "bin" / "java"
            if not java.is_file():
                raise SparkUnavailable(
                    f"the Spark engine needs Java 17: JAVA_HOME={self.java_home} has no bin/java"
                )
        elif shutil.which("java") is None:
            raise SparkUnavailable(
                "the Spark engine needs Java 17: no java on the PATH, set JAVA_HOME"
            )

    def _check_master(self) -> None:
        """A standalone master (`spark://h1:7077,h2:7077`) must answer one of its addresses:
        else Spark would retry for a minute before saying so."""
        if self.master is None or not self.master.startswith("spark://"):
            return
        problems = []
        for address in self.master.removeprefix("spark://").split(","):
            host, _, port = address.rpartition(":")
            try:
                with socket.create_connection((host or address, int(port or 7077)), timeout=5):
                    return
            except (OSError, ValueError) as e:
                problems.append(f"{address}: {e.strerror or e}" if isinstance(e, OSError)
                                else f"{address}: not host:port")  # fmt: skip
        raise SparkUnavailable(f"Spark master {self.master} unreachable ({'; '.join(problems)})")


class SparkRunner:
    """One scoring pass's temporary views on the session; `close` drops them."""

    def __init__(self, spark: Any) -> None:
        self.spark = spark
        self.views: list[str] = []
        self.frames: list[Any] = []

    def read_parquet(self, name: str, urls: list[str]) -> None:
        ddl = _ddl(ACTIVITY_SCHEMA)
        try:
            df = self.spark.read.schema(ddl).parquet(*urls)
        except Exception as e:
            raise SparkUnavailable(
                f"Spark cannot read the columnar copy ({urls[0]}...): {_first_line(e)}"
            ) from None
        self._view(name, df)

    def register(self, name: str, table: pa.Table) -> None:
        # Arrow batches straight to the JVM: no Python worker runs when a query reads them
        self._view(name, self.spark.createDataFrame(table.cast(_plain(table.schema))))

    def create(self, name: str, sql: str) -> None:
        df = self._run(lambda: self.spark.sql(to_spark(sql)).localCheckpoint(eager=True))
        self.frames.append(df)
        self._view(name, df)

    def row(self, sql: str) -> tuple[Any, ...]:
        return tuple(self._run(lambda: self.spark.sql(to_spark(sql)).collect())[0])

    def arrow(self, sql: str) -> pa.Table:
        table: pa.Table = self._run(lambda: self.spark.sql(to_spark(sql)).toArrow())
        return table

    def close(self) -> None:
        for name in self.views:
            self.spark.catalog.dropTempView(name)
        for df in self.frames:
            df.unpersist()

    def _view(self, name: str, df: Any) -> None:
        df.createOrReplaceTempView(name)
        self.views.append(name)

    def _run(self, job: Any) -> Any:
        try:
            return job()
        except Exception as e:
            raise SparkUnavailable(f"Spark failed: {_first_line(e)}") from None


_SPARK_TYPES = {
    pa.int64(): "BIGINT", pa.int32(): "INT", pa.string(): "STRING", pa.large_string(): "STRING",
    pa.float64(): "DOUBLE", pa.bool_(): "BOOLEAN",
}  # fmt: skip


def _plain(schema: pa.Schema) -> pa.Schema:
    """`schema` with large strings as strings (Spark's Arrow reader takes either; one type)."""
    return pa.schema(
        [f.with_type(pa.string()) if f.type == pa.large_string() else f for f in schema]
    )


def _ddl(schema: pa.Schema) -> str:
    return ", ".join(f"`{f.name}` {_SPARK_TYPES[f.type]}" for f in schema)


def _first_line(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0][:300]
