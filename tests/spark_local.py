"""Spark local[2] for the tests that run on Spark (the measures, the linkage model): importing
this module skips the importing test module when PySpark is not installed, unless CI requires
it (`KARMABANK_REQUIRE_SPARK`)."""

from __future__ import annotations

import os

import pytest

if os.environ.get("KARMABANK_REQUIRE_SPARK"):
    import pyspark  # noqa: F401  (CI: the spark extra is installed, these tests must run)
else:
    pytest.importorskip("pyspark")

from karmabank.measures import spark as spark_module  # noqa: E402

# one SparkSession per test process (`SparkEngine.session`), made by the first test that asks
LOCAL = spark_module.SparkEngine(
    master="local[2]",
    conf={"spark.sql.shuffle.partitions": "4", "spark.ui.enabled": "false",
          "spark.driver.memory": "2g", "spark.sql.adaptive.enabled": "true"},
)  # fmt: skip
