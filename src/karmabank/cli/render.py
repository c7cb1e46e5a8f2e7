"""Rendering for the terminal with Rich. No business logic: values in, text out."""

from __future__ import annotations

import json
import re
import shlex
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from karmabank.identities import display_name

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from karmabank.actions.demo import DemoSummary
    from karmabank.actions.importing import ImportReport
    from karmabank.actions.influencers import Influencers
    from karmabank.actions.nurture import NurtureItem
    from karmabank.actions.scoring import RescoreReport


def who(person: dict[str, Any]) -> str:
    """A person object's name, else their best identity (`identities.display_name`)."""
    return display_name(person.get("name"), person.get("identities") or (), person["id"])


def console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=True, emoji=False)


def table_console() -> tuple[Console, bool]:
    """A console for a table, and whether stdout is a terminal: in a pipe or a file the table
    is as wide as its rows (no column cut to fit 80 columns)."""
    terminal = sys.stdout.isatty()
    width = None if terminal else 100_000
    return Console(highlight=False, soft_wrap=True, emoji=False, width=width), terminal


# What a terminal would act on rather than show: C0 and C1 controls (ESC starts CSI and OSC
# sequences, BEL ends OSC), DEL, bidirectional overrides and isolates, line separators.
_CONTROLS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Of those, what JSON leaves raw (it writes C0 controls as \u00XX itself).
_JSON_RAW = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    c = match.group()
    return _NAMED.get(c) or (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")


def plain(value: object) -> str:
    """Data as text a terminal shows as it is: every control character (ESC, BEL, C1, bidi
    overrides, newlines...) replaced by a visible escape such as `\\x1b` or `\\u202e`."""
    return _CONTROLS.sub(_visible, str(value))


def safe(value: object) -> str:
    """Data to put into Rich markup: `plain`, then Rich's markup escaped (`[/]` is shown, not
    read as a tag). Every value from the database or the user goes through it."""
    return escape(plain(value))


def safe_lines(text: str, indent: str) -> str:
    """`safe` of each line of a text, the lines after the first indented."""
    return ("\n" + indent).join(safe(line) for line in text.split("\n"))


def quoted(value: object) -> str:
    """`safe` of the value's repr, as in `campaign 'River cleanup'`."""
    return safe(repr(str(value)))


def json_text(value: Any) -> str:
    """JSON of the value for stdout: what JSON leaves raw and a terminal acts on (C1 controls,
    bidi overrides, line separators) written as `\\uXXXX`, the same value to a JSON reader."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class _RichImportProgress:
    """Rows and rows/s of an import, with a bar over the file's bytes on disk."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None
        self.rows = 0
        self.t0 = time.perf_counter()

    def start_file(self, name: str, size: int) -> None:
        self.rows, self.t0 = 0, time.perf_counter()
        self.task = self.progress.add_task(name, total=size, rows="0 rows")

    def advance(self, rows: int, position: int) -> None:
        self.rows += rows
        rate = self.rows / max(time.perf_counter() - self.t0, 1e-9)
        if self.task is not None:
            self.progress.update(
                self.task, completed=position, rows=f"{self.rows:,} rows  {rate:,.0f}/s"
            )

    def end_file(self) -> None:
        if self.task is not None:
            task = self.progress.tasks[self.task]
            self.progress.update(self.task, completed=task.total)


class _Silent:
    def start_file(self, name: str, size: int) -> None:
        pass

    def advance(self, rows: int, position: int) -> None:
        pass

    def end_file(self) -> None:
        pass


@contextmanager
def import_progress() -> Iterator[_RichImportProgress | _Silent]:
    """A Rich progress bar on a terminal (on stderr); nothing when output is redirected."""
    if not sys.stderr.isatty():
        yield _Silent()
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[rows]}"),
        TimeElapsedColumn(),
        console=console(stderr=True),
        transient=False,
    )
    with progress:
        yield _RichImportProgress(progress)


def import_report(report: ImportReport) -> None:
    from karmabank.actions.import_runs import interrupted_message

    out = console()
    for run_id in report.interrupted:
        out.print(interrupted_message(run_id), markup=False, soft_wrap=True)
    imported = f"{report.imported:,} activities"
    if report.org_content or report.opt_outs:  # counted among the imported rows: say which
        activities = report.imported - report.org_content - report.opt_outs
        parts = [f"{activities:,} " + ("activity" if activities == 1 else "activities")]
        if report.org_content:
            parts.append(f"{report.org_content:,} of the organization's own content")
        if report.opt_outs:
            parts.append(_plural(report.opt_outs, "opt-out"))
        imported = f"{report.imported:,} rows ({', '.join(parts)})"
    out.print(
        f"imported {imported}; {report.duplicates:,} already there; "
        f"{report.skipped:,} skipped; {report.quarantined:,} quarantined "
        f"({report.rows_read:,} rows read, import run {report.run_id})"
    )
    for reason, n in sorted(report.skip_reasons.items()):
        out.print(f"  skipped {n:,}: {safe(reason)}")
    if report.org_identities:
        ids = ", ".join(report.org_identities)
        out.print(f"  the organization's identities, added: {safe(ids)}", soft_wrap=True)
    for e in report.errors[:20]:
        out.print(f"  {safe(e.file)}:{e.line}: {safe(e.reason)}")
    if report.quarantined > min(len(report.errors), 20):
        out.print(f"  ... {report.quarantined - min(len(report.errors), 20):,} more in quarantine")
    for e in report.damaged:  # a file that broke off is said even after many bad rows
        if e not in report.errors[:20]:
            out.print(f"  {safe(e.file)}:{e.line}: {safe(e.reason)}")


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _dash(value: object, fmt: str = "") -> str:
    return "—" if value is None else format(value, fmt)


_WHY_ORDER = ("circle", "rhythm", "warmth", "ledger", "stage", "tenure", "scores")


def person_view(d: dict[str, Any], ref: str | None = None) -> None:
    """A person's scores, counts and one page of their timeline (`d["timeline_page"]` says
    which; `ref`, as typed, for the next page's command)."""
    out = console()
    flags = [k for k, v in d["flags"].items() if v]
    out.print(f"[bold]{safe(who(d))}[/bold]  person {d['id']}"
              + (safe(f"  [{', '.join(flags)}]") if flags else ""))  # fmt: skip
    out.print("identities: " + safe(", ".join(d["identities"])))
    if d.get("opt_outs"):
        out.print("opted out of: " + safe(", ".join(d["opt_outs"])))
    out.print(f"\n[bold]why[/bold] (scores as of {d['scored_at'][:16].replace('T', ' ')} UTC)")
    why = Table.grid(padding=(0, 2))
    why.add_column(no_wrap=True)
    why.add_column(overflow="fold")
    for key in _WHY_ORDER:
        if key in d["why"]:
            why.add_row(key, safe(d["why"][key]))
    out.print(why)
    c = d["counts"]
    out.print(
        f"\n{c['in']:,} toward us, {_plural(c['give'], 'give')}, {_plural(c['ask'], 'ask')}, "
        f"{c['peer_out']:,} toward others, {c['peer_in']:,} from others"
    )
    if d["first_seen"]:
        out.print(f"first seen {d['first_seen']}, last seen {d['last_seen']}")
    paged = d.get("timeline_page")
    if paged is None:
        out.print("\n[bold]timeline[/bold] (latest first)")
    else:
        out.print("\n" + _timeline_heading(paged, len(d["timeline"])))
    table = Table.grid(padding=(0, 2))
    for _ in range(4):
        table.add_column(no_wrap=True)
    table.add_column(overflow="fold", ratio=1)
    for t in d["timeline"]:
        other = t["other"]
        who_ = "" if other is None else who(other)
        what = t["text"] or t["object"] or ""
        arrow = {"peer": f"-> {who_}", "peer_in": f"<- {who_}"}.get(t["direction"], t["direction"])
        table.add_row(
            t["occurred_at"][:16].replace("T", " "), safe(arrow), safe(t["verb"]),
            safe(t["channel"]), safe(what[:280]),
        )  # fmt: skip
    out.print(table)
    if paged is not None and paged["more"] and ref is not None:
        out.print(safe(f"next page: karmabank person {shlex.quote(ref)} "
                       + " ".join(_timeline_options(paged, paged["page"] + 1))))  # fmt: skip


_WHOSE_WORDS = {"theirs": "theirs", "others": "others' toward them", "all": "everything"}


def _timeline_heading(p: dict[str, Any], shown: int) -> str:
    """The timeline's heading: which of it, and which page of how many ("timeline (theirs,
    the newest first): page 1 of 3, activities 1 to 50 of 142")."""
    what = [_WHOSE_WORDS.get(p["whose"], p["whose"])]
    if p["direction"]:
        what.append(f"direction {p['direction']}")
    if p["channel"]:
        what.append(f"on {p['channel']}")
    head = f"[bold]timeline[/bold] ({safe(', '.join(what))}, the newest first): "
    head += f"page {p['page']} of {p['pages']}, "
    if not shown:
        return head + "nothing here"
    first = p["offset"] + 1
    return head + f"activities {first:,} to {first + shown - 1:,} of {p['total']:,}"


def _timeline_options(p: dict[str, Any], page: int) -> list[str]:
    """The `person` options that show page `page` of the same timeline."""
    options = [f"--page {page}"]
    if p["per_page"] != 50:
        options.append(f"--per-page {p['per_page']}")
    if p["whose"] != "theirs":
        options.append(f"--whose {p['whose']}")
    if p["direction"]:
        options.append(f"--direction {shlex.quote(p['direction'])}")
    if p["channel"]:
        options.append(f"--channel {shlex.quote(p['channel'])}")
    return options


def status_view(r: dict[str, Any]) -> None:
    out = console()
    out.print(
        f"[bold]network[/bold] as of {r['scored_at'][:16].replace('T', ' ')} UTC: "
        f"{r['people']:,} people, {r['scored']:,} in a circle"
    )
    out.print("share ratio: " + safe(r["share_ratio"]["why"]))
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("circles", _counts_line(r["circles"]))
    grid.add_row("rhythm", _counts_line(r["statuses"]))
    grid.add_row("ladder", _counts_line(r["stages"]))
    out.print(grid)


def demo_tour(summary: DemoSummary, activate: str | None = None) -> None:
    out = console()
    day = summary.now.date().isoformat()
    if summary.kept:
        out.print(f"[bold]Demo database kept as it was:[/bold] {escape(summary.db)}")
        out.print("(its users and issues too; `karmabank demo --force` rebuilds it)")
        out.print(f"{summary.people:,} people, {summary.activities:,} activities, as of {day}")
    else:
        out.print(f"[bold]Demo database ready:[/bold] {escape(summary.db)}")
        if summary.backed_up is not None:
            saved = escape(str(summary.backed_up))
            out.print(f"The database it replaced was backed up first to {saved}")
        quarantined = summary.report.quarantined if summary.report else 0
        out.print(
            f"{summary.people:,} people, {summary.activities:,} activities "
            f"({quarantined} quarantined), as of {day}"
        )
    when = summary.now.strftime("%Y-%m-%d %H:%M UTC")
    out.print(f"Its time is fixed at {when}: commands on it compute as of then")
    out.print("\nA short tour (listings also take --json):\n")
    tour = summary.tour
    if activate is not None:
        tour = [(activate, "puts karmabank on your PATH, so the commands below work as typed")]
        tour += summary.tour
    for command, comment in tour:
        out.print(f"  [bold]{escape(command)}[/bold]\n      {escape(comment)}")


def rescore_report(r: RescoreReport) -> None:
    out = console()
    out.print(
        f"scored {r.people:,} people as of {r.now.isoformat(timespec='minutes')} "
        f"in {r.seconds:.2f} s ({r.sync.rows:,} activities; "
        f"{r.transitions:,} ladder transitions recorded)"
    )
    s = r.summary
    out.print("circles:  " + _counts_line(s.by_circle))
    out.print("statuses: " + _counts_line(s.by_status))
    out.print("stages:   " + _counts_line(s.by_stage))


def _counts_line(counts: dict[str, int]) -> str:
    return ", ".join(f"{safe(k)} {n:,}" for k, n in counts.items()) or "none"


def nurture_queue(items: list[NurtureItem]) -> None:
    out = console()
    if not items:
        out.print("nothing to do today: the queue is empty")
        return
    for i in items:
        named = who(i.person)
        circle = f" ({i.circle})" if i.circle else ""
        out.print(f"[bold]{i.id:>4}  {safe(i.kind)}[/bold]  {safe(named)}{safe(circle)}")
        out.print(f"      why:   {safe(i.reason)}")
        out.print(f"      next:  {safe(i.next_step)}")
        out.print(f"      draft: {safe_lines(i.draft, '             ')}")


def influencers_table(found: Influencers) -> None:
    from karmabank.actions.influencers import shown_percent

    out, terminal = table_console()
    if found.issue is not None:
        out.print(f"influencers for {safe(found.issue.name)}")
    if not found.affinity_known:
        out.print("affinity unknown: no texts to read (or no issues): influence = warmth × reach")
    table = Table(box=None, header_style="bold underline", pad_edge=False)
    for name, justify in (("id", "right"), ("name", "left"), ("influence", "right"),
                          ("warmth", "right"), ("reach", "right"), ("affinity", "right"),
                          ("issue", "left")):  # fmt: skip
        table.add_column(name, justify=justify, no_wrap=True,  # type: ignore[arg-type]
                         overflow="ellipsis",
                         max_width=24 if name == "name" and terminal else None)  # fmt: skip
    for r in found.rows:
        p = r["person"]
        shown = who(p)
        aff = "unknown" if r["affinity"] is None else f"{r['affinity']:.2f}"
        table.add_row(
            str(p["id"]), safe(shown), f"{r['influence']:.3f}", shown_percent(r["warmth_pct"]),
            shown_percent(r["reach_pct"]), aff, safe(r["issue"] or "—"),
        )  # fmt: skip
    out.print(table)
    if found.rows:
        out.print("why #1: " + safe(found.rows[0]["why"]))
