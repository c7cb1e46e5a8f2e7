"""Settings read once, at the edge, and passed in: the one place that reads `karmabank.toml`
and the `KARMABANK_*` environment.

The CLI calls `load_settings` once per command (`cli/options.py`), the web app once in
`create_app`; what they read is handed down as values (`Settings`, its `MeasureSettings`, the
store's folders), and nothing below the edges reads the environment or a file to find a
setting (`tests/test_settings_edge.py` says so). Explicit values win, then the environment,
then `karmabank.toml` (beside a SQLite database, else in the working directory), then the
defaults:

    KARMABANK_DB                the database (--db; else ./karmabank.db)
    KARMABANK_NOW               compute as of this time (--now; else the database's, else the clock)
    KARMABANK_COLUMNS_DIR       where PostgreSQL databases keep their columnar copy
    KARMABANK_TEMPLATES         draft templates that win over the built-ins
    KARMABANK_SECRETS_FILE      connections' secrets, NAME=value lines, mode 0600
    KARMABANK_SYNC_BACKOFF      seconds before a sync's first retry (doubles each retry; default 1)
    KARMABANK_SYNC_MAX_WAIT     seconds one request of a sync may wait in all (default 300)
    KARMABANK_SYNC_FOLLOWERS_EVERY  seconds between two readings of a connection's follower
                                list, for follower counts (default 86400: daily; 0: every sync)
    KARMABANK_ENGINE            what runs `rescore`'s measures: duckdb (default) or spark
    KARMABANK_SPARK_MASTER      Spark's master for --engine spark (default: spark-submit's, else
                                local[*], every core of this machine)
    KARMABANK_SPARK_COLUMNS     the columnar copy's folder as Spark's executors read it (a
                                shared path or object store URL; default: its local path)
    JAVA_HOME                   the Java 17 Spark runs on (default: java on the PATH)
    KARMABANK_<SECTION>_<KEY>   a measure setting, over karmabank.toml's `[section] key`

A bad value is a `ConfigError` naming the key and the file (or the variable) it came from.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from karmabank.bounds import check_instant, shown
from karmabank.errors import ConfigError, OutOfRange
from karmabank.measures.settings import MeasureSettings, build_measure_settings

DEFAULT_DB = "./karmabank.db"  # --db and $KARMABANK_DB unset


@dataclass(frozen=True)
class SyncSettings:
    """How patient `karmabank sync` is with a platform (`connectors/http.py`'s policy)."""

    backoff: float = 1.0  # seconds before the first retry of a 5xx or connection error; doubles
    max_wait: float = 300.0  # seconds one request may spend waiting in all (retries, 429s)
    followers_every: float = 86_400.0  # seconds between two readings of a follower list

    @property
    def followers_interval(self) -> timedelta:
        return timedelta(seconds=self.followers_every)


ENGINES = ("duckdb", "spark")


@dataclass(frozen=True)
class EngineSettings:
    """What runs the rescore's measures (`docs/scale.md`)."""

    name: str = "duckdb"  # ENGINES
    spark_master: str | None = None  # None: spark-submit's --master, else local[*]
    spark_conf: tuple[tuple[str, str], ...] = ()  # --spark-conf K=V, in order
    spark_columns: str | None = None  # the copy's folder as executors see it; None: local path
    java_home: str | None = None


@dataclass(frozen=True)
class Settings:
    db: str = DEFAULT_DB
    now: datetime | None = None  # None: the clock
    measures: MeasureSettings = field(default_factory=MeasureSettings)
    columns_base: Path | None = None  # where PostgreSQL databases keep their columnar copy
    templates_dir: Path | None = None  # draft templates that win over the built-ins
    secrets_file: Path | None = None  # connections' secrets, NAME=value lines (mode 0600)
    sync: SyncSettings = field(default_factory=SyncSettings)

    def clock(self) -> datetime:
        return self.now if self.now is not None else datetime.now(UTC)


def _seconds(env: Mapping[str, str], variable: str, default: float) -> float:
    text = env.get(variable)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 86_400:
        raise ConfigError(f"${variable}: {shown(text)} is not a number of seconds (0 to 86400)")
    return value


def parse_instant(text: str, what: str = "time") -> datetime:
    """ISO-8601 (a naive time is UTC) -> aware UTC datetime in the supported range
    (`karmabank.bounds`); ConfigError otherwise."""
    try:
        dt = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(
            f"{what}: {shown(text)} is not an ISO-8601 time (e.g. 2026-05-01T12:00)"
        ) from None
    try:
        return check_instant(dt, text.strip(), what)
    except OutOfRange as e:
        raise ConfigError(str(e)) from None


def settings_path(db: str) -> Path:
    """`karmabank.toml` beside a SQLite database (`db` as typed after --db, or its URL), else
    in the working directory."""
    text = db.strip()
    if text and "://" not in text:
        return Path(text).expanduser().resolve().parent / "karmabank.toml"
    try:
        parsed = make_url(text)
    except ArgumentError:
        return Path("karmabank.toml")  # not a database URL: opening it says so
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return Path(str(parsed.database)).resolve().parent / "karmabank.toml"
    return Path("karmabank.toml")


def parse_toml(text: str, what: str) -> dict[str, Any]:
    """The one TOML parser (the settings file, and the CSV presets' declarative mappings,
    `sources/presets.py`): the tables of `text`, or ConfigError naming `what`."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{what}: not TOML: {e}") from None


def load_measure_settings(
    path: Path | None = None, environ: Mapping[str, str] | None = None
) -> MeasureSettings:
    """Defaults, then `path` (a karmabank.toml, if it exists), then environment variables
    `KARMABANK_<SECTION>_<KEY>` (e.g. `KARMABANK_WARMTH_DECAY=0.85`; tables as JSON)."""
    env = os.environ if environ is None else environ
    tables: dict[str, object] = {}
    if path is not None and path.is_file():
        try:
            tables = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(f"{path}: {e}") from None
    return build_measure_settings(tables=tables, environ=env, source=str(path))


def load_settings(
    *, db: str | None = None, now: str | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Everything an edge needs, read and checked once: explicit values win, then
    `KARMABANK_*`, then `karmabank.toml` (for the measures), then the defaults."""
    env = os.environ if environ is None else environ
    db_value = db or env.get("KARMABANK_DB") or DEFAULT_DB
    now_text = now or env.get("KARMABANK_NOW")
    columns, templates = env.get("KARMABANK_COLUMNS_DIR"), env.get("KARMABANK_TEMPLATES")
    secrets = env.get("KARMABANK_SECRETS_FILE")
    return Settings(
        db=db_value,
        now=parse_instant(now_text, "--now") if now_text else None,
        measures=load_measure_settings(settings_path(db_value), env),
        columns_base=Path(columns).expanduser() if columns else None,
        templates_dir=Path(templates).expanduser() if templates else None,
        secrets_file=Path(secrets).expanduser() if secrets else None,
        sync=SyncSettings(
            backoff=_seconds(env, "KARMABANK_SYNC_BACKOFF", SyncSettings.backoff),
            max_wait=_seconds(env, "KARMABANK_SYNC_MAX_WAIT", SyncSettings.max_wait),
            followers_every=_seconds(
                env, "KARMABANK_SYNC_FOLLOWERS_EVERY", SyncSettings.followers_every
            ),
        ),
    )


def engine_settings(
    env: Mapping[str, str], *, name: str | None = None, master: str | None = None,
    conf: tuple[str, ...] = (),
) -> EngineSettings:  # fmt: skip
    """The engine: explicit values (--engine, --spark-master, --spark-conf K=V) over
    `KARMABANK_ENGINE`, `KARMABANK_SPARK_MASTER`, `KARMABANK_SPARK_COLUMNS` and `JAVA_HOME`."""
    chosen = (name or env.get("KARMABANK_ENGINE") or EngineSettings.name).strip().lower()
    if chosen not in ENGINES:
        where = "--engine" if name else "KARMABANK_ENGINE"
        raise ConfigError(f"{where}: {chosen!r} is not one of {', '.join(ENGINES)}")
    pairs = []
    for text in conf:
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--spark-conf: {text!r} is not KEY=VALUE")
        pairs.append((key.strip(), value.strip()))
    return EngineSettings(
        name=chosen,
        spark_master=master or env.get("KARMABANK_SPARK_MASTER") or None,
        spark_conf=tuple(pairs),
        spark_columns=env.get("KARMABANK_SPARK_COLUMNS") or None,
        java_home=env.get("JAVA_HOME") or None,
    )
