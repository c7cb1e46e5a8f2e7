"""Fitting warmth's verb weights and decay to an organization's own history."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from karmabank.measures.weights_fit import HALF_LIVES, fit_weights
from karmabank.settings import load_measure_settings
from tests.measures.helpers import DEFAULTS, NOW, act, activities


def attend_only(n: int = 500, seed: int = 3) -> list[dict[str, object]]:
    """Before t0 = NOW − 30 days, everyone likes, comments and attends at random; who comes
    back in the last 30 days depends on their events attended only."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []
    for p in range(1, n + 1):
        counts = {"like": rng.poisson(3), "comment": rng.poisson(1.5), "attend": rng.poisson(0.7)}
        for verb, k in counts.items():
            rows += [act(p, float(rng.uniform(31, 200)), verb) for _ in range(k)]
        rows.append(act(p, float(rng.uniform(31, 200)), "like"))  # everyone came once
        if rng.random() < 1 / (1 + math.exp(2.0 - 1.5 * counts["attend"])):
            rows.append(act(p, float(rng.uniform(0, 29)), "like"))
    return rows


def test_only_attend_predicts_coming_back_so_it_weighs_most() -> None:
    fitted = fit_weights(activities(attend_only()), now=NOW, horizon_days=30, settings=DEFAULTS)
    assert fitted.reason.startswith("fitted on 500 people who had come toward us 30 days")
    assert set(fitted.weights) == {"attend", "comment", "like"}
    assert max(fitted.weights, key=lambda v: fitted.weights[v]) == "attend"
    assert fitted.weights["attend"] == 10  # rescaled: the largest is 10
    assert all(w >= 0 for w in fitted.weights.values())
    assert fitted.weights["attend"] > 3 * max(fitted.weights["like"], fitted.weights["comment"])
    assert fitted.default_weights == {"attend": 6.0, "comment": 4.0, "like": 1.0}
    assert fitted.half_life_days in HALF_LIVES and set(fitted.log_loss) == set(HALF_LIVES)
    assert fitted.decay == pytest.approx(0.5 ** (30 / fitted.half_life_days))
    assert fitted.fitted and fitted.rescaled and fitted.n_train == 500


def test_the_fitted_settings_are_what_the_toml_says(tmp_path: Path) -> None:
    fitted = fit_weights(activities(attend_only(300)), now=NOW, horizon_days=30, settings=DEFAULTS)
    assert fitted.half_life_days is not None
    path = tmp_path / "karmabank.toml"
    path.write_text(fitted.toml())
    from_file = load_measure_settings(path, environ={})
    assert from_file == fitted.settings(DEFAULTS)
    assert from_file.warmth.decay_days == fitted.half_life_days
    assert from_file.warmth.weights["attend"] == 10 and from_file.warmth.weights["donate"] == 7


def test_activities_with_their_own_weight_keep_their_scale() -> None:
    rows = [{**r, "weight": 2.0} if r["verb"] == "like" else r for r in attend_only(300)]
    fitted = fit_weights(activities(rows), now=NOW, horizon_days=30, settings=DEFAULTS)
    assert not fitted.rescaled and "like" not in fitted.weights
    assert max(fitted.weights, key=lambda v: fitted.weights[v]) == "attend"


def test_with_every_activity_weighted_only_the_decay_is_fitted() -> None:
    rows = [{**r, "weight": 1.0} for r in attend_only(300)]
    fitted = fit_weights(activities(rows), now=NOW, horizon_days=30, settings=DEFAULTS)
    assert fitted.fitted and fitted.weights == {} and not fitted.rescaled
    assert fitted.reason.endswith("(every activity has its own weight: only the decay applies)")
    assert fitted.toml() == f"[warmth]\ndecay = 0.5\ndecay_days = {fitted.half_life_days:g}\n"


def test_too_little_history_fits_nothing_and_says_why() -> None:
    rows = [act(1, 40, "comment"), act(1, 5, "like"), act(2, 50, "attend")]
    fitted = fit_weights(activities(rows), now=NOW, horizon_days=30, settings=DEFAULTS)
    assert not fitted.fitted and fitted.weights == {}
    assert fitted.reason.startswith("too little history: 2 people")
    assert fitted.half_life_days == pytest.approx(197.36, abs=0.01)
    assert fitted.as_json()["toml"] is None
