"""Likelihood to act: features worked by hand, a fit that finds a planted signal, the prior below
the minimum, and the ranking metrics with ties."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from karmabank.errors import ConfigError
from karmabank.measures import likelihood as lk
from karmabank.measures.settings import LikelihoodSettings
from karmabank.settings import load_measure_settings
from tests.measures.helpers import DEFAULTS, NOW, act, activities, at, flags

E = math.exp
LN = math.log1p


def row(table: pa.Table, person_id: int) -> dict[str, float]:
    rows: list[dict[str, float]] = [r for r in table.to_pylist() if r["person_id"] == person_id]
    assert len(rows) == 1
    return rows[0]


NETWORK = [
    # person 1: a comment today, a share 30 days ago, a reply to 2 ten days ago, our thank 5 days
    # ago (answered by the comment, 5 days later)
    act(1, 0, "comment"),
    act(1, 30, "share"),
    act(1, 10, "reply", "peer", target_id=2),
    act(1, 5, "thank", "give"),
    # person 2: only mentioned 1, 60 days ago
    act(2, 60, "mention", "peer", target_id=1),
    # person 3: given a gift 100 days ago, never answered
    act(3, 100, "gift", "give"),
    # person 4: a team member, left out
    act(4, 1, "comment"),
]


def test_features_match_hand_computed_values() -> None:
    table = lk.features(activities(NETWORK), now=NOW, settings=DEFAULTS, flags=flags(
        {"person_id": 4, "team": True}), window_days=30)  # fmt: skip
    assert table.column("person_id").to_pylist() == [1, 2, 3]
    assert table.column_names == ["person_id", *lk.FEATURE_TEXT]
    p1 = row(table, 1)
    expected_1 = {
        **{k: 0.0 for k in lk.FEATURE_TEXT}, "person_id": 1,
        "warmth": math.log(1 + 4 + 3 * 0.9), "recency": 0.0, "never_in": 0.0,
        "n_in": LN(2), "in_recent": LN(1 + E(-1)),
        # active days: today and 30 days ago (not within the last 30 days)
        "presence_30": LN(1), "presence_90": LN(2), "presence_365": LN(2),
        "silence_cadence": 0.0, "status_active": 1.0, "status_resting": 0.0,
        "stage": 2.0,  # engaged
        "tenure": LN(30 / 30),
        "peer_out_recent": LN(E(-10 / 30)), "peer_out_90": LN(1), "peer_out_365": LN(1),
        "peer_out_recency": LN(10 / 30), "never_peer_out": 0.0,
        "peer_in_recent": LN(E(-2)), "peer_in_90": LN(1), "peer_in_365": LN(1),
        "given": LN(1), "give_recent": LN(E(-5 / 30)), "give_recency": LN(5 / 30),
        "never_given": 0.0, "give_response": (1 + 1) / (1 + 2),
        "asked": 0.0, "ask_response": 0.5, "affinity": 0.0, "affinity_missing": 1.0,
    }  # fmt: skip
    assert p1 == pytest.approx(expected_1)
    p2 = row(table, 2)
    assert p2 == pytest.approx(
        {**{k: 0.0 for k in lk.FEATURE_TEXT}, "person_id": 2, "never_in": 1.0,
         "tenure": LN(2), "peer_out_recent": LN(E(-2)), "peer_out_90": LN(1),
         "peer_out_365": LN(1), "peer_out_recency": LN(2),
         "peer_in_recent": LN(E(-1 / 3)), "peer_in_90": LN(1), "peer_in_365": LN(1),
         "never_given": 1.0, "give_response": 0.5, "ask_response": 0.5,
         "affinity_missing": 1.0}
    )  # fmt: skip
    p3 = row(table, 3)
    assert (p3["never_in"], p3["never_peer_out"], p3["never_given"]) == (1.0, 1.0, 0.0)
    assert p3["give_recency"] == pytest.approx(LN(100 / 30))
    assert p3["give_response"] == pytest.approx(1 / 3)  # one give, 100 days without an answer


def test_features_ignore_everything_after_now_and_take_affinity() -> None:
    later = [act(1, -5, "donate"), act(2, -1, "comment"), act(3, -2, "reply", "peer", target_id=1)]
    before = lk.features(activities(NETWORK), now=NOW, settings=DEFAULTS)
    after = lk.features(activities(NETWORK + later), now=NOW, settings=DEFAULTS)
    assert after.equals(before)
    aff = pa.table({"person_id": [2], "affinity": [0.8]})
    with_aff = lk.features(activities(NETWORK), now=NOW, settings=DEFAULTS, affinity=aff)
    assert (row(with_aff, 2)["affinity"], row(with_aff, 2)["affinity_missing"]) == (0.8, 0.0)
    assert row(with_aff, 1)["affinity_missing"] == 1.0


def planted(n: int = 800, seed: int = 7) -> tuple[pa.Table, dict[int, float]]:
    """People who write to others a lot come toward us more; their inbound history says little:
    each person's peer rate (0–3 a week) is the whole signal. 150 days before NOW, 30 after."""
    rng = np.random.default_rng(seed)
    rate = rng.choice([0.0, 0.5, 1.5, 3.0], size=n)
    rows: list[dict[str, object]] = []
    for p in range(1, n + 1):
        r = rate[p - 1]
        for day in np.sort(rng.uniform(-30, 150, size=rng.poisson(r * 180 / 7))):
            rows.append(act(p, float(day), "reply", "peer", target_id=1 + (p % n)))
        # toward us: in each 30-day block, with a chance that grows with the peer rate
        for block in range(-1, 5):
            if rng.random() < 1 / (1 + math.exp(3.0 - 1.5 * r)):
                rows.append(act(p, block * 30 + float(rng.uniform(0, 30)), "comment"))
        if rng.random() < 0.3:  # some noise: an old like from anyone
            rows.append(act(p, float(rng.uniform(100, 150)), "like"))
    return activities(rows), dict(enumerate(rate, start=1))


def test_fit_recovers_a_planted_signal_and_beats_recency() -> None:
    acts, _ = planted()
    past = acts.filter(pa.compute.less_equal(acts["occurred_at"], at(0)))
    model = lk.fit(past, now=NOW, horizon_days=30, settings=DEFAULTS)
    assert model.fitted and model.reason.startswith("fitted on")
    assert model.window_days == 30 and model.trained_at == at(30)
    coef = dict(zip(model.features, model.coefficients, strict=True))
    assert coef["peer_out_recent"] + coef["peer_out_90"] + coef["peer_out_365"] > 0.3
    feats = lk.features(past, now=NOW, settings=DEFAULTS, window_days=model.window_days)
    y = lk.labels_for(feats, lk.acted_between(acts, after=NOW, until=NOW + timedelta(days=30)))
    recency = np.where(feats["never_in"].to_numpy() > 0, -np.inf, -feats["recency"].to_numpy())
    assert lk.auc(lk.predict(model, feats), y) > lk.auc(recency, y) + 0.05
    # the fit saw nothing after NOW: adding the future changes nothing
    again = lk.fit(acts, now=NOW, horizon_days=30, settings=DEFAULTS)
    assert again == model


def test_the_prior_is_used_below_the_minimum_and_says_so() -> None:
    model = lk.fit(activities(NETWORK), now=NOW, horizon_days=30, settings=DEFAULTS)
    assert not model.fitted
    assert model.reason.startswith(
        "prior: too little history to fit (5 people known at 2 times 30 days apart, 1 of whom"
    )
    assert "minimum 200" in model.reason
    assert model.coefficients == lk.PRIOR.coefficients
    prior = dict(zip(model.features, model.coefficients, strict=True))
    assert prior["recency"] == -0.6 and prior["never_in"] == -2.0
    nothing = lk.fit(activities(NETWORK), now=NOW - timedelta(days=200), horizon_days=30,
                     settings=DEFAULTS)  # fmt: skip
    assert nothing.reason == "prior: no history before now"
    # enough people but too few who acted
    few = replace(DEFAULTS, likelihood=LikelihoodSettings(min_people=2, min_positive=3))
    model = lk.fit(activities(NETWORK), now=NOW, horizon_days=30, settings=few)
    assert not model.fitted and "who came (minimum 3)" in model.reason


def test_predictions_explain_themselves() -> None:
    acts, _ = planted(400)
    model = lk.fit(acts, now=NOW, horizon_days=30, settings=DEFAULTS)
    feats = lk.features(acts, now=NOW, settings=DEFAULTS, window_days=model.window_days)
    p = lk.predict(model, feats)
    parts = lk.contributions(model, feats)
    logit = np.log(p / (1 - p))
    assert np.allclose(parts.sum(axis=1) + model.intercept, logit)
    one = feats.slice(5, 1)
    top = lk.explain(model, one, parts=3)
    assert len(top) == 3 and abs(top[0][1]) >= abs(top[1][1]) >= abs(top[2][1])
    assert lk.top_parts(model, one, 3).to_pylist()[0] == [
        {"feature": f, "contribution": pytest.approx(c)} for f, c in top
    ]
    words = lk.why_text(lk.top_parts(model, one, 3)).to_pylist()[0]
    assert words.startswith(lk.FEATURE_TEXT[top[0][0]] + " (")
    assert lk.LikelihoodModel.from_json(model.as_json()) == model


def test_auc_and_precision_at_k_by_hand_with_ties() -> None:
    scores, labels = [0.9, 0.8, 0.8, 0.1], [1, 0, 1, 0]
    # pairs (positive, negative): 0.9>0.8, 0.9>0.1, 0.8=0.8 (one half), 0.8>0.1
    assert lk.auc(scores, labels) == 3.5 / 4
    assert lk.auc([1, 1, 1, 1], labels) == 0.5
    # never-came people (-inf) tie last: pairs 0, 1/2, 1, 1
    assert lk.auc([-np.inf, 0, 1, -np.inf], labels) == 2.5 / 4
    assert lk.precision_at_k(scores, labels, 1) == 1.0
    # the second place goes to one of the tied pair: half a positive
    assert lk.precision_at_k(scores, labels, 2) == 0.75
    assert lk.precision_at_k(scores, labels, 3) == pytest.approx(2 / 3)
    assert lk.precision_at_k(scores, labels, 10) == 0.5  # k larger than everyone: all of them
    with pytest.raises(ValueError):
        lk.auc(scores, [0, 0, 0, 0])


def test_likelihood_settings_load_and_are_checked() -> None:
    s = load_measure_settings(None, environ={"KARMABANK_LIKELIHOOD_HORIZON_DAYS": "7",
                                             "KARMABANK_LIKELIHOOD_PRIOR": '{"tenure": 0.1}'})  # fmt: skip
    assert s.likelihood.horizon_days == 7
    assert s.likelihood.prior["tenure"] == 0.1 and s.likelihood.prior["recency"] == -0.6
    with pytest.raises(ConfigError, match="likelihood: horizon_days"):
        load_measure_settings(None, environ={"KARMABANK_LIKELIHOOD_HORIZON_DAYS": "0"})
    bad = load_measure_settings(None, environ={"KARMABANK_LIKELIHOOD_PRIOR": '{"charm": 1}'})
    with pytest.raises(ConfigError, match="likelihood.prior: no feature 'charm'"):
        lk.prior_model(bad.likelihood, window_days=30, reason="")


def test_training_times_halve_a_short_history_and_go_back_in_steps() -> None:
    week = activities([act(1, 7, "comment"), act(2, 1, "comment")])
    split = lk.training_times(week, now=NOW, horizon_days=30, training_days=90, max_splits=12)
    assert split is not None
    times, h = split
    assert h == pytest.approx(3.5) and times == [NOW - timedelta(days=3.5)]
    assert lk.training_times(week, now=datetime(2000, 1, 1), horizon_days=30) is None
    year = activities([act(1, 100, "comment")])
    split = lk.training_times(year, now=NOW, horizon_days=30, training_days=150, max_splits=12)
    assert split is not None
    # each time needs 30 days of history before it: 30, 60 days before now, not 90
    assert split == ([NOW - timedelta(days=30), NOW - timedelta(days=60)], 30.0)
    split = lk.training_times(year, now=NOW, horizon_days=10, training_days=150, max_splits=4)
    assert split is not None and len(split[0]) == 4  # at most max_splits


def test_fit_measures_affinity_at_each_training_time() -> None:
    acts, rate = planted(400)
    asked: list[datetime] = []

    def affinity(t: datetime) -> pa.Table:
        asked.append(t)  # the people who write to others the most care about the issue
        ids = [p for p, r in rate.items() if r >= 1.5]
        return pa.table({"person_id": ids, "affinity": [0.9] * len(ids)})

    past = acts.filter(pa.compute.less_equal(acts["occurred_at"], at(0)))
    model = lk.fit(past, now=NOW, horizon_days=30, settings=DEFAULTS, affinity=affinity)
    assert asked == [NOW - timedelta(days=d) for d in (30, 60, 90)]
    assert model.reason.startswith("fitted on") and "at 3 times 30 days apart" in model.reason
    coef = dict(zip(model.features, model.coefficients, strict=True))
    assert coef["affinity"] > 0


def test_a_large_training_set_is_sampled_to_max_rows_with_the_same_signal() -> None:
    acts, _ = planted(800)
    past = acts.filter(pa.compute.less_equal(acts["occurred_at"], at(0)))
    full = lk.fit(past, now=NOW, horizon_days=30, settings=DEFAULTS)
    small = replace(DEFAULTS, likelihood=LikelihoodSettings(max_rows=900))
    sampled = lk.fit(past, now=NOW, horizon_days=30, settings=small)
    assert sampled.fitted and sampled.n_train == full.n_train > 900
    coef = dict(zip(sampled.features, sampled.coefficients, strict=True))
    assert coef["peer_out_recent"] + coef["peer_out_90"] + coef["peer_out_365"] > 0.3
    # reweighted, the intercept stays near the full fit's (not shifted by the sampling)
    assert abs(sampled.intercept - full.intercept) < 0.5
