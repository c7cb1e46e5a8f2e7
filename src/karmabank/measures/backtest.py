"""Backtest arithmetic (PRODUCT.md §1.7, §3): how well each score, computed at a cutoff from
the data before it only, ranks who came toward the organization in the `horizon_days` after it.

Every score is computed on the activities up to the cutoff, materialized apart from the rest
(nothing later can leak into a measure); the labels are read from the interval after it. The
likelihood model is fitted on the history before the cutoff (`measures.likelihood.fit`); with
`fit_weights`, warmth's verb weights and decay too (`measures.weights_fit`), and warmth with
them is ranked on the same interval.

Pure: the activities (Arrow or Parquet files), flags and acted asks in; the AUCs out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from karmabank.errors import ConfigError
from karmabank.frames import ParquetFiles, engine_over, micros
from karmabank.measures import likelihood as lk
from karmabank.measures import weights_fit as wf
from karmabank.measures.network import score_network
from karmabank.measures.settings import MeasureSettings
from karmabank.model import from_micros

RANKINGS = ("likelihood", "warmth", "recency", "frequency")
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Evaluation:
    """Each ranking's AUC and precision among the top `k`, over the people known at the
    cutoff; the likelihood model fitted before it; with `fit_weights`, the fitted warmth and
    warmth's AUC with the current and the fitted weights."""

    n_people: int
    n_positive: int  # of them, how many came toward us in the horizon
    auc: dict[str, float]
    precision_at_k: dict[str, float]
    model: lk.LikelihoodModel
    fit: wf.WeightsFit | None
    fit_auc: tuple[float, float] | None


@dataclass(frozen=True)
class _Cut:
    """The history up to the cutoff and who came toward us in the horizon after it."""

    past: pa.Table
    came: npt.NDArray[np.int64]
    flags: pa.Table | None
    acted: pa.Table | None


def evaluate(
    acts: ParquetFiles | pa.Table, *, cutoff: datetime, horizon_days: int, k: int,
    settings: MeasureSettings, flags: pa.Table | None = None, acted: pa.Table | None = None,
    fit_weights: bool = False,
) -> Evaluation:  # fmt: skip
    """Every score at `cutoff` from the data before it, against who came toward us in
    (cutoff, cutoff + horizon_days]. ConfigError when there are no activities, the cutoff is
    outside them, or nobody (or everybody) came in that interval."""
    past, first, last = _split(acts, cutoff)
    cut_us = micros(cutoff)
    if not first <= cut_us < last:
        raise ConfigError(
            f"cutoff {_day(cut_us)} is outside the data ({_day(first)} to {_day(last)} UTC): "
            "choose a time between them"
        )
    until = cutoff + timedelta(days=horizon_days)
    cut = _Cut(past, lk.acted_between(acts, after=cutoff, until=until), flags, acted)
    model = lk.fit(past, now=cutoff, horizon_days=horizon_days, settings=settings, flags=flags,
                   asks=acted)  # fmt: skip
    scores = score_network(past, now=cutoff, settings=settings, flags=flags, acted=acted).scores
    feats = lk.features(past, now=cutoff, settings=settings, flags=flags, scores=scores,
                        asks=acted, window_days=model.window_days)  # fmt: skip
    y = lk.labels_for(feats, cut.came)
    n, pos = feats.num_rows, int(y.sum())
    if pos == 0 or pos == n:
        who = "nobody" if pos == 0 else "everybody"
        raise ConfigError(
            f"{who} known at the cutoff came toward the organization between {_day(cut_us)} and "
            f"{_day(micros(until))} UTC: nothing to rank; choose another cutoff or horizon"
        )
    ranked = _rankings(model, feats, scores)
    fitted, fit_auc = None, None
    if fit_weights:
        fitted, fit_auc = _fitted_warmth(cut, cutoff, horizon_days, settings, feats, y, ranked)
    return Evaluation(
        n, pos, {name: lk.auc(s, y) for name, s in ranked.items()},
        {name: lk.precision_at_k(s, y, k) for name, s in ranked.items()}, model, fitted, fit_auc,
    )  # fmt: skip


def _rankings(model: lk.LikelihoodModel, feats: pa.Table, scores: pa.Table) -> dict[str, Floats]:
    """Each ranking's score of `feats`' people (RANKINGS' order)."""
    return {
        "likelihood": lk.predict(model, feats),
        "warmth": _aligned(feats, scores, "warmth"),
        # days since the last inbound activity (those who never came, last)
        "recency": np.where(_col(feats, "never_in") > 0, -np.inf, -_col(feats, "recency")),
        "frequency": _col(feats, "n_in"),  # log1p(inbound count): the same order
    }


def _fitted_warmth(
    cut: _Cut, cutoff: datetime, horizon_days: int, settings: MeasureSettings, feats: pa.Table,
    y: Floats, ranked: dict[str, Floats],
) -> tuple[wf.WeightsFit, tuple[float, float] | None]:  # fmt: skip
    """Warmth's verb weights and decay fitted on the history before the cutoff, and warmth's
    AUC with the current and the fitted ones (None when nothing could be fitted)."""
    fitted = wf.fit_weights(
        cut.past, now=cutoff, horizon_days=horizon_days, settings=settings, flags=cut.flags
    )
    if not fitted.fitted:
        return fitted, None
    again = score_network(
        cut.past, now=cutoff, settings=fitted.settings(settings), flags=cut.flags, acted=cut.acted
    ).scores
    return fitted, (lk.auc(ranked["warmth"], y), lk.auc(_aligned(feats, again, "warmth"), y))


def _split(source: ParquetFiles | pa.Table, cutoff: datetime) -> tuple[pa.Table, int, int]:
    """The activities up to the cutoff (materialized: nothing later reaches a score), and the
    time span of all activities."""
    con = engine_over({"acts": source})
    try:
        span = "SELECT min(occurred_at), max(occurred_at) FROM acts"
        first, last = con.execute(span).fetchall()[0]
        if first is None:
            raise ConfigError("no activities yet: import some before a backtest")
        past = con.sql(f"SELECT * FROM acts WHERE occurred_at <= {micros(cutoff)}").to_arrow_table()
    finally:
        con.close()
    return past, int(first), int(last)


def _day(us: int) -> str:
    return from_micros(us).strftime("%Y-%m-%d %H:%M")


def _col(table: pa.Table, name: str) -> Floats:
    return np.asarray(table[name].to_numpy(), dtype=np.float64)


def _aligned(feats: pa.Table, scores: pa.Table, column: str) -> Floats:
    """`scores`' `column` in the order of `feats`' people (0 for anyone it lacks)."""
    ids = np.asarray(scores["person_id"].to_numpy(), dtype=np.int64)
    values = np.asarray(pc.fill_null(scores[column], 0.0).to_numpy(), dtype=np.float64)
    order = np.argsort(ids, kind="stable")
    ids, values = ids[order], values[order]
    want = np.asarray(feats["person_id"].to_numpy(), dtype=np.int64)
    if ids.size == 0:
        return np.zeros(want.size)
    at = np.clip(np.searchsorted(ids, want), 0, ids.size - 1)
    return np.where(ids[at] == want, values[at], 0.0)
