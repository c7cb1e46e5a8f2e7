"""Where the measures' SQL runs: the seam between the SQL, written once in DuckDB's dialect,
and the engine that executes it.

`score_network` talks to a `SqlRunner` (register an Arrow table, materialize a query as a
named table, read one row, read a query as Arrow). `DUCKDB` runs the SQL as written, in the
process (`frames.engine`); `measures.spark.SparkEngine` transpiles the same text with SQLGlot
and runs it on PySpark over the same Parquet files. No formula is written twice: a DuckDB
construct Spark lacks is rewritten in the SQL itself (the ladder's share-then-engagement match is
a window, not an ASOF join) or, for a difference of dialect only, by the Spark runner's one
documented rewrite (decimal literals read as doubles).
"""

from __future__ import annotations

from typing import Any, Protocol

import duckdb
import pyarrow as pa

from karmabank.frames import ParquetFiles, activities_engine


class SqlRunner(Protocol):
    """One scoring pass's tables, on some engine; `close` drops them all."""

    def register(self, name: str, table: pa.Table) -> None: ...

    def create(self, name: str, sql: str) -> None:
        """Materialize `sql` (DuckDB's dialect) as table `name` for the queries after it."""
        ...

    def row(self, sql: str) -> tuple[Any, ...]: ...

    def arrow(self, sql: str) -> pa.Table: ...

    def close(self) -> None: ...


class SqlEngine(Protocol):
    """Opens a runner with the activities `acts` as table `view`."""

    @property
    def name(self) -> str: ...

    def open(
        self, acts: ParquetFiles | pa.Table, view: str, threads: int | None = None
    ) -> SqlRunner: ...


class DuckDBRunner:
    """The SQL as written, on a private in-memory DuckDB."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def register(self, name: str, table: pa.Table) -> None:
        self.con.register(name, table)

    def create(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE TEMP TABLE {name} AS {sql}")

    def row(self, sql: str) -> tuple[Any, ...]:
        found = self.con.execute(sql).fetchone()
        assert found is not None
        return tuple(found)

    def arrow(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    def close(self) -> None:
        self.con.close()


class DuckDBEngine:
    name = "duckdb"

    def open(
        self, acts: ParquetFiles | pa.Table, view: str, threads: int | None = None
    ) -> DuckDBRunner:
        return DuckDBRunner(activities_engine(acts, view, threads))


DUCKDB = DuckDBEngine()
