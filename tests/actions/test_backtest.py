"""Backtest and likelihood to act through the real store on SQLite and PostgreSQL, and the CLI."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from karmabank.actions.backtest import backtest
from karmabank.actions.importing import import_files
from karmabank.actions.likelihood import likelihood_scores
from karmabank.actions.people import set_flag
from karmabank.errors import ConfigError
from karmabank.measures.settings import MeasureSettings
from karmabank.model import Flag
from karmabank.store.open import Store
from tests.cli_helpers import run
from tests.conftest import NOW

SETTINGS = MeasureSettings()
START = datetime(2026, 1, 1, tzinfo=UTC)
CUTOFF = START + timedelta(days=70)
HEADER = "occurred_at,person,name,verb,direction,channel,text,target\n"


def network(seed: int = 42, people: int = 40) -> list[tuple[datetime, int, str, str, int | None]]:
    """(when, person, verb, direction, target): comments toward us in the first 100 days, our
    thanks, and replies between people all along (120 days)."""
    rng = random.Random(seed)
    rows: list[tuple[datetime, int, str, str, int | None]] = []
    for p in range(1, people + 1):
        for _ in range(rng.randint(1, 5)):
            rows.append((START + timedelta(days=rng.uniform(0, 100)), p, "comment", "in", None))
        for _ in range(rng.randint(0, 4)):
            other = rng.randint(1, people)
            if other != p:
                when = START + timedelta(days=rng.uniform(0, 120))
                rows.append((when, p, "reply", "peer", other))
        if rng.random() < 0.3:
            rows.append((START + timedelta(days=rng.uniform(0, 100)), p, "thank", "give", None))
    return rows


def csv(rows: list[tuple[datetime, int, str, str, int | None]]) -> str:
    lines = [
        f"{when.isoformat()},p{p}@example.org,,{verb},{direction},blog,,"
        + (f"p{target}@example.org" if target else "")
        for when, p, verb, direction, target in rows
    ]
    return HEADER + "\n".join(lines) + "\n"


def load(store: Store, tmp_path: Path, rows: list[Any], name: str = "acts.csv") -> None:
    f = tmp_path / name
    f.write_text(csv(rows))
    report = import_files(store=store, fmt="csv", paths=[f], options={}, now=NOW)
    assert report.quarantined == 0


def expected_counts(rows: list[Any], team: int, horizon: int = 30) -> tuple[int, int]:
    known = {p for when, p, *_ in rows if when <= CUTOFF and p != team}
    until = CUTOFF + timedelta(days=horizon)
    came = {p for when, p, _, d, _ in rows if d == "in" and CUTOFF < when <= until}
    return len(known), len(known & came)


@pytest.fixture
def loaded(store: Store, tmp_path: Path) -> Store:
    load(store, tmp_path, network())
    set_flag(store=store, ref="p3@example.org", flag=Flag.TEAM, on=True, now=NOW, actor="test")
    return store


def test_backtest_reports_every_score_on_the_people_known_at_the_cutoff(loaded: Store) -> None:
    report = backtest(store=loaded, cutoff=CUTOFF, horizon_days=30, settings=SETTINGS, k=10)
    out = report.as_json()
    assert list(out) == [
        "cutoff", "horizon_days", "n_people", "n_positive", "auc", "precision_at_k", "model",
    ]  # fmt: skip
    assert out["cutoff"] == "2026-03-12T00:00:00+00:00" and out["horizon_days"] == 30
    assert (out["n_people"], out["n_positive"]) == expected_counts(network(), team=3)
    assert list(out["auc"]) == ["likelihood", "warmth", "recency", "frequency"]
    assert list(out["precision_at_k"]) == ["k", "likelihood", "warmth", "recency", "frequency"]
    assert out["precision_at_k"]["k"] == 10
    assert all(0 <= v <= 1 for v in out["auc"].values())
    # 39 people are too few to fit (200): the prior, and it says so
    assert out["model"]["fitted"] is False
    assert out["model"]["reason"].startswith("prior: too little history to fit")


def test_data_after_the_horizon_never_leaks(loaded: Store, tmp_path: Path) -> None:
    before = backtest(store=loaded, cutoff=CUTOFF, horizon_days=30, settings=SETTINGS).as_json()
    after_horizon = CUTOFF + timedelta(days=30, hours=1)
    later = [
        (after_horizon + timedelta(days=d), p, verb, direction, target)
        for d, p, verb, direction, target in [
            (0, 1, "donate", "in", None), (1, 2, "comment", "in", None),
            (2, 99, "comment", "in", None), (3, 5, "reply", "peer", 6), (4, 7, "thank", "give", None),
        ]
    ]  # fmt: skip
    load(loaded, tmp_path, later, "later.csv")
    after = backtest(store=loaded, cutoff=CUTOFF, horizon_days=30, settings=SETTINGS).as_json()
    assert after == before


def test_fit_reports_the_weights_and_the_gain(loaded: Store) -> None:
    report = backtest(store=loaded, cutoff=CUTOFF, horizon_days=30, settings=SETTINGS,
                      fit_weights=True)  # fmt: skip
    fit = report.as_json()["fit"]
    assert {"decay", "weights", "default_auc", "fitted_auc", "gain", "reason", "toml"} <= set(fit)
    if fit["fitted"]:
        assert fit["gain"] == pytest.approx(fit["fitted_auc"] - fit["default_auc"], abs=1e-3)
    else:
        assert fit["gain"] is None and fit["reason"]


def test_a_cutoff_outside_the_data_or_with_nobody_acting_is_a_clear_error(
    loaded: Store,
) -> None:
    with pytest.raises(ConfigError, match="cutoff 2025-12-01 00:00 is outside the data"):
        backtest(store=loaded, cutoff=datetime(2025, 12, 1, tzinfo=UTC), horizon_days=30,
                 settings=SETTINGS)  # fmt: skip
    # comments stop on day 100; replies go on until day 120
    with pytest.raises(ConfigError, match="^nobody known at the cutoff came toward"):
        backtest(store=loaded, cutoff=START + timedelta(days=101), horizon_days=10,
                 settings=SETTINGS)  # fmt: skip


def test_likelihood_scores_for_the_planner_are_cached(loaded: Store) -> None:
    now = CUTOFF
    table = likelihood_scores(store=loaded, now=now, settings=SETTINGS)
    assert table.column_names == ["person_id", "likelihood", "parts", "why"]
    assert table.num_rows == expected_counts(network(), team=3)[0]  # known at the cutoff
    assert all(0 < p < 1 for p in table.column("likelihood").to_pylist())
    assert all(len(parts) == 3 for parts in table.column("parts").to_pylist())
    cached = list(loaded.columns_dir.glob("likelihood-[0-9]*.json"))  # the fit, for these scores
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns
    again = likelihood_scores(store=loaded, now=now, settings=SETTINGS)
    assert again.equals(table) and cached[0].stat().st_mtime_ns == stamp


def test_cli_backtest_json_table_and_errors(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "acts.csv"
    f.write_text(csv(network()))
    assert run(capsys, "import", "csv", str(f), "--db", db_url).code == 0
    r = run(capsys, "backtest", "--cutoff", "2026-03-12", "--db", db_url, "--json", "--fit")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert (out["n_people"], out["n_positive"]) == expected_counts(network(), team=0)
    assert "fit" in out
    text = run(capsys, "backtest", "--cutoff", "2026-03-12", "--db", db_url, "-k", "5")
    assert text.code == 0 and "likelihood to act" in text.out and "precision@5" in text.out
    bad = run(capsys, "backtest", "--cutoff", "2030-01-01", "--db", db_url)
    assert bad.code == 1
    assert bad.err.startswith("error: cutoff 2030-01-01 00:00 is outside the data (2026-01-01")
    assert len(bad.err.strip().splitlines()) == 1
    nonsense = run(capsys, "backtest", "--cutoff", "soon", "--db", db_url)
    assert nonsense.code == 1 and "--cutoff: 'soon' is not an ISO-8601 time" in nonsense.err


def test_fitted_weights_that_gain_nothing_are_not_recommended(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """On this random network the fitted weights rank who came back worse than the current
    ones on the 30 days after the cutoff: the backtest says so and offers no karmabank.toml."""
    f = tmp_path / "acts.csv"
    f.write_text(csv(network()))
    assert run(capsys, "import", "csv", str(f), "--db", db_url).code == 0
    r = run(capsys, "backtest", "--cutoff", "2026-03-12", "--db", db_url, "--json", "--fit")
    fit = json.loads(r.out)["fit"]
    assert fit["fitted"] is True and fit["gain"] < fit["min_gain"]
    assert fit["recommended"] is False and fit["toml"] is None
    assert fit["verdict"].endswith("keep the current weights")
    text = run(capsys, "backtest", "--cutoff", "2026-03-12", "--db", db_url, "--fit")
    assert text.code == 0, text.err
    assert "the current ones: keep the current weights" in text.out
    assert "karmabank.toml" not in text.out and "decay_days" not in text.out


def test_a_fit_is_recommended_only_past_the_margin() -> None:
    from karmabank.measures.weights_fit import MIN_AUC_GAIN, fit_verdict

    assert fit_verdict(0.708, 0.733) == (
        True, "warmth AUC 0.708 -> 0.733 (+0.025): the fitted weights rank who came back better"
    )  # fmt: skip
    small, why = fit_verdict(0.700, 0.700 + MIN_AUC_GAIN / 2)
    assert not small and f"less than {MIN_AUC_GAIN} of AUC better than" in why
    worse, why = fit_verdict(0.777, 0.776)
    assert not worse and "(-0.001)" in why and "no better than" in why
