"""Backtest: how well each score, computed at a cutoff from the data before it only, ranked who
came toward the organization in the `horizon_days` after it (PRODUCT.md §1.7, §3).

Every score is computed on the activities up to the cutoff, materialized apart from the rest
(nothing later can leak into a measure); the labels are read from the interval after it. The
likelihood model is fitted on the history before the cutoff (`measures.likelihood.fit`); with
`fit_weights`, warmth's verb weights and decay too (`measures.weights_fit`).

Also `likelihood_scores`: everyone's likelihood to act now, for the campaign planner, with its
fitted model cached beside the columnar copy for the scores it was fitted with.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from karmabank.actions.freshness import ensure_scores
from karmabank.actions.scoring import flagged_people, snapshot_of
from karmabank.bounds import MAX_WINDOW_DAYS
from karmabank.errors import ConfigError
from karmabank.frames import ACTED_SCHEMA, ParquetFiles, engine_over, micros
from karmabank.measures import likelihood as lk
from karmabank.measures import weights_fit as wf
from karmabank.measures.network import score_network
from karmabank.measures.settings import MeasureSettings
from karmabank.model import from_micros
from karmabank.store import arrow_io
from karmabank.store.columns import ActivityColumns
from karmabank.store.open import Store

RANKINGS = ("likelihood", "warmth", "recency", "frequency")
_TEXTS = pa.schema([("person_id", pa.int64()), ("occurred_at", pa.int64()), ("text", pa.string())])


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


def _acted_asks(conn: Any, until: datetime) -> pa.Table:
    return arrow_io.read_table(
        conn,
        f"""(SELECT person_id, campaign_id, acted_at FROM ask WHERE status = 'acted'
            AND acted_at IS NOT NULL AND acted_at <= {micros(until)}) AS acted""",
        ACTED_SCHEMA,
    )


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
    (cutoff, cutoff + horizon_days]. ConfigError when the cutoff is outside the data or
    nobody (or everybody) came in that interval."""
    started = time.perf_counter()
    if horizon_days < 1 or k < 1:
        raise ConfigError("backtest: --horizon and -k must be at least 1")
    if horizon_days > MAX_WINDOW_DAYS:
        raise ConfigError(f"backtest: --horizon must be at most {MAX_WINDOW_DAYS:,} days")
    source = ActivityColumns(store.url, store.engine).sync().source()
    with arrow_io.connect(store.url, store.engine) as conn:
        flags = flagged_people(conn)
        acted = _acted_asks(conn, cutoff)
    past, first, last = _split(source, cutoff)
    cut_us = micros(cutoff)
    if not first <= cut_us < last:
        raise ConfigError(
            f"cutoff {_day(cut_us)} is outside the data ({_day(first)} to {_day(last)} UTC): "
            "choose a time between them"
        )
    until = cutoff + timedelta(days=horizon_days)
    came = lk.acted_between(source, after=cutoff, until=until)
    model = lk.fit(past, now=cutoff, horizon_days=horizon_days, settings=settings, flags=flags,
                   asks=acted)  # fmt: skip
    scores = score_network(past, now=cutoff, settings=settings, flags=flags, acted=acted).scores
    feats = lk.features(past, now=cutoff, settings=settings, flags=flags, scores=scores,
                        asks=acted, window_days=model.window_days)  # fmt: skip
    y = lk.labels_for(feats, came)
    n, pos = feats.num_rows, int(y.sum())
    if pos == 0 or pos == n:
        who = "nobody" if pos == 0 else "everybody"
        raise ConfigError(
            f"{who} known at the cutoff came toward the organization between {_day(cut_us)} and "
            f"{_day(micros(until))} UTC: nothing to rank; choose another --cutoff or --horizon"
        )
    warmth = _aligned(feats, scores, "warmth")
    ranked = {
        "likelihood": lk.predict(model, feats),
        "warmth": warmth,
        # days since the last inbound activity (those who never came, last)
        "recency": np.where(_col(feats, "never_in") > 0, -np.inf, -_col(feats, "recency")),
        "frequency": _col(feats, "n_in"),  # log1p(inbound count): the same order
    }
    fitted, fit_auc = None, None
    if fit_weights:
        fitted = wf.fit_weights(
            past, now=cutoff, horizon_days=horizon_days, settings=settings, flags=flags
        )
        if fitted.fitted:
            again = score_network(
                past, now=cutoff, settings=fitted.settings(settings), flags=flags, acted=acted
            ).scores
            fit_auc = (lk.auc(warmth, y), lk.auc(_aligned(feats, again, "warmth"), y))
    return BacktestReport(
        cutoff, horizon_days, k, n, pos,
        {name: lk.auc(s, y) for name, s in ranked.items()},
        {name: lk.precision_at_k(s, y, k) for name, s in ranked.items()},
        model, fitted, fit_auc, time.perf_counter() - started,
    )  # fmt: skip


def _col(table: pa.Table, name: str) -> npt.NDArray[np.float64]:
    return np.asarray(table[name].to_numpy(), dtype=np.float64)


def _aligned(feats: pa.Table, scores: pa.Table, column: str) -> npt.NDArray[np.float64]:
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


# -- likelihood now, for the campaign planner ------------------------------------------------
_SCORES = pa.schema(
    [("person_id", pa.int64()), ("warmth", pa.float64()), ("status", pa.string()),
     ("stage", pa.string()), ("cadence_used", pa.float64())]
)  # fmt: skip
LIKELIHOOD_SCHEMA = pa.schema(
    [("person_id", pa.int64()), ("likelihood", pa.float64()),
     ("parts", pa.list_(pa.struct([("feature", pa.string()), ("contribution", pa.float64())]))),
     ("why", pa.string())]
)  # fmt: skip


def _model_path(columns: ActivityColumns, token: str, issue_id: int | None) -> Path:
    return columns.dir / f"likelihood-{token}{'' if issue_id is None else f'-issue{issue_id}'}.json"


def load_model(
    columns: ActivityColumns, token: str, issue_id: int | None = None
) -> lk.LikelihoodModel | None:
    """The model cached for the scores `token` names (and the issue), if any and readable."""
    try:
        data = json.loads(_model_path(columns, token, issue_id).read_text())
        return lk.LikelihoodModel.from_json(data)
    except (OSError, ValueError, TypeError):
        return None


def save_model(
    columns: ActivityColumns, token: str, model: lk.LikelihoodModel, issue_id: int | None = None
) -> None:
    """Cache `model` for the scores `token` names (and the issue); the models cached for other
    scores go."""
    columns.dir.mkdir(parents=True, exist_ok=True)
    tmp = columns.dir / f"likelihood.{uuid.uuid4().hex}.tmp"
    tmp.write_text(model.dumps())
    os.replace(tmp, _model_path(columns, token, issue_id))
    for p in columns.dir.glob("likelihood*"):
        if not p.name.startswith(f"likelihood-{token}.") and not p.name.startswith(
            f"likelihood-{token}-issue"
        ):
            p.unlink(missing_ok=True)


def likelihood_scores(
    *, store: Store, now: datetime, settings: MeasureSettings, issue: str | None = None
) -> pa.Table:
    """Everyone's likelihood to act in the next `likelihood.horizon_days` (LIKELIHOOD_SCHEMA,
    by person_id), as of the stored scores' time (rescored first when stale for `now`), with
    its largest parts. With `issue` (an id or name), affinity to it counts too. The model is
    fitted on the organization's history before then and cached beside the columnar copy."""
    model, feats = likelihood_inputs(store=store, now=now, settings=settings, issue=issue)
    parts = lk.top_parts(model, feats, settings.likelihood.parts)
    return pa.table(
        {"person_id": feats["person_id"], "likelihood": lk.predict(model, feats),
         "parts": parts, "why": lk.why_text(parts)},
        schema=LIKELIHOOD_SCHEMA,
    )  # fmt: skip


def likelihood_inputs(
    *, store: Store, now: datetime, settings: MeasureSettings, issue: str | None = None,
    people: Sequence[int] | None = None,
) -> tuple[lk.LikelihoodModel, pa.Table]:  # fmt: skip
    """`likelihood_scores`' model and everyone's features (`lk.features`), for a caller that
    predicts for everyone but explains only a few (the campaign planner). With `people`, the
    features are computed for them only (from their own activities and those toward them, the
    same values as in everyone's table), which takes a fraction of the time."""
    from karmabank.actions.issues import find_issue
    from karmabank.measures.affinity import IssueText, affinity

    state = ensure_scores(store=store, now=now, settings=settings)
    at = from_micros(state.scored_at)
    columns = ActivityColumns(store.url, store.engine)
    source = columns.up_to(state.activity_max_id).source()
    chosen = find_issue(store=store, ref=issue) if issue else None
    token = f"{state.scored_at}-{micros(state.computed_at)}"
    issue_id = chosen.id if chosen is not None else None
    scores = snapshot_of(columns, state.scored_at, micros(state.computed_at), _SCORES)
    with arrow_io.connect(store.url, store.engine) as conn:
        flags = flagged_people(conn)
        acted = _acted_asks(conn, at)
        if scores is None:
            scores = arrow_io.read_table(conn, "person_score", _SCORES)
        texts = (
            arrow_io.read_table(
                conn,
                f"""(SELECT person_id, occurred_at, text FROM activity WHERE text IS NOT NULL
                    AND direction IN ('in', 'peer') AND occurred_at <= {state.scored_at}) x""",
                _TEXTS,
            )
            if chosen is not None
            else None
        )
    h = settings.likelihood.horizon_days

    def issue_affinity(until: datetime) -> pa.Table | None:
        if chosen is None or texts is None:
            return None
        upto = texts.filter(pc.less_equal(texts["occurred_at"], micros(until)))
        one = IssueText(chosen.id, chosen.name, chosen.keywords, chosen.description)
        return affinity(upto.select(["person_id", "text"]), [one]).select(["person_id", "affinity"])

    model = load_model(columns, token, issue_id)
    if model is None:
        model = lk.fit(
            source, now=at, horizon_days=h, settings=settings, flags=flags, asks=acted,
            affinity=issue_affinity if chosen is not None else None,
        )  # fmt: skip
        save_model(columns, token, model, issue_id)
    feats = lk.features(
        source if people is None else _activities_of(source, people), now=at,
        settings=settings, flags=flags, scores=scores, asks=acted,
        affinity=issue_affinity(at), window_days=model.window_days,
    )  # fmt: skip
    if people is not None:
        feats = feats.filter(pc.is_in(feats["person_id"], pa.array(list(people), pa.int64())))
    return model, feats


def _activities_of(source: ParquetFiles, people: Sequence[int]) -> pa.Table:
    """The activities by or toward `people` (what their features are made of)."""
    con = engine_over({"acts": source, "who": pa.table({"id": pa.array(list(people), pa.int64())})})
    try:
        return con.sql(
            """SELECT * FROM acts WHERE person_id IN (SELECT id FROM who)
               OR target_id IN (SELECT id FROM who)"""
        ).to_arrow_table()
    finally:
        con.close()
