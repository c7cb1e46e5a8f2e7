"""Reading the network: `people`, `person`, `status`, `influencers`, `rescore`."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from typing import Annotated, Any

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
from karmabank.cli.output import print_json, stale_note, write_csv
from karmabank.model import Flag


def people(
    db: Db = None,
    now: Now = None,
    circle: Annotated[
        str | None, typer.Option(help="core, allies, friends, acquaintances, newcomers, observers")
    ] = None,
    status: Annotated[
        str | None, typer.Option(help="active, resting, drifting, quiet, dormant")
    ] = None,
    stage: Annotated[
        str | None, typer.Option(help="aware, engaged, participant, advocate, leader")
    ] = None,
    sort: Annotated[
        str, typer.Option(help="warmth, tenure, balance, silence (longest first) or recent")
    ] = "warmth",
    limit: Annotated[int, typer.Option(help="At most this many people.")] = 50,
    search: Annotated[
        str | None, typer.Option("--search", "-q", help="Name or identity contains.")
    ] = None,
    flag: Annotated[Flag | None, typer.Option(help="Only people with this flag.")] = None,
    tsv: Annotated[
        bool, typer.Option("--tsv", help="Tab-separated values with a header line (for scripts).")
    ] = False,
    csv_: Annotated[bool, typer.Option("--csv", help="CSV with a header line.")] = False,
    json_: Json = False,
) -> None:
    """List people with their circle, rhythm, warmth, balance and stage (warmest first).
    Rows are written as they are read; in a pipe or a file no column is cut."""
    from karmabank.actions.listing import stream_people
    from karmabank.cli.people_listing import people_listing

    with opened(db, now) as (store, settings):
        chunks = stream_people(
            store=store, now=settings.clock(), settings=settings.measures, limit=limit,
            query=search, flag=flag, circle=circle, status=status, stage=stage, sort=sort,
            details=json_,
        )  # fmt: skip
        stale_note(store, settings.clock())
        if json_:
            _stream_json(r.as_json() for chunk in chunks for r in chunk)
        elif csv_:
            from karmabank.actions.table_csv import PEOPLE, csv_lines, people_rows

            write_csv(csv_lines(PEOPLE, people_rows(r for chunk in chunks for r in chunk)))
        else:
            people_listing(chunks, tsv=tsv)


def _stream_json(items: Iterator[dict[str, Any]]) -> None:
    """A JSON list written an item at a time (the same text as `_print_json` of the list)."""
    write, first = sys.stdout.write, True
    for item in items:
        body = "\n".join("  " + line for line in render.json_text(item).splitlines())
        write(("[\n" if first else ",\n") + body)
        first = False
    write("[]\n" if first else "\n]\n")


def person(
    ref: Annotated[str, typer.Argument(help="An id, an identity platform:key, or a unique name.")],
    page: Annotated[int, typer.Option(help="The timeline's page, from 1.")] = 1,
    per_page: Annotated[int, typer.Option(help="Activities per page (at most 200).")] = 50,
    whose: Annotated[
        str,
        typer.Option(
            help="theirs (toward us, our gives and asks, theirs to others), "
            "others (others' toward them) or all."
        ),
    ] = "theirs",
    direction: Annotated[
        str | None, typer.Option(help="Only one direction of theirs: in, give, ask or peer.")
    ] = None,
    channel: Annotated[str | None, typer.Option(help="Only one channel (email, blog...).")] = None,
    db: Db = None,
    now: Now = None,
    json_: Json = False,
) -> None:
    """One person: every score with its reason, the ledger, and the timeline a page at a time
    (theirs first, the newest first, as the person page shows it)."""
    from karmabank.actions.relationships import person_scores
    from karmabank.actions.timeline import MAX_PAGE, person_timeline
    from karmabank.errors import OptionError

    if not 1 <= per_page <= MAX_PAGE:
        raise OptionError("per_page", f"must be from 1 to {MAX_PAGE}, not {per_page}")
    if page < 1:
        raise OptionError("page", f"must be 1 or more, not {page}")
    with opened(db, now) as (store, settings):
        detail = person_scores(
            store=store, ref=ref, now=settings.clock(), settings=settings.measures
        ).as_json()
        shown = person_timeline(
            store=store, ref=f"id:{detail['id']}", whose=whose, direction=direction,
            channel=channel, offset=(page - 1) * per_page, limit=per_page, count=True,
        )  # fmt: skip
    total = shown.total or 0
    pages = max(1, -(-total // per_page))
    if page > pages:
        raise OptionError("page", f"must be from 1 to {pages}, not {page} ({total:,} activities)")
    if detail.get("note"):  # a bare number that could mean two people: which one it took
        sys.stderr.write(f"note: {render.plain(detail['note'])}\n")
    timeline = shown.as_json()
    detail["timeline"] = timeline.pop("items")
    detail["timeline_page"] = {**timeline, "page": page, "pages": pages, "per_page": per_page}
    if json_:
        print_json(detail)
    else:
        render.person_view(detail, ref=ref)


def status(db: Db = None, now: Now = None, json_: Json = False) -> None:
    """The network at a glance: share ratio, people per circle, rhythm status and stage."""
    from karmabank.actions.relationships import network_status

    with opened(db, now) as (store, settings):
        report = network_status(store=store, now=settings.clock(), settings=settings.measures)
        stale_note(store, settings.clock())
    if json_:
        print_json(report)
    else:
        render.status_view(report)


def influencers(
    issue: Annotated[str | None, typer.Option(help="An issue's id or name (default: any).")] = None,
    limit: Annotated[int, typer.Option(help="At most this many people.")] = 10,
    db: Db = None,
    now: Now = None,
    json_: Json = False,
    csv_: Annotated[bool, typer.Option("--csv", help="CSV with a header line.")] = False,
) -> None:
    """People with warmth, reach and affinity for the organization's issues."""
    from karmabank.actions.influencers import find_influencers

    with opened(db, now) as (store, settings):
        found = find_influencers(
            store=store, now=settings.clock(), settings=settings.measures, issue=issue,
            limit=limit,
        )  # fmt: skip
    if found.note:
        render.console(stderr=True).print("note: " + render.plain(found.note), markup=False)
    if json_:
        print_json(found.rows)
    elif csv_:
        from karmabank.actions.table_csv import INFLUENCERS, csv_lines, influencer_rows

        write_csv(csv_lines(INFLUENCERS, influencer_rows(found)))
    else:
        render.influencers_table(found)


def rescore(
    db: Db = None,
    now: Now = None,
    json_: Json = False,
    engine: Engine = None,
    spark_master: SparkMaster = None,
    spark_conf: SparkConf = None,
) -> None:
    """Recompute every score (commands that show scores also do it when data changed)."""
    from karmabank.actions.plan_ready import ready_plans
    from karmabank.actions.scoring import rescore as rescore_all

    with opened(db, now) as (store, settings):
        chosen = chosen_engine(engine, spark_master, spark_conf)
        report = rescore_all(
            store=store, now=settings.clock(), settings=settings.measures,
            engine=chosen,
        )  # fmt: skip
        started = time.perf_counter()
        ready = ready_plans(store=store, now=report.now, settings=settings.measures)
        took = time.perf_counter() - started
    if json_:
        print_json({**report.as_json(), "plans_ready": ready.as_json()})
    else:
        render.rescore_report(report)
        if ready.campaigns:
            names = ", ".join(render.plain(c) for c in ready.campaigns)
            render.console().print(
                f"plans ready for {len(ready.campaigns)} open "
                f"campaign{'' if len(ready.campaigns) == 1 else 's'} ({names}): everyone's "
                f"likelihood to act and the asks chosen in {took:.2f} s", markup=False,
            )  # fmt: skip
