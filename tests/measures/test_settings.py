"""Measure settings: defaults, then karmabank.toml, then KARMABANK_* environment variables."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from karmabank.errors import ConfigError
from karmabank.measures.settings import MeasureSettings, WarmthSettings
from karmabank.settings import load_measure_settings
from tests.measures.helpers import DEFAULTS, act, person, score


def toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "karmabank.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file_or_environment(tmp_path: Path) -> None:
    assert load_measure_settings(None, environ={}) == MeasureSettings()
    assert load_measure_settings(tmp_path / "missing.toml", environ={}) == MeasureSettings()


def test_defaults_are_product_md_s() -> None:
    s = MeasureSettings()
    assert (s.warmth.decay, s.warmth.decay_days, s.warmth.multiplexity_step) == (0.9, 30.0, 0.25)
    assert (s.rhythm.active_factor, s.rhythm.resting_factor, s.rhythm.dormant_days) == (
        1.5,
        4.0,
        365,
    )
    assert (s.circles.core_share, s.circles.core_max, s.circles.allies_share) == (0.02, 15, 0.08)
    assert (s.circles.friends_share, s.circles.demotion_hold_days) == (0.25, 90)
    assert (s.ledger.ask_weight, s.ledger.ask_cooldown_days, s.ledger.max_asks) == (5.0, 30, 3)
    assert (s.ledger.share_ratio_days, s.ledger.share_ratio_target) == (90, 4.0)


def test_toml_file_sets_values(tmp_path: Path) -> None:
    path = toml(
        tmp_path,
        """
        [warmth]
        decay = 0.8
        [circles]
        core_max = 10
        observer_verbs = ["like", "Follow", "view"]
        [ladder]
        verbs = { wave = "engaged" }
        """,
    )
    s = load_measure_settings(path, environ={})
    assert s.warmth.decay == 0.8
    assert s.circles.core_max == 10
    assert s.circles.observer_verbs == ("like", "follow", "view")
    assert s.ladder.verbs["wave"] == "engaged"
    assert s.ladder.verbs["like"] == "aware"  # a table adds to the defaults
    assert s.rhythm == DEFAULTS.rhythm


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = toml(tmp_path, "[warmth]\ndecay = 0.8\ndecay_days = 60\n")
    s = load_measure_settings(
        path,
        environ={
            "KARMABANK_WARMTH_DECAY": "0.85",
            "KARMABANK_LEDGER_MAX_ASKS": "4",
            "KARMABANK_CIRCLES_OBSERVER_VERBS": "like, Follow ,",
            "KARMABANK_WARMTH_WEIGHTS": '{"Like": 2, "cheer": 3}',
            "KARMABANK_NOT_A_SETTING": "ignored",
        },
    )
    assert (s.warmth.decay, s.warmth.decay_days) == (0.85, 60.0)
    assert s.ledger.max_asks == 4
    assert s.circles.observer_verbs == ("like", "follow")
    assert (s.warmth.weights["like"], s.warmth.weights["cheer"]) == (2, 3)
    assert s.warmth.weights["comment"] == 4


def test_fractional_weights_are_kept(tmp_path: Path) -> None:
    path = toml(tmp_path, "[warmth]\nweights = { like = 1.5 }\n")
    s = load_measure_settings(path, environ={"KARMABANK_LEDGER_GIVE_WEIGHTS": '{"thank": 2.5}'})
    assert s.warmth.weights["like"] == 1.5
    assert s.ledger.give_weights["thank"] == 2.5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[nope]\nx = 1\n", "unknown section [nope]"),
        ("[warmth]\ndecay_rate = 0.5\n", "[warmth] has no setting 'decay_rate'"),
        ("[warmth]\ndecay = 'fast'\n", "[warmth] decay: 'fast' is not a valid float"),
        ("[circles]\ncore_max = 2.5\n", "[circles] core_max: 2.5 is not a valid int"),
        ("[warmth]\nweights = 3\n", "[warmth] weights: 3 is not a valid dict"),
        ("[warmth]\ndecay = 1.5\n", "warmth.decay must be in (0, 1]"),
        ("[circles]\nfriends_share = 0.95\n", "core + allies + friends shares exceed 1"),
        ("[rhythm]\nactive_factor = 5\n", "need 0 < active_factor <= resting_factor"),
        ("[ladder]\nverbs = { wave = 'hero' }\n", "ladder: unknown stage 'hero'"),
        ("[warmth\n", "karmabank.toml"),
    ],
)
def test_bad_files_raise_config_errors_naming_the_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigError) as e:
        load_measure_settings(toml(tmp_path, text), environ={})
    assert message in str(e.value)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("KARMABANK_WARMTH_DECAY", "fast", "KARMABANK_WARMTH_DECAY: 'fast' is not a valid float"),
        ("KARMABANK_LEDGER_MAX_ASKS", "three", "KARMABANK_LEDGER_MAX_ASKS: 'three'"),
        ("KARMABANK_WARMTH_WEIGHTS", "{like: 2}", "KARMABANK_WARMTH_WEIGHTS"),
        ("KARMABANK_WARMTH_WEIGHTS", "[1, 2]", "is not a valid dict"),
        ("KARMABANK_WARMTH_DECAY", "0", "warmth.decay must be in (0, 1]"),
    ],
)
def test_bad_environment_values_raise_config_errors(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as e:
        load_measure_settings(None, environ={name: value})
    assert message in str(e.value)


def test_a_changed_decay_changes_warmth(tmp_path: Path) -> None:
    rows = [act(1, 0, "comment"), act(1, 30, "share"), act(1, 60, "like")]
    s = load_measure_settings(None, environ={"KARMABANK_WARMTH_DECAY": "0.5"})
    assert person(score(rows, settings=s), 1)["warmth"] == pytest.approx(4 + 3 * 0.5 + 0.25)
    assert person(score(rows), 1)["warmth"] == pytest.approx(7.51)


def test_a_changed_default_weight_applies_to_unknown_verbs() -> None:
    s = replace(DEFAULTS, warmth=WarmthSettings(default_weight=2.5))
    assert person(score([act(1, 0, "wave")], settings=s), 1)["warmth"] == 2.5


def test_changed_circle_and_ledger_settings_change_the_result(tmp_path: Path) -> None:
    rows = [
        *[act(p, d, "comment", weight=float(p)) for p in (1, 2, 3) for d in (40, 50)],
        act(3, 0, "gift", "give", weight=100.0),
        *[act(3, d, "ask", "ask") for d in (40, 100, 200)],
    ]
    path = toml(tmp_path, "[circles]\ncore_share = 0.5\n[ledger]\nmax_asks = 4\n")
    changed = score(rows, settings=load_measure_settings(path, environ={}))
    default = score(rows)
    # N = 3: core ⌈1.5⌉ = 2 instead of ⌈0.06⌉ = 1
    assert changed.summary.cuts[0] == 2
    assert default.summary.cuts[0] == 1
    assert person(changed, 2)["circle"] == "core"
    assert person(default, 2)["circle"] != "core"
    assert person(changed, 3)["ask_rule"] is None
    assert person(default, 3)["ask_rule"] == "frequency"
