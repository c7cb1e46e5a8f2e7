"""`karmabank merge suggestions`: pairs of persons who may be one, with their evidence.

Registered in `cli/merging.py`'s `merge` group; the matching is `actions/merge_suggestions.py`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from karmabank.cli import render
from karmabank.cli.options import (
    Db,
    Engine,
    Json,
    Now,
    SparkConf,
    SparkMaster,
    chosen_engine,
    opened,
)
from karmabank.cli.output import print_json
from karmabank.errors import OptionError

Limit = Annotated[int | None, typer.Option(help="At most this many suggestions.")]
MinConfidence = Annotated[
    float, typer.Option("--min-confidence", help="Only those at least this probable (0-1).")
]


Stored = Annotated[
    bool,
    typer.Option(
        "--stored",
        help="List the open suggestions already stored (by the last run, or by imports whose "
        "rows link identities) without running the matcher.",
    ),
]


def suggestions(
    limit: Limit = None,
    min_confidence: MinConfidence = 0.0,
    stored: Stored = False,
    db: Db = None,
    now: Now = None,
    json_: Json = False,
    engine: Engine = None,
    spark_master: SparkMaster = None,
    spark_conf: SparkConf = None,
) -> None:
    """Find persons who may be one (names, handles, emails, domains), most confident first.
    The matcher runs on DuckDB here, or on Spark (--engine spark: docs/scale.md)."""
    from karmabank.actions.merge_suggestions import merge_suggestions, open_suggestions

    if not 0.0 <= min_confidence <= 1.0:
        raise OptionError("min_confidence", "must be between 0 and 1")
    if limit is not None and limit < 1:
        raise OptionError("limit", "must be at least 1")
    with opened(db, now) as (store, settings):
        if stored:
            found = open_suggestions(store=store, limit=limit, min_confidence=min_confidence)
        else:
            found = merge_suggestions(
                store=store, settings=settings.measures.linkage, now=settings.clock(),
                limit=limit, min_confidence=min_confidence,
                engine=chosen_engine(engine, spark_master, spark_conf),
            )  # fmt: skip
    if json_:
        print_json([s.as_json() for s in found])
        return
    out = render.console()
    if not found:
        out.print("no merge suggestions")
    for s in found:
        fields = ", ".join(
            f"{f['field']}: {f['level']} ({f['weight']:+.1f})"
            for f in s.evidence["fields"] if f["level"] != "missing"
        )  # fmt: skip
        source = s.evidence.get("source")
        where = f" [{source['file']} line {source['line']}]" if source else ""
        out.print(
            f"{s.id}  {s.confidence:.3f}  {s.action}  {_who(s.a.as_json())} ~ "
            f"{_who(s.b.as_json())}: {render.safe(fields + where)}",
            soft_wrap=True,
        )


def _who(person: dict[str, object]) -> str:
    name = person.get("name")
    return f"{render.safe(name)} (id:{person['id']})" if name else f"id:{person['id']}"
