"""Likelihood to act (PRODUCT.md §3): the chance that a person comes toward the organization
(at least one inbound activity) in the next `horizon_days`, with the parts that make it.

A logistic model over the features of `likelihood_features` (each person at `now`, from data up
to `now` only): how recently and how often they came toward us (warmth, silence, counts,
presence, their own rhythm and ladder stage), how they answered our gives and asks, their
activity in the wider network (peer activities they made and received) and, for a campaign,
their affinity to its issue.

`fit` learns the coefficients on the organization's own history before `now`: at times one
horizon apart (t = now − h, now − 2h, …), the features then and whether the person came toward
us in (t, t + h]; standardized features, L2-regularized logistic regression (scipy's L-BFGS-B
with the analytic gradient), each coefficient held to the sign common sense gives it (SIGNS),
each feature clipped to its training range when predicting. With too little history (fewer than
`likelihood.min_people` rows, or fewer than `likelihood.min_positive` who came, or who did not)
it returns the documented prior (`prior_model`, `PRIOR`) instead, and says why.

`auc` and `precision_at_k` measure how well a score ranks who acted (the backtest).

Pure: Arrow in (activities, flags, scores), NumPy/Arrow out; `now` is a parameter.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from karmabank.errors import ConfigError
from karmabank.frames import ParquetFiles, micros
from karmabank.measures.likelihood_features import (
    AFFINITY_INPUT,
    FEATURE_TEXT,
    acted_between,
    features,
    first_time,
    labels_for,
    training_times,
)
from karmabank.measures.settings import LikelihoodSettings, MeasureSettings

__all__ = [
    "AFFINITY_INPUT", "FEATURES", "FEATURE_TEXT", "PRIOR", "SIGNS", "LikelihoodModel",
    "acted_between", "auc", "contributions", "explain", "features", "first_time", "fit",
    "labels_for", "precision_at_k", "predict", "prior_model", "top_parts", "training_times",
    "why_text",
]  # fmt: skip

Floats = npt.NDArray[np.float64]
FEATURES: tuple[str, ...] = tuple(FEATURE_TEXT)
MIN_SCALE = 0.1  # standardizing divides by at least this (features are log1p'd or 0–1)
# The direction each effect may take in a fit (0: either). Who came lately and often, and is
# active in the network, comes again: a fit on a short or bursty history may not say otherwise.
SIGNS: dict[str, int] = {
    **dict.fromkeys(
        ("warmth", "n_in", "in_recent", "presence_30", "presence_90", "presence_365",
         "status_active", "stage", "peer_out_recent", "peer_out_90", "peer_out_365",
         "peer_in_recent", "peer_in_90", "peer_in_365", "given", "give_recent", "give_response",
         "ask_response", "affinity"),
        1,
    ),
    **dict.fromkeys(
        ("recency", "never_in", "silence_cadence", "status_quiet", "status_dormant",
         "peer_out_recency", "never_peer_out", "give_recency", "never_given"),
        -1,
    ),
}  # fmt: skip


def _expit(x: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """The logistic function 1 / (1 + e^−x), without overflow (scipy's expit costs 0.35 s
    of import)."""
    return np.exp(-np.logaddexp(0.0, -np.asarray(x, dtype=np.float64)))


# -- the model ------------------------------------------------------------------------------
@dataclass(frozen=True)
class LikelihoodModel:
    """A logistic model: p = σ(intercept + Σ coef × (clip(x, low, high) − mean) / scale).

    A fitted model clips each feature to the range it saw in training (`lows`, `highs`; empty
    for the prior): a value never seen there is not extrapolated."""

    features: tuple[str, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    lows: tuple[float, ...]
    highs: tuple[float, ...]
    coefficients: tuple[float, ...]
    intercept: float
    fitted: bool  # False: the prior
    n_train: int  # people known at the training time (0 for the prior)
    n_positive: int  # of them, how many acted in the training window
    train_auc: float | None
    horizon_days: float  # the horizon asked for
    window_days: float  # "lately" in the features, and the training window
    trained_at: int | None  # t0, UTC microseconds
    reason: str  # why this model: the fit's numbers, or why the prior

    def as_json(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LikelihoodModel:
        values: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in data.items()
        }
        return cls(**values)

    def dumps(self) -> str:
        return json.dumps(self.as_json(), sort_keys=True)

    def coefficient_json(self) -> dict[str, float]:
        """Coefficient per feature (on the standardized feature), largest effect first."""
        order = np.argsort(-np.abs(np.asarray(self.coefficients)), kind="stable")
        return {self.features[i]: round(self.coefficients[i], 4) for i in order
                if self.coefficients[i] != 0}  # fmt: skip


def prior_model(
    settings: LikelihoodSettings, *, window_days: float, reason: str
) -> LikelihoodModel:
    """The hand-set model used when the organization's history is too short to fit one
    (`PRIOR` with the default settings): coefficients on the raw features (means 0, scales 1),
    `likelihood.prior` and `likelihood.prior_intercept`.

    By default, recency leads: −0.6 per log1p(silence in windows), so each e-fold of silence
    divides the odds by e^0.6; never having come counts −2 (as silent for about 27 windows).
    Then how often and how lately they came (warmth +0.3, inbound count +0.2, active days in 90
    +0.3 per log unit), activity in the wider network (+0.3 per log unit of recent peer
    activity), our gives (−0.3 per log1p of windows since the last one, −0.7 if never), how they
    answered asks (+1 per unit of rate) and affinity to the issue (+1). Why: on every network
    we tried, who came lately and often comes again, and among those who never came, the ones
    active in the network come first; the fitted models agree on these signs."""
    unknown = sorted(set(settings.prior) - set(FEATURES))
    if unknown:
        raise ConfigError(
            f"likelihood.prior: no feature {unknown[0]!r} (features: {', '.join(FEATURES)})"
        )
    n = len(FEATURES)
    return LikelihoodModel(
        FEATURES, (0.0,) * n, (1.0,) * n, (), (),
        tuple(float(settings.prior.get(f, 0.0)) for f in FEATURES),
        float(settings.prior_intercept), False, 0, 0, None, float(settings.horizon_days),
        float(window_days), None, reason,
    )  # fmt: skip


def fit(
    acts: ParquetFiles | pa.Table,
    *,
    now: datetime,
    horizon_days: float,
    settings: MeasureSettings,
    flags: pa.Table | None = None,
    asks: pa.Table | None = None,
    affinity: Callable[[datetime], pa.Table | None] | None = None,
    threads: int | None = None,
) -> LikelihoodModel:
    """Fit the model on the history before `now`, data up to `now` only: at each time t of
    `training_times` (t = now − h, now − 2h, … over `likelihood.training_days`), the features
    from data up to t and the label "came toward us in (t, t + h]"; an earlier time weighs half
    as much per `likelihood.training_half_life_days`. `affinity(t)`, if given, is the affinity to
    the issue from texts up to t. Below the minimum (`likelihood.min_people` rows,
    `likelihood.min_positive` who acted and who did not), the prior, saying why."""
    lk = settings.likelihood
    split = training_times(
        acts, now=now, horizon_days=horizon_days, training_days=lk.training_days,
        max_splits=lk.max_splits, flags=flags,
    )  # fmt: skip
    if split is None:
        return prior_model(lk, window_days=horizon_days, reason="prior: no history before now")
    times, h = split
    tables, labels, weights = [], [], []
    for k, t in enumerate(times):
        f = features(acts, now=t, settings=settings, flags=flags, asks=asks, window_days=h,
                     affinity=affinity(t) if affinity else None, threads=threads)  # fmt: skip
        tables.append(f)
        labels.append(labels_for(f, acted_between(acts, after=t, until=t + timedelta(days=h))))
        weights.append(np.full(f.num_rows, 0.5 ** (k * h / lk.training_half_life_days)))
    feats, y, w = pa.concat_tables(tables), np.concatenate(labels), np.concatenate(weights)
    n, pos = feats.num_rows, int(y.sum())
    at = f" at {len(times)} times {_days(h)} apart" if len(times) > 1 else f" {_days(h)} before"
    after = " each" if len(times) > 1 else ""
    why = (f"{n:,} people known{at}, {pos:,} of whom came toward us in the {_days(h)} "
           f"after{after}")  # fmt: skip
    short = (n < lk.min_people and f"{n:,} people (minimum {lk.min_people})") or (
        min(pos, n - pos) < lk.min_positive
        and f"{min(pos, n - pos):,} {'who came' if pos <= n - pos else 'who did not'} "
        f"(minimum {lk.min_positive})"
    )
    if short:
        return prior_model(
            lk, window_days=h, reason=f"prior: too little history to fit ({why}: {short})"
        )
    x, y, w = _sampled(np.ascontiguousarray(_matrix(feats, FEATURES)), y, w, lk.max_rows)
    means = np.average(x, axis=0, weights=w)
    # a feature almost constant in training (a handful of gives) must not weigh a lot later
    scales = np.maximum(np.sqrt(np.average((x - means) ** 2, axis=0, weights=w)), MIN_SCALE)
    signs = [SIGNS.get(f, 0) for f in FEATURES]
    coef, intercept = _logistic((x - means) / scales, y, w, lk.l2, signs)
    model = LikelihoodModel(
        FEATURES, tuple(means.tolist()), tuple(scales.tolist()), tuple(x.min(axis=0).tolist()),
        tuple(x.max(axis=0).tolist()), tuple(coef.tolist()), intercept, True, n, pos, None,
        float(horizon_days), h, micros(times[0]), f"fitted on {why}",
    )  # fmt: skip
    return replace(model, train_auc=auc(predict(model, tables[0]), labels[0]))


def _days(d: float) -> str:
    return f"{d:.0f} days" if d >= 2 else f"{d * 24:.0f} hours"


def _sampled(x: Floats, y: Floats, w: Floats, max_rows: int) -> tuple[Floats, Floats, Floats]:
    """At most `max_rows` rows: everyone who came, and a fixed random share of the others
    weighing 1 / share each (the same fit in expectation, in bounded memory)."""
    negatives = np.flatnonzero(y == 0)
    room = max_rows - (y.size - negatives.size)
    if y.size <= max_rows or room >= negatives.size or room <= 0:
        return x, y, w
    share = room / negatives.size
    keep = np.sort(np.concatenate([
        np.flatnonzero(y > 0),
        np.random.default_rng(0).choice(negatives, size=room, replace=False),
    ]))  # fmt: skip
    w = np.where(y > 0, w, w / share)
    return x[keep], y[keep], w[keep]


def _matrix(table: pa.Table, names: Sequence[str]) -> Floats:
    """The columns `names` as one float matrix, filled column by column (one allocation: at
    everyone's size a copy more is 70 MB of fresh pages to touch)."""
    x = np.empty((table.num_rows, len(names)), dtype=np.float64, order="F")
    for j, n in enumerate(names):
        x[:, j] = table[n].to_numpy()
    return x


def _logistic(
    z: Floats, y: Floats, w: Floats, l2: float, signs: Sequence[int]
) -> tuple[Floats, float]:
    """Coefficients and intercept minimizing Σ w × logloss + l2/2 ‖coef‖² (intercept free),
    each coefficient of the sign `signs` gives (+1: ≥ 0, −1: ≤ 0, 0: any)."""

    # einsum, not BLAS: on a shared machine OpenBLAS' threads spin against each other (the
    # fit took 2-3x the CPU); one log(1 + e^−x) per evaluation gives both the loss and σ
    def loss(theta: Floats) -> tuple[float, Floats]:
        coef, b = theta[:-1], theta[-1]
        logit = np.einsum("ij,j->i", z, coef) + b
        minus_log_p = np.logaddexp(0.0, -logit)  # log(1 + e^x) = x + log(1 + e^−x)
        value = float(w @ (minus_log_p + (1.0 - y) * logit) + 0.5 * l2 * coef @ coef)
        err = w * (np.exp(-minus_log_p) - y)
        grad = np.append(np.einsum("ij,i->j", z, err) + l2 * coef, err.sum())
        return value, grad

    rate = min(max(float(np.average(y, weights=w)), 1e-6), 1 - 1e-6)
    start = np.append(np.zeros(z.shape[1]), np.log(rate / (1 - rate)))
    bounds = [(0.0, None) if s > 0 else (None, 0.0) if s < 0 else (None, None) for s in signs]
    bounds.append((None, None))
    from scipy.optimize import minimize  # imported when fitting: it takes 0.3 s

    done = minimize(
        loss, start, jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": 1000}
    )
    theta = np.asarray(done.x, dtype=np.float64)
    return theta[:-1], float(theta[-1])


def _standardized(model: LikelihoodModel, feats: pa.Table) -> Floats:
    """(clip(x, low, high) − mean) / scale, in place in the one matrix."""
    x = _matrix(feats, model.features)
    if model.lows:
        np.clip(x, np.asarray(model.lows), np.asarray(model.highs), out=x)
    x -= np.asarray(model.means)
    x /= np.asarray(model.scales)
    return x


def predict(model: LikelihoodModel, feats: pa.Table) -> Floats:
    """The probability that each row's person acts, in the rows' order: the log-odds summed
    feature by feature, those with a coefficient only (no matrix of everyone: at higgs size
    its 70 MB of fresh pages cost more than the arithmetic)."""
    logit = np.full(feats.num_rows, float(model.intercept))
    for j, name in enumerate(model.features):
        coefficient = model.coefficients[j]
        if coefficient == 0:
            continue
        x = np.asarray(feats[name].to_numpy(), dtype=np.float64)
        if model.lows:
            x = np.clip(x, model.lows[j], model.highs[j])
        logit += (x - model.means[j]) / model.scales[j] * coefficient
    return _expit(logit)


def contributions(model: LikelihoodModel, feats: pa.Table) -> Floats:
    """Per row and feature, its part of the log-odds (relative to the average person for a
    fitted model; the intercept and the parts add up to the log-odds)."""
    return np.asarray(_standardized(model, feats) * np.asarray(model.coefficients), np.float64)


def explain(
    model: LikelihoodModel, row: Mapping[str, float] | pa.Table, parts: int | None = None
) -> list[tuple[str, float]]:
    """The features of one person (a mapping, or a table of one row) with their contribution to
    the log-odds, largest effect first (the first `parts` of them, or all)."""
    table = row if isinstance(row, pa.Table) else pa.table({k: [float(v)] for k, v in row.items()})
    c = contributions(model, table)[0]
    order = np.argsort(-np.abs(c), kind="stable")[: parts if parts is not None else c.size]
    return [(model.features[i], float(c[i])) for i in order]


def top_parts(model: LikelihoodModel, feats: pa.Table, parts: int) -> pa.Array:
    """Per row, the `parts` largest contributions as a list of {feature, contribution}."""
    c = contributions(model, feats)
    n = c.shape[0]
    k = min(parts, c.shape[1])
    idx = np.argsort(-np.abs(c), axis=1, kind="stable")[:, :k]
    values = np.take_along_axis(c, idx, axis=1).ravel()
    names = pa.array(model.features, pa.string()).take(pa.array(idx.ravel(), pa.int64()))
    items = pa.StructArray.from_arrays(
        [names, pa.array(values, pa.float64())], names=["feature", "contribution"]
    )
    return pa.ListArray.from_arrays(pa.array(np.arange(n + 1) * k, pa.int32()), items)


def why_text(parts: pa.ListArray) -> pa.Array:
    """`top_parts` in words: "days since they last came toward us (−1.2), activity toward
    others lately (+0.4)"."""
    items = pc.list_flatten(parts)
    value = pc.round(items.field("contribution"), 1)
    names = pa.array(list(FEATURE_TEXT), pa.string())
    index = pc.index_in(items.field("feature"), value_set=names)
    text = pc.if_else(pc.is_valid(index), pc.take(pa.array(list(FEATURE_TEXT.values())), index),
                      items.field("feature"))  # fmt: skip
    sign = pc.if_else(pc.greater_equal(value, 0), "+", "−")
    number = pc.cast(pc.abs(value), pa.string())
    said = pc.binary_join_element_wise(text, " (", sign, number, ")", "")
    return pc.binary_join(pa.ListArray.from_arrays(parts.offsets, said), ", ")


PRIOR = prior_model(LikelihoodSettings(), window_days=30, reason="prior")


# -- how well a score ranks who acted --------------------------------------------------------
def auc(scores: npt.ArrayLike, labels: npt.ArrayLike) -> float:
    """ROC AUC: the chance that a random person who acted ranks above a random one who did not
    (Mann–Whitney; ties count one half). ValueError without both kinds."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    pos, neg = int(y.sum()), int((~y).sum())
    if pos == 0 or neg == 0:
        raise ValueError("auc needs at least one positive and one negative label")
    return float((_ranks(s)[y].sum() - pos * (pos + 1) / 2) / (pos * neg))


def _ranks(s: Floats) -> Floats:
    """Ranks from 1, ties at their average rank (scipy's rankdata, whose import takes 0.5-2 s
    of a plan that fits the model)."""
    order = np.argsort(s, kind="stable")
    ordered = s[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    counts = np.diff(np.r_[starts, s.size])
    ranks = np.empty(s.size, dtype=np.float64)
    ranks[order] = np.repeat(starts + (counts + 1) / 2.0, counts)
    return ranks


def precision_at_k(scores: npt.ArrayLike, labels: npt.ArrayLike, k: int) -> float:
    """Share of the top `k` by score who acted. Ties across the k-th place count at their
    average: each tied person fills a place with the tie group's share of positives."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    k = min(int(k), s.size)
    if k <= 0:
        raise ValueError("precision_at_k needs k >= 1 and at least one score")
    kth = np.partition(s, s.size - k)[s.size - k]  # the k-th largest score
    above, tied = s > kth, s == kth
    need = k - int(above.sum())
    return float((y[above].sum() + need * y[tied].mean()) / k)
