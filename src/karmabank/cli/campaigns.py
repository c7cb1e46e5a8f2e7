"""`karmabank campaign ...`: new, list, plan, send, respond, show (karmabank never sends
anything)."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from karmabank.cli.options import Db, Json, Now, opened
from karmabank.cli.render import console, json_text, quoted, safe, safe_lines, table_console, who
from karmabank.settings import load_settings, parse_instant

if TYPE_CHECKING:
    from karmabank.actions.campaigns import CampaignShow
    from karmabank.actions.mobilization import CampaignPlan

campaign_app = typer.Typer(
    help="Calls for support: plan whom to ask, record what was sent and what people did.",
    no_args_is_help=True,
)
Name = Annotated[str, typer.Argument(help="The campaign's name (or id).")]


def _json(value: Any) -> None:
    sys.stdout.write(json_text(value) + "\n")


def _who(person: dict[str, Any]) -> str:
    return who(person)


@campaign_app.command("new")
def campaign_new(
    name: Name,
    action: Annotated[
        str,
        typer.Option(help="share, attend, register, donate, volunteer, sign, introduce or custom."),
    ],  # fmt: skip
    budget: Annotated[int, typer.Option(help="At most this many asks.")],
    issue: Annotated[str | None, typer.Option(help="The issue it serves (id or name).")] = None,
    deadline: Annotated[str | None, typer.Option(help="ISO-8601: when it must be done.")] = None,
    target_reach: Annotated[
        float | None,
        typer.Option(help="The expected reach wanted: the plan asks no more once it is met."),
    ] = None,
    db: Db = None,
    now: Now = None,
    json_: Json = False,
) -> None:
    """Describe the help needed."""
    from karmabank.actions.campaigns import new_campaign
    from karmabank.actions.database import open_database

    settings = load_settings(db=db, now=now)
    due = parse_instant(deadline, "--deadline") if deadline else None
    with open_database(settings=settings) as store:
        c = new_campaign(store=store, name=name, action=action, budget=budget,
                         now=settings.clock(), issue=issue, deadline=due,
                         target_reach=target_reach)  # fmt: skip
    if json_:
        _json(c.as_json())
        return
    about = f" for {c.issue}" if c.issue else ""
    from karmabank.actions.campaigns import reach_text

    target = f", target reach {reach_text(c.target_reach)}" if c.target_reach else ""
    console().print(
        f"campaign {c.id} {quoted(c.name)}: {safe(c.action)}{safe(about)}, "
        f"at most {c.budget} asks{target}; next: `karmabank campaign plan {quoted(c.name)}`"
    )


@campaign_app.command("list")
def campaign_list(db: Db = None, json_: Json = False) -> None:
    """Every campaign, the newest first: its action, issue, budget, deadline, status (new,
    planned or sent) and how many asks were sent, answered yes and acted on (--json: all the
    funnel and the created and planned times)."""
    from karmabank.actions.campaigns import list_campaigns

    with opened(db) as (store, settings):
        rows = list_campaigns(store=store)
    if json_:
        _json([r.as_json() for r in rows])
        return
    out = console()
    if not rows:
        out.print("no campaigns yet: `karmabank campaign new NAME --action A --budget K`")
        return
    table = Table(
        box=None, header_style="bold underline", pad_edge=False, collapse_padding=True
    )  # fits 80 columns
    widths = {"name": 28, "issue": 20}
    for col in ("id", "name", "action", "issue", "budget", "deadline", "status", "sent", "yes",
                "acted"):  # fmt: skip
        right = col in ("id", "budget", "sent", "yes", "acted")
        table.add_column(col, justify="right" if right else "left", no_wrap=True,
                         overflow="ellipsis", max_width=widths.get(col))  # fmt: skip
    for r in rows:
        c, f = r.campaign, r.funnel
        table.add_row(
            str(c.id), safe(c.name), safe(c.action), safe(c.issue or "—"), str(c.budget),
            c.deadline.date().isoformat() if c.deadline else "—", r.status, str(f["sent"]),
            str(f["yes"]), str(f["acted"]),
        )  # fmt: skip
    out.print(table)


@campaign_app.command("plan")
def campaign_plan(name: Name, db: Db = None, now: Now = None, json_: Json = False) -> None:
    """Whom to ask, in order, with why and a draft; and who is left out, with the rule."""
    from karmabank.actions.mobilization import plan_campaign

    with opened(db, now) as (store, settings):
        plan = plan_campaign(store=store, name=name, now=settings.clock(),
                             settings=settings.measures,
                             excluded_limit=None if json_ else SHOWN_EXCLUDED)  # fmt: skip
    if json_:
        _json(plan.report_json())
    else:
        plan_view(plan)


SHOWN_EXCLUDED = 5  # the terminal names the few most likely to act among those left out


def plan_view(plan: CampaignPlan) -> None:
    out = console()
    c = plan.campaign
    out.print(f"[bold]{safe(c.name)}[/bold]: {safe(c.action)}, {len(plan.asks)} asks of "
              f"{plan.budget_left} left in the budget, among {plan.candidates} ask-ready people; "
              f"expected reach {plan.expected_reach:.1f}")  # fmt: skip
    for i, a in enumerate(plan.asks, start=1):
        out.print(f"[bold]{i:>3}  {safe(_who(a.person))}[/bold]  +{a.marginal_reach:.1f} "
                  f"reach, likelihood {a.likelihood:.0%}")  # fmt: skip
        out.print(f"     why:   {safe(a.reason)}")
        out.print("     draft: " + safe_lines(a.draft, "            "))
    if plan.target_note:
        out.print(plan.target_note)
    if plan.excluded_by_rule:
        rules = ", ".join(f"{r} {n:,}" for r, n in sorted(plan.excluded_by_rule.items()))
        total = sum(plan.excluded_by_rule.values())
        out.print(f"left out: {total:,} ({rules}); the most likely to act:")
        for e in plan.excluded:
            out.print(f"     {safe(_who(e['person']))}: {safe(e['rule'])}")
    if plan.likelihood_model:
        out.print(f"likelihood to act: {safe(plan.likelihood_model)}")
    if plan.capped:
        out.print(f"note: sampling stopped at {plan.rr_sets:,} reverse-reachable sets "
                  "(planner.max_rr_sets): a good plan, without IMM's guarantee")  # fmt: skip
    if plan.asks:
        out.print("next: send these yourself, then `karmabank campaign send "
                  f"{quoted(c.name)}` records them")  # fmt: skip


@campaign_app.command("send")
def campaign_send(name: Name, db: Db = None, now: Now = None, json_: Json = False) -> None:
    """Record the planned asks as sent (after you sent them yourself): the ledger moves."""
    from karmabank.actions.campaigns import send_campaign

    with opened(db, now) as (store, settings):
        report = send_campaign(store=store, name=name, now=settings.clock())
    if json_:
        _json(report.as_json())
        return
    out = console()
    out.print(f"recorded {len(report.sent)} asks of {quoted(report.campaign)} as sent")
    for r in report.refused:
        out.print(f"  not sent to {safe(_who(r['person']))}: {safe(r['reason'])}")


@campaign_app.command("respond")
def campaign_respond(
    name: Name,
    person: Annotated[str, typer.Argument(help="Id, identity or unique name.")],
    response: Annotated[str, typer.Argument(help="yes, no or acted.")],
    db: Db = None,
    now: Now = None,
    json_: Json = False,
) -> None:
    """Record what someone answered, or that they acted (a thank joins the nurture queue)."""
    from karmabank.actions.campaigns import respond

    with opened(db, now) as (store, settings):
        r = respond(store=store, name=name, ref=person, response=response, now=settings.clock())
    if json_:
        _json(r.as_json())
        return
    then = "; a thank is waiting in `karmabank nurture`" if r.status == "acted" else ""
    console().print(f"{safe(_who(r.person))}: {r.status} on {quoted(r.campaign)}{then}")


@campaign_app.command("show")
def campaign_show(
    name: Name, db: Db = None, now: Now = None, json_: Json = False,
    csv_: Annotated[bool, typer.Option("--csv", help="Its asks as CSV.")] = False,
) -> None:  # fmt: skip
    """The campaign, its funnel and its asks (and how long until its deadline)."""
    from karmabank.actions.campaigns import show_campaign

    with opened(db, now) as (store, settings):
        shown = show_campaign(store=store, name=name)
    if json_:
        _json(shown.as_json())
    elif csv_:
        from karmabank.actions.table_csv import ASKS, ask_rows, csv_lines
        from karmabank.cli.output import write_csv

        write_csv(csv_lines(ASKS, ask_rows(shown.asks)))
    else:
        show_view(shown, settings.clock())


def show_view(shown: CampaignShow, now: datetime) -> None:
    from karmabank.actions.campaigns import reach_text

    out, terminal = table_console()
    c = shown.campaign
    about = f" for {c.issue}" if c.issue else ""
    due = ""
    if c.deadline:
        days = (c.deadline - now).days
        left = f"in {days} days" if days > 0 else "today" if days == 0 else f"{-days} days ago"
        due = f", due {c.deadline.date().isoformat()} ({left})"
    target = f", target reach {reach_text(c.target_reach)}" if c.target_reach else ""
    out.print(f"[bold]{safe(c.name)}[/bold]: {safe(c.action)}{safe(about)}, budget {c.budget}"
              f"{target}{due}")  # fmt: skip
    out.print("funnel: " + " → ".join(f"{k} {v}" for k, v in shown.funnel.items()))
    table = Table(box=None, header_style="bold underline", pad_edge=False)
    for col in ("#", "person", "status", "response", "likelihood", "reach"):
        table.add_column(col, no_wrap=True, overflow="ellipsis",
                         max_width=28 if col == "person" and terminal else None)  # fmt: skip
    for a in shown.asks:
        table.add_row(
            str(a["position"] or ""), safe(_who(a["person"])), a["status"], a["response"] or "",
            "" if a["likelihood"] is None else f"{a['likelihood']:.0%}",
            "" if a["marginal_reach"] is None else f"{a['marginal_reach']:.1f}",
        )  # fmt: skip
    out.print(table)
