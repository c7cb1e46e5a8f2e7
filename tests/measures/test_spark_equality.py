"""The rescore's measures on Spark (local[2]) equal DuckDB's (issue 20): every score column,
floats within 1e-9 relative, categories and counts exactly; on the demo network (through the
rescore and its writes), on ../shared/data/opsahl-ucsocial and on a generated network of a
million activities. And what stops Spark is one line, with nothing written."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from karmabank.actions.demo import DEMO_NOW, build_demo
from karmabank.actions.importing import import_files
from karmabank.actions.scores import LastRescore
from karmabank.actions.scoring import SCORE_SCHEMA, SNAPSHOT_SCHEMA, flagged_people, rescore
from karmabank.errors import SparkUnavailable
from karmabank.frames import ACTIVITY_SCHEMA, ParquetFiles, micros
from karmabank.measures import nurture
from karmabank.measures import spark as spark_module
from karmabank.measures.network import NetworkScores, score_network
from karmabank.measures.settings import MeasureSettings
from karmabank.settings import Settings
from karmabank.store import arrow_io
from karmabank.store.columns import ActivityColumns
from karmabank.store.open import Store, open_store
from tests.cli_helpers import run
from tests.conftest import NOW, require_data
from tests.spark_local import LOCAL  # skips this module without PySpark (unless CI requires it)

pytestmark = [
    pytest.mark.slow,
    # py4j leaves its gateway's sockets to the garbage collector (a ResourceWarning, not ours)
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]
SETTINGS = MeasureSettings()


@pytest.fixture(scope="session")
def spark() -> spark_module.SparkEngine:
    LOCAL.session()  # one SparkSession for the whole test session
    return LOCAL


def assert_same(duck: pa.Table, other: pa.Table, what: str) -> None:
    """Same columns, types and rows; floats within 1e-9 relative (1e-12 absolute, for
    differences that cancel to zero), everything else exactly."""
    assert other.column_names == duck.column_names, what
    assert other.num_rows == duck.num_rows, what
    for name in duck.column_names:
        kind = duck.schema.field(name).type
        assert other.schema.field(name).type == kind, (what, name, other.schema.field(name))
        a, b = duck.column(name).to_pylist(), other.column(name).to_pylist()
        if pa.types.is_floating(kind):
            bad = [
                (i, x, y) for i, (x, y) in enumerate(zip(a, b, strict=True))
                if (x is None) != (y is None)
                or (x is not None and not math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12))
            ]  # fmt: skip
        else:
            bad = [(i, x, y) for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        assert not bad, (what, name, len(bad), bad[:5])


def assert_same_result(duck: NetworkScores, other: NetworkScores) -> None:
    assert_same(duck.scores, other.scores, "scores")
    assert_same(duck.transitions, other.transitions, "transitions")
    assert_same(duck.set_apart, other.set_apart, "set apart")
    d, o = duck.summary, other.summary
    assert (o.people, o.ranked, o.cuts, o.share) == (d.people, d.ranked, d.cuts, d.share)
    assert (o.by_circle, o.by_status, o.by_stage) == (d.by_circle, d.by_status, d.by_stage)
    assert math.isclose(o.network_cadence, d.network_cadence, rel_tol=1e-9)
    assert math.isclose(o.warmth_before_median, d.warmth_before_median, rel_tol=1e-9)


def both(acts: Any, spark: spark_module.SparkEngine, **kw: Any) -> None:
    """Score twice, at `now` with the history of a rescore 30 days before, on each engine."""
    now: datetime = kw.pop("now")
    first = score_network(acts, now=now - timedelta(days=30), settings=SETTINGS, **kw)
    history = {
        "previous": pa.concat_tables(
            [first.scores.select(first.set_apart.column_names).cast(first.set_apart.schema),
             first.set_apart]
        ),
        "previous_now": micros(now - timedelta(days=30)),
    }  # fmt: skip
    duck = score_network(acts, now=now, settings=SETTINGS, **kw, **history)
    other = score_network(acts, now=now, settings=SETTINGS, engine=spark, **kw, **history)
    assert duck.scores.num_rows > 0
    assert duck.transitions.num_rows > 0  # history and stages carried and compared
    assert_same_result(duck, other)


def inputs_of(store: Store) -> dict[str, Any]:
    sync = ActivityColumns(store.url, store.engine, directory=store.columns_dir).sync()
    with arrow_io.connect(store.url, store.engine) as conn:
        flags = flagged_people(conn)
    assert isinstance(sync.source(), ParquetFiles)
    return {"acts": sync.source(), "flags": flags}


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    settings = Settings(db=str(tmp_path_factory.mktemp("demo") / "demo.db"))
    build_demo(settings=settings)
    yield settings


def _person_scores(store: Store) -> pa.Table:
    with arrow_io.connect(store.url, store.engine) as conn:
        table = arrow_io.read_table(conn, "person_score", SCORE_SCHEMA)
    return table.sort_by("person_id")


def test_demo_rescore_on_spark_writes_what_duckdb_writes(
    demo_db: Settings, spark: spark_module.SparkEngine
) -> None:
    """Through the rescore: the scores Spark writes equal those DuckDB writes (at the same
    `now` with the same history: twice at the same `now`, the same scores)."""
    with open_store(demo_db.db) as store:
        rescore(store=store, now=DEMO_NOW, settings=SETTINGS)
        on_spark = rescore(store=store, now=DEMO_NOW, settings=SETTINGS, engine=spark)
        spark_scores = _person_scores(store)
        on_duck = rescore(store=store, now=DEMO_NOW, settings=SETTINGS)
        duck_scores = _person_scores(store)
    assert duck_scores.num_rows == on_duck.people == on_spark.people > 2900
    assert_same(duck_scores, spark_scores, "person_score")
    assert on_spark.summary.by_circle == on_duck.summary.by_circle


def test_demo_network_with_history(demo_db: Settings, spark: spark_module.SparkEngine) -> None:
    with open_store(demo_db.db) as store:
        kw = inputs_of(store)
    both(kw.pop("acts"), spark, now=DEMO_NOW, **kw)


def test_the_nurture_pool_on_spark(demo_db: Settings, spark: spark_module.SparkEngine) -> None:
    """What the rescore keeps for the nurture queue (each person's concerned flag and our last
    gives, and the pool of people it may concern), computed on Spark, equals DuckDB's."""
    with open_store(demo_db.db) as store:
        kw = inputs_of(store)
    acts = kw.pop("acts")
    scores = score_network(acts, now=DEMO_NOW, settings=SETTINGS, **kw).scores
    kept = scores.select(SNAPSHOT_SCHEMA.names).cast(SNAPSHOT_SCHEMA)
    duck = nurture.snapshot_parts(kept, acts, now=DEMO_NOW, settings=SETTINGS)
    other = nurture.snapshot_parts(kept, acts, now=DEMO_NOW, settings=SETTINGS, engine=spark)
    concerned = nurture.concerned_column(SETTINGS)
    assert sum(duck[0].column(concerned).to_pylist()) > 0 and duck[1].num_rows > 100
    gave = [c for c in duck[0].column_names if c.startswith("gave_")]
    assert gave and any(duck[0].column(c).null_count < duck[0].num_rows for c in gave)
    assert_same(duck[0], other[0], "snapshot")
    assert_same(duck[1], other[1], "nurture pool")


def test_opsahl_ucsocial(sqlite_store: Store, spark: spark_module.SparkEngine) -> None:
    path = require_data("opsahl-ucsocial", "out.opsahl-ucsocial")
    import_files(store=sqlite_store, fmt="edgelist", paths=[path], options={"org": "1624"},
                 now=NOW)  # fmt: skip
    kw = inputs_of(sqlite_store)
    last = pq.read_table(kw["acts"].paths[0], columns=["occurred_at"]).column(0)
    now = datetime.fromtimestamp(max(last.to_pylist()) / 1e6, UTC) + timedelta(days=1)
    both(kw.pop("acts"), spark, now=now, **kw)


def generated(people: int, activities: int, seed: int, now: datetime) -> pa.Table:
    """A network of `activities` rows over two years: heavy-tailed people, every direction,
    the ladder's verbs, a few channels, peer engagements aimed at people who share."""
    rng = np.random.default_rng(seed)
    n = activities
    # person k draws ~1/sqrt(k) of the rows: a few very active people, most with a handful
    person = (people * rng.random(n) ** 2).astype(np.int64) + 1
    direction = rng.choice(["in", "give", "ask", "peer"], n, p=[0.7, 0.15, 0.03, 0.12])
    verbs = np.array(["like", "follow", "comment", "reply", "mention", "share", "attend",
                      "register", "sign", "donate", "volunteer", "organize", "message"])  # fmt: skip
    verb = rng.choice(verbs, n)
    # microsecond times on whole seconds: ties between people, as real data has
    occurred = micros(now) - rng.integers(0, 730 * 86_400, n, dtype=np.int64) * 1_000_000
    target = np.where(direction == "peer", rng.integers(1, people + 1, n), 0)
    weight = np.where(rng.random(n) < 0.05, rng.integers(1, 5, n).astype(float), np.nan)
    channel = rng.choice(["email", "mastodon", "bluesky", "web"], n)
    return pa.table(
        {
            "id": pa.array(np.arange(1, n + 1, dtype=np.int64)),
            "occurred_at": pa.array(occurred),
            "person_id": pa.array(person),
            "target_id": pa.array(target, mask=target == 0),
            "verb": pa.array(verb),
            "direction": pa.array(direction),
            "channel": pa.array(channel),
            "weight": pa.array(weight, mask=np.isnan(weight)),
        },
        schema=ACTIVITY_SCHEMA,
    )


def test_generated_million_activities(tmp_path: Path, spark: spark_module.SparkEngine) -> None:
    table = generated(people=60_000, activities=1_000_000, seed=20, now=NOW)
    path = tmp_path / "acts.parquet"
    pq.write_table(table, path, row_group_size=1 << 20)
    flags = pa.table(
        {"person_id": pa.array([1, 2, 3, 500], pa.int64()), "team": [True, False, False, False],
         "bot": [False, True, False, False], "do_not_contact": [False, False, True, True],
         "erased": [False, False, False, False]}
    )  # fmt: skip
    acted = pa.table(
        {"person_id": pa.array([10, 10, 10, 11, 12], pa.int64()),
         "campaign_id": pa.array([1, 2, 3, 1, 2], pa.int64()),
         "acted_at": pa.array([micros(NOW - timedelta(days=d)) for d in (5, 40, 90, 3, 400)],
                              pa.int64())}
    )  # fmt: skip
    both(ParquetFiles((path,)), spark, now=NOW, flags=flags, acted=acted)


def test_sql_is_transpiled_with_doubles_for_decimal_literals() -> None:
    text = spark_module.to_spark("SELECT pow(0.5, x / 30.0) AS d, y // 86400 AS day FROM t")
    assert text == (
        "SELECT POWER(CAST(0.5 AS DOUBLE), x / CAST(30.0 AS DOUBLE)) AS d, y DIV 86400 AS day "
        "FROM t"
    )


# What stops Spark: one line, and the scores of the last rescore stay as they were.


def _unchanged_after(store: Store, engine: spark_module.SparkEngine, message: str) -> None:
    before, state = _person_scores(store), LastRescore.read(store)
    with pytest.raises(SparkUnavailable, match=message) as raised:
        rescore(store=store, now=DEMO_NOW + timedelta(days=1), settings=SETTINGS, engine=engine)
    assert "\n" not in str(raised.value)
    assert _person_scores(store).equals(before)
    after = LastRescore.read(store)
    assert after is not None and state is not None and after.token == state.token


def test_bad_engines_write_nothing(demo_db: Settings, spark: spark_module.SparkEngine) -> None:
    with open_store(demo_db.db) as store:
        rescore(store=store, now=DEMO_NOW, settings=SETTINGS)
        _unchanged_after(
            store, spark_module.SparkEngine(master="spark://127.0.0.1:9"),
            r"^Spark master spark://127\.0\.0\.1:9 unreachable \(127\.0\.0\.1:9: Connection refused\)$",
        )  # fmt: skip
        _unchanged_after(
            store, spark_module.SparkEngine(java_home="/nonexistent/jdk"),
            r"^the Spark engine needs Java 17: JAVA_HOME=/nonexistent/jdk has no bin/java$",
        )  # fmt: skip
        _unchanged_after(
            store, spark_module.SparkEngine(columns_url="/nonexistent/shared/columns"),
            r"^Spark cannot read the columnar copy \(/nonexistent/shared/columns/seg-.*",
        )  # fmt: skip


def test_cli_without_pyspark_says_how_to_install(
    demo_db: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(__import__("sys").modules, "pyspark.sql", None)
    r = run(capsys, "rescore", "--db", demo_db.db, "--engine", "spark")
    assert r.code == 1
    assert r.err.strip().splitlines() == [
        "error: the Spark engine needs PySpark and Java 17: pip install 'karmabank[spark]'"
    ]


def test_cli_unreachable_master_is_one_line(
    demo_db: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run(capsys, "rescore", "--db", demo_db.db, "--engine", "spark",
            "--spark-master", "spark://127.0.0.1:9", "--spark-conf", "spark.ui.enabled=false")  # fmt: skip
    assert r.code == 1
    assert len(r.err.strip().splitlines()) == 1
    assert "Spark master spark://127.0.0.1:9 unreachable" in r.err
