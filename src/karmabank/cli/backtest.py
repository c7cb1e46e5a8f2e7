"""`karmabank backtest`: how well each score predicted who came toward the organization."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from karmabank.cli.options import Db, Json
from karmabank.cli.render import console, json_text, plain

if TYPE_CHECKING:
    from karmabank.actions.backtest import BacktestReport

_NAMES = {
    "likelihood": "likelihood to act",
    "warmth": "warmth",
    "recency": "recency (last came)",
    "frequency": "frequency (times came)",
}


def backtest(
    cutoff: Annotated[
        str,
        typer.Option(help="Score as of this ISO-8601 time, with the data before it only."),
    ],
    horizon: Annotated[
        int | None,
        typer.Option(help="Days after the cutoff in which acting counts (default 30).", min=1),
    ] = None,
    k: Annotated[int, typer.Option("-k", help="Precision among the top K people.", min=1)] = 100,
    fit: Annotated[
        bool,
        typer.Option("--fit", help="Also fit warmth's verb weights and decay to your history."),
    ] = False,
    db: Db = None,
    json_: Json = False,
) -> None:
    """Check on your own history how well the scores predicted who came toward you."""
    from karmabank.actions.backtest import backtest as run_backtest
    from karmabank.actions.database import open_database
    from karmabank.settings import load_settings, parse_instant

    settings = load_settings(db=db)
    when = parse_instant(cutoff, "--cutoff")
    with open_database(settings=settings) as store:
        measures = settings.measures
        report = run_backtest(
            store=store, cutoff=when, settings=measures, fit_weights=fit, k=k,
            horizon_days=horizon if horizon is not None else measures.likelihood.horizon_days,
        )  # fmt: skip
    if json_:
        sys.stdout.write(json_text(report.as_json()) + "\n")
    else:
        backtest_view(report)


def backtest_view(report: BacktestReport) -> None:
    """The table of AUC and precision@k per score, what it means, and the fitted weights."""
    out = console()

    def say(text: str) -> None:  # fitted verbs come from the data: shown as plain text
        out.print(plain(text), markup=False)

    cut = report.cutoff.strftime("%Y-%m-%d %H:%M")
    say(
        f"backtest at {cut} UTC: {report.n_people:,} people known, {report.n_positive:,} "
        f"came toward us in the next {report.horizon_days} days"
    )
    table = Table(box=None, pad_edge=False, show_edge=False)
    table.add_column("score")
    table.add_column("AUC", justify="right")
    table.add_column(f"precision@{report.k}", justify="right")
    for name, label in _NAMES.items():
        table.add_row(label, f"{report.auc[name]:.3f}", f"{report.precision_at_k[name]:.3f}")
    out.print(table)
    best = report.best_baseline
    gain = report.auc["likelihood"] - report.auc[best]
    verdict = "better" if gain > 0 else "no better"
    say(
        f"likelihood ranks who came {verdict} than the best plain score ({_NAMES[best]}): "
        f"AUC {gain:+.3f}"
    )
    m = report.model
    say(f"model: {m.reason}")
    if report.fit is None:
        return
    f = report.fit
    if not f.fitted or report.fit_auc is None:
        say(f"fit: {f.reason}")
        return
    weights = ", ".join(f"{v} {w:g} (now {f.default_weights[v]:g})" for v, w in f.weights.items())
    weights = weights or "none to fit (every activity has its own weight)"
    days = f.half_life_days
    half = "none" if days is None else f"{days:g} day" + ("" if days == 1 else "s")
    say(
        f"fitted warmth: half-life {half} (decay {f.decay:.3g} per 30 days, now "
        f"{f.default_decay:.3g}); weights {weights}"
    )
    recommended, verdict = report.fit_verdict
    say(verdict)
    if not recommended:
        return
    say("to use them, put this in karmabank.toml:")
    for line in f.toml().splitlines():
        say(f"  {line}")
