"""Options shared by every command, and opening the store they name."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from karmabank.settings import Settings, engine_settings, load_settings

if TYPE_CHECKING:
    from karmabank.measures.engines import SqlEngine
    from karmabank.store.open import Store

Db = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="A SQLite path or postgresql://... (else $KARMABANK_DB, else ./karmabank.db).",
        show_default=False,
    ),
]
Now = Annotated[
    str | None,
    typer.Option(
        "--now",
        help="Compute as of this ISO-8601 time (else $KARMABANK_NOW, else the clock).",
        show_default=False,
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
# where the measures (`rescore`) or the linkage model (`merge suggestions`) run: docs/scale.md
Engine = Annotated[
    str | None, typer.Option(help="duckdb (default, $KARMABANK_ENGINE) or spark.")
]
SparkMaster = Annotated[
    str | None,
    typer.Option(
        help="local[2], spark://HOST:7077, yarn... (default: spark-submit's, else local[*])"
    ),
]
SparkConf = Annotated[
    list[str] | None, typer.Option(help="A Spark setting KEY=VALUE (repeatable).")
]


def chosen_engine(engine: str | None, master: str | None, conf: list[str] | None) -> SqlEngine:
    """The engine the options (over the environment: `settings.engine_settings`) name; Spark's
    is made, not started."""
    from karmabank.actions.scoring import sql_engine

    chosen = engine_settings(os.environ, name=engine, master=master, conf=tuple(conf or ()))
    return sql_engine(chosen)


@contextmanager
def opened(db: str | None, now: str | None = None) -> Iterator[tuple[Store, Settings]]:
    """The store `--db` names (else $KARMABANK_DB, else ./karmabank.db) and the settings with
    `--now` (else $KARMABANK_NOW, else the database's fixed time, as the demo's has, else the
    clock); the store is closed when the block ends, whatever happens in it."""
    from karmabank.actions.clock import with_database_clock
    from karmabank.actions.database import open_database

    settings = load_settings(db=db, now=now)
    with open_database(settings=settings) as store:
        yield store, with_database_clock(store, settings)
