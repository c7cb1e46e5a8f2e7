"""The likelihood model is kept across new scores while it is due (`likelihood_refit`), on
SQLite and PostgreSQL: a little new data or an hour later reuses the last fit (everyone's
features are new), more data, an older model, other settings or flags fit it again; the plan
says which model it used and how old it is."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from karmabank.actions import likelihood as actions_likelihood
from karmabank.actions.campaigns import new_campaign
from karmabank.actions.importing import import_files
from karmabank.actions.likelihood import likelihood_inputs
from karmabank.actions.mobilization import plan_campaign
from karmabank.actions.people import set_flag
from karmabank.measures import likelihood as lk
from karmabank.measures.settings import MeasureSettings
from karmabank.model import Flag
from karmabank.store.open import Store
from tests.cli_helpers import run
from tests.conftest import NOW

S = MeasureSettings()
FIT = replace(S, likelihood=replace(S.likelihood, min_people=20, min_positive=3))  # not the prior


def _csv(tmp_path: Path, name: str, rows: list[str]) -> Path:
    f = tmp_path / name
    f.write_text("occurred_at,person,name,verb,direction,channel,text,target\n" + "\n".join(rows))
    return f


def _at(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _add(store: Store, tmp_path: Path, name: str, rows: list[str]) -> None:
    import_files(store=store, fmt="csv", paths=[_csv(tmp_path, name, rows)], options={}, now=NOW)


@pytest.fixture
def history(store: Store, tmp_path: Path) -> Store:
    """60 people over 120 days, 242 activities: who came often comes again, a few wrote to
    others, we gave to some."""
    rows = []
    for i in range(60):
        who = f"p{i}@example.org,Person {i}"
        for d in range(i % 4 + 1):
            rows.append(f"{_at(5 + 17 * d + i % 40)},{who},comment,in,blog,,")
        if i % 5 == 0:
            rows.append(f"{_at(20 + i % 9)},{who},thank,give,blog,,")
        if i % 6 == 0:
            rows.append(f"{_at(8 + i % 5)},{who},reply,peer,blog,,p{(i + 1) % 60}@example.org")
    _add(store, tmp_path, "history.csv", rows)
    return store


@pytest.fixture
def fits(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The scores' time of each fit the planner makes."""
    made: list[datetime] = []
    real = actions_likelihood._fit

    def counted(found: Any, settings: MeasureSettings) -> lk.LikelihoodModel:
        made.append(found.last.at)
        return real(found, settings)

    monkeypatch.setattr(actions_likelihood, "_fit", counted)
    return made


def _fit_file(store: Store) -> Path:
    return store.columns_dir / "likelihood-fit.json"


def test_a_little_new_data_keeps_the_last_fit(
    history: Store, tmp_path: Path, fits: list[datetime]
) -> None:
    model, feats = likelihood_inputs(store=history, now=NOW, settings=FIT)
    assert len(fits) == 1 and _fit_file(history).exists()
    # 3 activities on 242 (1.2% < refit_growth 5%): new scores, the same model
    _add(history, tmp_path, "more.csv", [f"{_at(1)},new{i}@example.org,New {i},comment,in,blog,,"
                                         for i in range(3)])  # fmt: skip
    kept, newer = likelihood_inputs(store=history, now=NOW, settings=FIT)
    assert len(fits) == 1 and kept == model
    assert newer.num_rows == feats.num_rows + 3  # everyone's features are the new data's
    # an hour later (new scores), still the same fit
    later, _ = likelihood_inputs(store=history, now=NOW + timedelta(hours=2), settings=FIT)
    assert len(fits) == 1 and later == model


def test_more_data_an_older_model_or_other_settings_fit_again(
    history: Store, tmp_path: Path, fits: list[datetime]
) -> None:
    likelihood_inputs(store=history, now=NOW, settings=FIT)
    # 15 activities on 242 (6.2% > 5%)
    _add(history, tmp_path, "more.csv", [f"{_at(1)},new{i}@example.org,New {i},comment,in,blog,,"
                                         for i in range(15)])  # fmt: skip
    likelihood_inputs(store=history, now=NOW, settings=FIT)
    assert fits == [NOW, NOW]
    # eight days on: older than likelihood.refit_days (7)
    week = NOW + timedelta(days=8)
    likelihood_inputs(store=history, now=week, settings=FIT)
    assert fits == [NOW, NOW, week]
    # scores older than the model: it has seen their future
    likelihood_inputs(store=history, now=NOW + timedelta(days=6), settings=FIT)
    assert len(fits) == 4
    other = replace(FIT, likelihood=replace(FIT.likelihood, l2=3.0))
    likelihood_inputs(store=history, now=NOW + timedelta(days=6), settings=other)
    assert len(fits) == 5
    set_flag(store=history, ref="p3@example.org", flag=Flag.TEAM, on=True, now=NOW, actor="test")
    likelihood_inputs(store=history, now=NOW + timedelta(days=6), settings=other)
    assert len(fits) == 6
    likelihood_inputs(store=history, now=NOW + timedelta(days=6, hours=3), settings=other)
    assert len(fits) == 6


def test_a_refit_days_of_zero_fits_on_every_new_scores(
    history: Store, tmp_path: Path, fits: list[datetime]
) -> None:
    every = replace(FIT, likelihood=replace(FIT.likelihood, refit_days=0))
    likelihood_inputs(store=history, now=NOW, settings=every)
    likelihood_inputs(store=history, now=NOW + timedelta(hours=2), settings=every)
    assert len(fits) == 2


def test_the_plan_says_which_model_and_how_old(
    history: Store, fits: list[datetime], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    new_campaign(store=history, name="Drive", action="share", budget=2, now=NOW)
    plan = plan_campaign(store=history, name="Drive", now=NOW, settings=FIT)
    assert plan.likelihood_model.startswith("the model fitted for these scores on ")
    assert plan.report_json()["likelihood_model"] == plan.likelihood_model
    later = plan_campaign(store=history, name="Drive", now=NOW + timedelta(hours=5), settings=FIT)
    assert len(fits) == 1
    assert later.likelihood_model.startswith("the model fitted 5 hours before these scores on ")
    again = plan_campaign(store=history, name="Drive", now=NOW + timedelta(hours=5), settings=FIT)
    assert again.likelihood_model == later.likelihood_model  # read from these scores' cache
    monkeypatch.setenv("KARMABANK_LIKELIHOOD_MIN_PEOPLE", "20")  # the CLI with FIT's settings
    monkeypatch.setenv("KARMABANK_LIKELIHOOD_MIN_POSITIVE", "3")
    r = run(capsys, "campaign", "plan", "Drive", "--db", history.url,
            "--now", (NOW + timedelta(hours=5)).isoformat())  # fmt: skip
    assert r.code == 0, r.err
    assert f"likelihood to act: {later.likelihood_model}" in " ".join(r.out.split())
    assert len(fits) == 1
