"""When the likelihood model is fitted again (`likelihood_refit.refit_reason`), what a plan
says of it (`model_note`), and the AUC's ranks without scipy."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyarrow as pa
import pytest
from scipy.stats import rankdata

from karmabank.frames import US_PER_DAY
from karmabank.measures import likelihood as lk
from karmabank.measures.likelihood_refit import (
    FIT_VERSION,
    FitBasis,
    acted_count,
    flags_digest,
    history_counts,
    model_note,
    refit_limit_days,
    refit_reason,
)
from karmabank.measures.settings import LikelihoodSettings

DAY = US_PER_DAY
L = LikelihoodSettings()  # refit_days 7, refit_growth 0.05
FITTED = FitBasis("s", "f", 100 * DAY, 1000, 10)


def reason(seen: FitBasis = FITTED, *, later: int = 0, days: float = 1, window: float = 30,
           settings: LikelihoodSettings = L, fitted: FitBasis = FITTED) -> str | None:  # fmt: skip
    return refit_reason(fitted, seen, later=later, scored_at=int(fitted.scored_at + days * DAY),
                        window_days=window, settings=settings)  # fmt: skip


def test_a_young_model_on_nearly_the_same_data_is_kept() -> None:
    assert reason() is None
    assert reason(days=0) is None and reason(days=7) is None
    # 30 new activities, 10 of the old ones gone, 10 more asks acted on: 50 of 1000 = 5%
    assert reason(replace(FITTED, history=990, acted=20), later=30) is None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"fitted": replace(FITTED, version=FIT_VERSION - 1)}, "fitted by another version"),
        ({"seen": replace(FITTED, settings="t")}, "the settings changed"),
        ({"seen": replace(FITTED, flags="g")}, "the flags changed"),
        ({"days": -0.01}, "the scores are older than the model"),
        ({"days": 7.5}, "fitted 7.5 days before these scores (kept 7.0 days)"),
        ({"days": 1, "window": 3.5}, "fitted 24 hours before these scores (kept 21 hours)"),
        ({"later": 51}, "the data changed by 5.1% since it was fitted (kept up to 5%)"),
        ({"seen": replace(FITTED, history=940)}, "the data changed by 6.0% since it was"),
        ({"seen": replace(FITTED, acted=70)}, "the data changed by 6.0% since it was"),
        ({"settings": LikelihoodSettings(refit_days=0), "days": 0.001},
         "fitted 1 minute before these scores (kept under a minute)"),
    ],
)  # fmt: skip
def test_what_fits_the_model_again(change: dict[str, object], expected: str) -> None:
    found = reason(**change)  # type: ignore[arg-type]
    assert found is not None and found.startswith(expected), found


def test_the_limit_is_a_quarter_of_a_short_window() -> None:
    assert refit_limit_days(L, 30) == 7.0
    assert refit_limit_days(L, 3.5) == pytest.approx(0.875)


def test_the_counts_a_fit_is_judged_by() -> None:
    acts = pa.table({"occurred_at": pa.array([1, 5, 5, 9, 12], pa.int64())})
    assert history_counts(acts, 5, 10) == (3, 1)
    acted = pa.table({"person_id": [1, 2], "campaign_id": [1, 1], "acted_at": [4, 8]})
    assert (acted_count(acted, 5), acted_count(acted, 8)) == (1, 2)
    flags = pa.table({"person_id": pa.array([2, 1], pa.int64()), "team": [True, False],
                      "bot": [False, False], "do_not_contact": [False, True],
                      "erased": [False, False]})  # fmt: skip
    # do-not-contact does not change the features: the same digest without that person
    assert flags_digest(flags) == flags_digest(flags.slice(0, 1))
    assert flags_digest(flags) != flags_digest(flags.slice(1, 1))


def test_the_note_says_the_model_s_age_and_what_it_was_fitted_on() -> None:
    prior = lk.prior_model(L, window_days=30, reason="prior: no history before now")
    assert model_note(prior, 0) == "the prior: no history before now"
    window = 30.0
    fitted_for = 1000 * DAY
    model = replace(prior, fitted=True, trained_at=int(fitted_for - window * DAY),
                    window_days=window, train_auc=0.7812,
                    reason="fitted on 500 people known 30 days before")  # fmt: skip
    assert model_note(model, fitted_for) == (
        "the model fitted for these scores on 500 people known 30 days before (training AUC 0.78)"
    )
    later = model_note(model, fitted_for + 3 * DAY)
    assert later.startswith("the model fitted 3.0 days before these scores on 500 people")


def test_auc_ranks_ties_at_their_average_as_scipy_does() -> None:
    rng = np.random.default_rng(3)
    for n in (1, 2, 7, 1000):
        for s in (rng.integers(0, 4, n).astype(float), rng.random(n)):
            assert np.array_equal(lk._ranks(s), rankdata(s))
    assert lk.auc([0.1, 0.4, 0.4, 0.9], [0, 0, 1, 1]) == pytest.approx(0.875)
