"""Fit warmth's verb weights and decay to the organization's own history: "how do I choose the
weights?" (PRODUCT.md §1.7).

On a time split before `now` (as the likelihood's: t0 = now − h), each person's inbound
activities up to t0 are summed per verb with the decay of each half-life of HALF_LIVES. For each
half-life, non-negative verb weights w (and a slope c ≥ 0, an intercept b) maximize the
likelihood of who came toward us in (t0, now] under
`logit = b + c × log1p(multiplexity × (Σ_verb w_verb × decayed count_verb + fixed))`,
where `fixed` is the decayed sum of the activities that carry their own weight (an import's
weight column wins over the verb's). The half-life with the lowest log-loss wins. Warmth ranks
people by the sum inside, so these are warmth's weights; they are rescaled so the largest is 10
(unless activities carry their own weights, whose scale they must keep).

Only people who came toward us before t0 take part: for the others warmth is 0 whatever the
weights. Pure: Arrow in, numbers out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from karmabank.frames import (
    FLAGS_SCHEMA,
    US_PER_DAY,
    ParquetFiles,
    empty,
    engine_over,
    micros,
)
from karmabank.measures.likelihood import acted_between, training_times
from karmabank.measures.settings import MeasureSettings

Floats = npt.NDArray[np.float64]
HALF_LIVES: tuple[float, ...] = (1, 3, 7, 14, 30, 90, 197, 365, 730)  # days; 197 ≈ the default
MIN_POSITIVE = 5  # fewer people who came back among those who had come: nothing to fit
# Fitted weights are recommended only when warmth with them ranks who came toward us (after the
# cutoff: data the fit never saw) at least this much AUC better than with the current weights.
MIN_AUC_GAIN = 0.01


def fit_verdict(default_auc: float, fitted_auc: float) -> tuple[bool, str]:
    """Whether to recommend fitted weights, given warmth's held-out AUC with the current and the
    fitted ones, and the sentence that says so."""
    gain = fitted_auc - default_auc
    change = f"warmth AUC {default_auc:.3f} -> {fitted_auc:.3f} ({gain:+.3f})"
    if gain >= MIN_AUC_GAIN:
        return True, f"{change}: the fitted weights rank who came back better"
    how = "no better than" if gain <= 0 else f"less than {MIN_AUC_GAIN} of AUC better than"
    return False, (
        f"{change}: on the data after the cutoff the fitted weights rank who came back {how} "
        "the current ones: keep the current weights"
    )


def _expit(x: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """The logistic function 1 / (1 + e^−x), without overflow (scipy's expit costs 0.35 s
    of import)."""
    return np.exp(-np.logaddexp(0.0, -np.asarray(x, dtype=np.float64)))


@dataclass(frozen=True)
class WeightsFit:
    """Fitted verb weights and decay (`fitted`), or why there are none (`reason`). When every
    activity carries its own weight, only the decay is fitted (`weights` empty)."""

    fitted: bool
    half_life_days: float | None  # None: no decay
    decay: float  # kept per 30 days
    weights: dict[str, float]  # the verbs seen before t0, fitted
    default_weights: dict[str, float]  # the same verbs, as set now
    default_decay: float
    rescaled: bool  # False: activities carry their own weights, so the scale was kept
    n_train: int
    n_positive: int
    log_loss: dict[float, float] = field(default_factory=dict)  # per half-life (mean)
    reason: str = ""

    def settings(self, base: MeasureSettings) -> MeasureSettings:
        """`base` with these weights and this decay: what karmabank.toml would give."""
        warmth = replace(base.warmth, weights={**base.warmth.weights, **self.weights})
        if self.half_life_days is not None:
            warmth = replace(warmth, decay=0.5, decay_days=float(self.half_life_days))
        return replace(base, warmth=warmth)

    def toml(self) -> str:
        """The `[warmth]` section to put in karmabank.toml (the decay as a half-life: half of
        a contribution is kept per `decay_days`)."""
        table = ", ".join(f"{v} = {_num(w)}" for v, w in self.weights.items())
        weights = f"weights = {{ {table} }}\n" if self.weights else ""
        return f"[warmth]\ndecay = 0.5\ndecay_days = {_num(self.half_life_days or 0)}\n{weights}"

    def as_json(self) -> dict[str, Any]:
        return {
            "fitted": self.fitted, "half_life_days": self.half_life_days,
            "decay": float(_num(self.decay)),
            "weights": self.weights,
            "default_weights": self.default_weights, "default_decay": self.default_decay,
            "rescaled": self.rescaled, "n_train": self.n_train, "n_positive": self.n_positive,
            "log_loss": {_num(k): round(v, 5) for k, v in self.log_loss.items()},
            "reason": self.reason, "toml": self.toml() if self.fitted else None,
        }  # fmt: skip


def _num(x: float) -> str:
    return f"{x:.4g}"


def _days(d: float) -> str:
    return f"{d:.0f} days" if d >= 2 else f"{d * 24:.0f} hours"


def fit_weights(
    acts: ParquetFiles | pa.Table,
    *,
    now: datetime,
    horizon_days: float,
    settings: MeasureSettings,
    flags: pa.Table | None = None,
) -> WeightsFit:
    """Verb weights and decay fitted on the history before `now` (data up to `now` only)."""
    w = settings.warmth
    split = training_times(acts, now=now, horizon_days=horizon_days, flags=flags)
    per_30 = w.decay ** (30 / w.decay_days)
    nothing = WeightsFit(
        False, math.log(0.5) / math.log(w.decay) * w.decay_days if w.decay < 1 else None,
        per_30, {}, {}, per_30, False, 0, 0,
    )  # fmt: skip
    if split is None:
        return replace(nothing, reason="no history before the cutoff")
    (t0,), h = split
    people, verbs, sums, fixed, mult = _decayed_sums(acts, micros(t0), flags, settings)
    y = np.isin(people, acted_between(acts, after=t0, until=now)).astype(np.float64)
    pos = int(y.sum())
    base = replace(nothing, n_train=people.size, n_positive=pos)
    if min(pos, people.size - pos) < MIN_POSITIVE or not verbs and not fixed.any():
        return replace(
            base,
            reason=f"too little history: {people.size:,} people had come toward us "
            f"{_days(h)} before the cutoff, {pos:,} of them came again (minimum "
            f"{MIN_POSITIVE} who did and who did not)",
        )
    defaults = np.asarray([w.weights.get(v, w.default_weight) for v in verbs])
    best: tuple[float, float, Floats, float] | None = None
    losses: dict[float, float] = {}
    for k, hl in enumerate(HALF_LIVES):
        weights, slope, loss = _fit_one(sums[:, :, k], fixed[:, k], mult, y, defaults)
        losses[hl] = loss / people.size
        if best is None or loss < best[1]:
            best = (hl, loss, weights, slope)
    assert best is not None
    hl, _, weights, slope = best
    if slope < 1e-6 or (weights.size and weights.max() <= 0):
        return replace(
            base, log_loss=losses,
            reason=f"no signal: among {people.size:,} people who had come toward us "
            f"{_days(h)} before the cutoff, warmth (with any weights and decay) did not tell "
            "who came again; keep the defaults",
        )  # fmt: skip
    rescaled = bool(weights.size) and not fixed.any()
    if rescaled:
        weights = weights * 10 / weights.max()
    return replace(
        base, fitted=True, half_life_days=hl, decay=0.5 ** (30 / hl), rescaled=rescaled,
        weights={v: round(float(x), 2) for v, x in zip(verbs, weights, strict=True)},
        default_weights={v: float(d) for v, d in zip(verbs, defaults, strict=True)},
        log_loss=losses,
        reason=f"fitted on {people.size:,} people who had come toward us {_days(h)} before "
        f"the cutoff, {pos:,} of whom came again"
        + ("" if verbs else " (every activity has its own weight: only the decay applies)"),
    )  # fmt: skip


def _decayed_sums(
    acts: ParquetFiles | pa.Table, t0_us: int, flags: pa.Table | None, s: MeasureSettings
) -> tuple[npt.NDArray[np.int64], list[str], Floats, Floats, Floats]:
    """People with an inbound activity up to t0 (sorted), the verbs without their own weight,
    decayed counts [person, verb, half-life], decayed own-weight sums [person, half-life] and
    each person's multiplexity at t0."""
    decays = ", ".join(
        f"sum(CASE WHEN a.weight IS NULL THEN exp(-age * {math.log(2) / hl!r}) ELSE 0 END) "
        f"AS n{k}, sum(coalesce(a.weight, 0) * exp(-age * {math.log(2) / hl!r})) AS f{k}"
        for k, hl in enumerate(HALF_LIVES)
    )
    con = engine_over(
        {"acts_src": acts, "flags": flags if flags is not None else empty(FLAGS_SCHEMA)}
    )
    try:
        con.execute(
            f"""CREATE TEMP TABLE a AS SELECT person_id, verb, channel, weight,
              ({t0_us} - occurred_at) / {float(US_PER_DAY)!r} AS age
            FROM acts_src a WHERE direction = 'in' AND occurred_at <= {t0_us}
              AND NOT EXISTS (SELECT 1 FROM flags f WHERE f.person_id = a.person_id
                              AND (f.team OR f.bot OR f.erased))"""
        )
        rows = con.sql(
            f"SELECT person_id, coalesce(verb, '') AS verb, {decays} FROM a "
            "GROUP BY ALL ORDER BY person_id, verb"
        ).fetchnumpy()
        m = s.warmth
        mult = con.sql(
            f"""SELECT person_id, 1 + {m.multiplexity_step!r}
                * (greatest(count(DISTINCT channel) FILTER (WHERE age < {m.multiplexity_days}),
                            1) - 1) AS m
            FROM a GROUP BY person_id ORDER BY person_id"""
        ).fetchnumpy()
    finally:
        con.close()
    people = np.asarray(mult["person_id"], dtype=np.int64)
    row = np.searchsorted(people, np.asarray(rows["person_id"], dtype=np.int64))
    verb_of_row = np.asarray(rows["verb"], dtype=object)
    counts = np.column_stack(
        [np.asarray(rows[f"n{k}"], np.float64) for k in range(len(HALF_LIVES))]
    )
    own = np.column_stack([np.asarray(rows[f"f{k}"], np.float64) for k in range(len(HALF_LIVES))])
    has_count = counts.sum(axis=1) > 0
    verbs = sorted({str(v) for v in verb_of_row[has_count]})
    col = np.searchsorted(np.asarray(verbs, dtype=object), verb_of_row) if verbs else row * 0
    sums = np.zeros((people.size, len(verbs), len(HALF_LIVES)))
    if verbs:
        np.add.at(sums, (row[has_count], col[has_count]), counts[has_count])
    fixed = np.zeros((people.size, len(HALF_LIVES)))
    np.add.at(fixed, row, own)
    return people, verbs, sums, fixed, np.asarray(mult["m"], dtype=np.float64)


def _fit_one(
    sums: Floats, fixed: Floats, mult: Floats, y: Floats, start: Floats
) -> tuple[Floats, float, float]:
    """Non-negative verb weights (at the maximum likelihood, with c ≥ 0 and b free), the
    slope c and the log-loss (sum) for one decay."""
    n_verbs = sums.shape[1]

    def loss(theta: Floats) -> tuple[float, Floats]:
        w, c, b = theta[:n_verbs], theta[n_verbs], theta[n_verbs + 1]
        u = mult * (sums @ w + fixed)
        lu = np.log1p(u)
        z = b + c * lu
        value = float(np.sum(np.logaddexp(0.0, z) - y * z))
        err = _expit(z) - y
        dw = (sums * (err * c * mult / (1 + u))[:, None]).sum(axis=0)
        return value, np.concatenate([dw, [float(err @ lu), float(err.sum())]])

    rate = min(max(float(y.mean()), 1e-6), 1 - 1e-6)
    theta0 = np.concatenate([start, [1.0, math.log(rate / (1 - rate))]])
    bounds = [(0.0, None)] * (n_verbs + 1) + [(None, None)]
    from scipy.optimize import minimize  # imported when fitting: it takes 0.3 s

    done = minimize(loss, theta0, jac=True, method="L-BFGS-B", bounds=bounds)
    theta = np.asarray(done.x, dtype=np.float64)
    return theta[:n_verbs], float(theta[n_verbs]), float(done.fun)
