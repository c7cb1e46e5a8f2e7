"""The charts and the weekly report: `rhythm`, `funnel`, `share`, `circles` (a table, `--json`
with the numbers each chart draws, or `--png FILE`) and `report --html FILE [--since 7d]`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from karmabank.cli import render
from karmabank.cli.options import Db, Json, Now, opened
from karmabank.cli.output import print_json, stale_note
from karmabank.errors import OptionError

Png = Annotated[
    Path | None,
    typer.Option("--png", help="Write the chart as a PNG image to FILE.", metavar="FILE",
                 dir_okay=False),
]  # fmt: skip


def _write(path: Path, data: bytes | str, option: str) -> None:
    """The file, or one line naming it and why not (`--png`, `--html`)."""
    try:
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_bytes(data)
    except OSError as e:
        raise OptionError(option, f"cannot write {str(path)!r}: {e.strerror or e}") from e


def _chart(name: str, db: str | None, now: str | None, png: Path | None, json_: bool) -> None:
    from karmabank.actions.charts import chart_png, network_charts

    with opened(db, now) as (store, settings):
        charts = network_charts(store=store, now=settings.clock(), settings=settings.measures)
        stale_note(store, settings.clock())
        data = charts.as_json(name)
        if png is not None:
            image = chart_png(store=store, now=settings.clock(), settings=settings.measures,
                              name=name, scale=2.0)  # fmt: skip
            _write(png, image, "png")
            sys.stderr.write(f"wrote {render.plain(str(png))} ({len(image):,} bytes)\n")
    if json_:
        print_json(data)
    elif png is None:
        _TABLES[name](data)


def rhythm(db: Db = None, now: Now = None, png: Png = None, json_: Json = False) -> None:
    """Inbound activity per week by channel over the last year, with our gives and asks."""
    _chart("rhythm", db, now, png, json_)


def funnel(db: Db = None, now: Now = None, png: Png = None, json_: Json = False) -> None:
    """People per ladder stage now, and the moves between stages in the last 90 days."""
    _chart("funnel", db, now, png, json_)


def share(db: Db = None, now: Now = None, png: Png = None, json_: Json = False) -> None:
    """Gives per ask, month by month, against the target."""
    _chart("share", db, now, png, json_)


def circles(db: Db = None, now: Now = None, png: Png = None, json_: Json = False) -> None:
    """People per circle at each month's end (of those in it now)."""
    _chart("circles", db, now, png, json_)


def report(
    html: Annotated[
        Path,
        typer.Option(
            "--html",
            help="Write the report to FILE (one HTML file).",
            metavar="FILE",
            dir_okay=False,
        ),
    ],
    since: Annotated[str, typer.Option(help="The window: days or weeks, like 7d or 2w.")] = "7d",
    db: Db = None,
    now: Now = None,
) -> None:
    """The weekly report as one self-contained HTML file (no script, opens offline)."""
    from karmabank.actions.report import since_days, weekly_report

    since_days(since)  # a bad --since fails before anything is read
    with opened(db, now) as (store, settings):
        made = weekly_report(store=store, now=settings.clock(), settings=settings.measures,
                             since=since)  # fmt: skip
        stale_note(store, settings.clock())
    text = made.html()
    _write(html, text, "html")
    d = made.data
    sys.stdout.write(
        f"wrote {render.plain(str(html))}: {d['days']} days to {d['as_of'][:10]}, "
        f"{d['new_people']['total']} new, {d['returns']['total']} returns, "
        f"{d['gives']['total']} gives, {len(made.svgs)} charts\n"
    )


def _table(*columns: str) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for c in columns:
        if c == "by channel":  # the one long column: folded, never the numbers
            table.add_column(c, overflow="fold")
        else:
            table.add_column(c, justify="left" if c in ("week", "month", "stage", "from", "to")
                             else "right", no_wrap=True, min_width=len(c))  # fmt: skip
    return table


def _rhythm_table(data: dict[str, Any]) -> None:
    weeks: dict[str, dict[str, Any]] = {}
    for r in data["weeks"]:
        w = weeks.setdefault(r["week"], {"in": 0, "give": 0, "ask": 0, "channels": {}})
        w[r["direction"]] += r["activities"]
        if r["direction"] == "in":
            w["channels"][r["channel"]] = r["activities"]
    table = _table("week", "inbound", "gives", "asks", "by channel")
    for week, w in weeks.items():
        top = sorted(w["channels"].items(), key=lambda kv: (-kv[1], kv[0]))
        table.add_row(week, str(w["in"]), str(w["give"]), str(w["ask"]),
                      render.safe(", ".join(f"{c} {n}" for c, n in top)))  # fmt: skip
    out = render.console()
    out.print(f"rhythm of the network, weeks to {data['as_of'][:10]} ({data['days']} days)")
    out.print(table)


def _funnel_table(data: dict[str, Any]) -> None:
    out = render.console()
    out.print(f"funnel as of {data['as_of'][:10]}: people per stage now, moves in "
              f"{data['days']} days")  # fmt: skip
    table = _table("stage", "people", "entered")
    for s in data["stages"]:
        table.add_row(s["stage"], f"{s['people']:,}", f"{s['entered']:,}")
    out.print(table)
    if data["transitions"]:
        moves = _table("from", "to", "moves")
        for t in data["transitions"]:
            moves.add_row(t["from_stage"] or "(new)", t["to_stage"], f"{t['moves']:,}")
        out.print(moves)


def _share_table(data: dict[str, Any]) -> None:
    out = render.console()
    out.print(f"share ratio per month (gives per ask), target {data['target']:g}")
    table = _table("month", "gives", "asks", "ratio")
    for m in data["months"]:
        ratio = "no asks" if m["ratio"] is None else f"{m['ratio']:g}"
        table.add_row(m["month"], f"{m['gives']:,}", f"{m['asks']:,}", ratio)
    out.print(table)


def _circles_table(data: dict[str, Any]) -> None:
    months: dict[str, dict[str, int]] = {}
    for r in data["months"]:
        months.setdefault(r["month"], {})[r["circle"]] = r["people"]
    names = list(next(iter(months.values()), {}))
    table = _table("month", *names)
    for month, counts in months.items():
        table.add_row(month, *(f"{counts[c]:,}" for c in names))
    out = render.console()
    out.print("people per circle at each month's end (of those in it now)")
    out.print(table)
    out.print("note: " + render.plain(data["note"]), markup=False)


_TABLES = {"rhythm": _rhythm_table, "funnel": _funnel_table, "share": _share_table,
           "circles": _circles_table}  # fmt: skip
