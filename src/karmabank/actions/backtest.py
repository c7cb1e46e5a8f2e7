"""Backtest (PRODUCT.md §1.7, §3): how well each score, computed at a cutoff from the data
before it only, ranked who came toward the organization in the `horizon_days` after it. The
arithmetic is `measures/backtest.py`; this reads the activities, the flags and the acted asks,
and returns the report that `karmabank backtest` shows (and prints with --json).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from karmabank.actions.scoring import flagged_people
from karmabank.bounds import MAX_WINDOW_DAYS
from karmabank.errors import ConfigError
from karmabank.measures import backtest as bt
from karmabank.measures import likelihood as lk
from karmabank.measures import weights_fit as wf
from karmabank.measures.settings import MeasureSettings
from karmabank.store import arrow_io
from karmabank.store.columns import ActivityColumns
from karmabank.store.likelihood import acted_asks
from karmabank.store.open import Store


@dataclass(frozen=True)
class BacktestReport:
    cutoff: datetime
    horizon_days: int
    k: int
    n_people: int
    n_positive: int
    auc: dict[str, float]
    precision_at_k: dict[str, float]
    model: lk.LikelihoodModel
    fit: wf.WeightsFit | None
    fit_auc: tuple[float, float] | None  # warmth's AUC with the default and fitted weights
    seconds: float

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "cutoff": self.cutoff.isoformat(),
            "horizon_days": self.horizon_days,
            "n_people": self.n_people,
            "n_positive": self.n_positive,
            "auc": {k: round(v, 4) for k, v in self.auc.items()},
            "precision_at_k": {"k": self.k,
                               **{k: round(v, 4) for k, v in self.precision_at_k.items()}},
            "model": {
                "fitted": self.model.fitted, "n_train": self.model.n_train,
                "n_positive": self.model.n_positive,
                "train_auc": None if self.model.train_auc is None
                else round(self.model.train_auc, 4),
                "window_days": round(self.model.window_days, 3), "reason": self.model.reason,
                "coefficients": self.model.coefficient_json(),
            },
        }  # fmt: skip
        if self.fit is not None:
            default, fitted = self.fit_auc if self.fit_auc is not None else (None, None)
            recommended, verdict = self.fit_verdict
            fit = self.fit.as_json()
            out["fit"] = {
                **fit,
                "default_auc": None if default is None else round(default, 4),
                "fitted_auc": None if fitted is None else round(fitted, 4),
                "gain": None if default is None or fitted is None else round(fitted - default, 4),
                "min_gain": wf.MIN_AUC_GAIN,
                "recommended": recommended,
                "verdict": verdict,
                "toml": fit["toml"] if recommended else None,
            }
        return out

    @property
    def fit_verdict(self) -> tuple[bool, str]:
        """Whether the fitted weights are worth using (they beat the current ones on the
        held-out interval by `weights_fit.MIN_AUC_GAIN`), and why."""
        if self.fit is None or not self.fit.fitted or self.fit_auc is None:
            return False, self.fit.reason if self.fit is not None else ""
        return wf.fit_verdict(*self.fit_auc)

    @property
    def best_baseline(self) -> str:
        return max(("warmth", "recency", "frequency"), key=lambda name: self.auc[name])


def backtest(
    *,
    store: Store,
    cutoff: datetime,
    horizon_days: int,
    settings: MeasureSettings,
    fit_weights: bool = False,
    k: int = 100,
) -> BacktestReport:
    """Every score at `cutoff` from the data before it, against who came toward us in
    (cutoff, cutoff + horizon_days] (`measures.backtest.evaluate`). ConfigError when the cutoff
    is outside the data or nobody (or everybody) came in that interval."""
    started = time.perf_counter()
    if horizon_days < 1 or k < 1:
        raise ConfigError("backtest: --horizon and -k must be at least 1")
    if horizon_days > MAX_WINDOW_DAYS:
        raise ConfigError(f"backtest: --horizon must be at most {MAX_WINDOW_DAYS:,} days")
    source = ActivityColumns(store.url, store.engine, directory=store.columns_dir).sync().source()
    with arrow_io.connect(store.url, store.engine) as conn:
        flags = flagged_people(conn)
        acted = acted_asks(conn, cutoff)
    found = bt.evaluate(
        source, cutoff=cutoff, horizon_days=horizon_days, k=k, settings=settings, flags=flags,
        acted=acted, fit_weights=fit_weights,
    )  # fmt: skip
    return BacktestReport(
        cutoff, horizon_days, k, found.n_people, found.n_positive, found.auc,
        found.precision_at_k, found.model, found.fit, found.fit_auc, time.perf_counter() - started,
    )  # fmt: skip
