"""Every constant of the measures, typed, with PRODUCT.md §3's defaults, and their checks.

Pure: `build_measure_settings` turns what `karmabank.settings` (the one reader, at the edge) read
from a `karmabank.toml` and the `KARMABANK_*` environment into a checked `MeasureSettings`, which
the edges pass into the actions and the measures. `docs/measures.md` documents each one.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from karmabank.bounds import MAX_WEIGHT, MAX_WINDOW_DAYS
from karmabank.errors import ConfigError
from karmabank.model import Stage


def _weights(**kw: float) -> dict[str, float]:
    return {verb: float(w) for verb, w in kw.items()}


@dataclass(frozen=True)
class WarmthSettings:
    decay: float = 0.9  # kept per `decay_days`
    decay_days: float = 30.0
    multiplexity_step: float = 0.25  # x(1 + step x (channels - 1))
    multiplexity_days: int = 365
    default_weight: float = 1.0  # an inbound verb not in `weights`
    weights: dict[str, float] = field(
        default_factory=lambda: _weights(
            like=1, follow=1, mention=2, interact=2, share=3, comment=4, reply=4, answer=4,
            register=4, sign=5, attend=6, donate=7, volunteer=8, organize=10,
        )
    )  # fmt: skip


@dataclass(frozen=True)
class RhythmSettings:
    window_days: int = 365  # cadence looks at active days in this window
    min_active_days: int = 3  # fewer: the network's median cadence is used
    active_factor: float = 1.5  # active if silence <= 1.5 x cadence
    resting_factor: float = 4.0  # resting if silence <= 4 x cadence
    dormant_days: int = 365  # beyond resting and silent longer than this: dormant
    drift_lookback_days: int = 90  # drifting: warmth was in the top half this long ago
    default_cadence_days: float = 30.0  # when no one in the network has a cadence yet


@dataclass(frozen=True)
class CircleSettings:
    core_share: float = 0.02
    core_max: int = 15  # Dunbar-style cap
    allies_share: float = 0.08
    friends_share: float = 0.25
    min_activities: int = 2  # fewer inbound activities: acquaintances
    newcomer_days: int = 30
    demotion_hold_days: int = 90
    observer_verbs: tuple[str, ...] = ("like", "follow")


@dataclass(frozen=True)
class LedgerSettings:
    default_give_weight: float = 2.0
    give_weights: dict[str, float] = field(
        default_factory=lambda: _weights(
            thank=2, welcome=2, reply=3, share=4, feature=5, introduce=5, help=5, gift=5
        )
    )
    ask_weight: float = 5.0
    ask_cooldown_days: int = 30  # no ask in this many days
    max_asks: int = 3  # at most this many asks (this one included) ...
    max_asks_days: int = 365  # ... in this many days
    share_ratio_days: int = 90
    share_ratio_target: float = 4.0


@dataclass(frozen=True)
class LadderSettings:
    window_days: int = 365
    verbs: dict[str, str] = field(
        default_factory=lambda: {
            "follow": "aware", "like": "aware",
            "comment": "engaged", "reply": "engaged", "mention": "engaged", "share": "engaged",
            "interact": "engaged", "answer": "engaged",
            "attend": "participant", "register": "participant", "sign": "participant",
            "donate": "participant",
            "volunteer": "leader", "organize": "leader",
        }
    )  # fmt: skip
    default_stage: str = "aware"  # an inbound verb not in `verbs`
    engagement_days: int = 7  # a share that drew peer engagement this soon: advocate
    leader_campaigns: int = 3  # acted on asks of this many campaigns: leader


@dataclass(frozen=True)
class NurtureSettings:
    limit: int = 10  # items in the daily queue
    window_days: int = 7  # new activity this recent is thanked, answered, celebrated
    share_window_days: int = 14  # a supporter's content this recent may be shared
    welcome_back_days: int = 90  # a return after at least this much silence (and 4 x cadence)
    check_in_cooldown_days: int = 30  # no check-in if we gave them anything this recently
    thank_min_weight: float = 3.0  # inbound activities worth a thank (share and up)
    reply_verbs: tuple[str, ...] = ("comment", "mention", "reply")
    priorities: dict[str, float] = field(
        default_factory=lambda: _weights(
            thank_ask=100, reply=90, thank=80, check_in=70, welcome_back=65, celebrate=60,
            share=55, welcome=50,
        )
    )  # fmt: skip


@dataclass(frozen=True)
class AffinitySettings:
    method: str = "bm25"  # or "semantic": by meaning, with the optional 'semantic' extra
    k1: float = 1.5  # BM25's term-frequency saturation
    b: float = 0.75  # BM25's document-length normalisation
    # semantic: cosine similarity at or below this scores 0 (unrelated short texts mostly
    # fall between -0.1 and 0.2 with all-MiniLM-L6-v2; texts on the same subject from 0.3 up)
    semantic_floor: float = 0.2


@dataclass(frozen=True)
class PlannerSettings:
    epsilon: float = 0.1  # IMM's accuracy: (1 - 1/e - epsilon) of the best reach
    ell: float = 1.0  # IMM's confidence: it holds with probability 1 - n^-ell
    community_share: float = 0.5  # at most this share of a plan's asks from one community
    seed: int = 0  # the random sampling's seed (a plan is reproducible)
    max_rr_sets: int = 2_000_000  # past this sample size, plan without IMM's guarantee


@dataclass(frozen=True)
class RescoreSettings:
    stale_after_minutes: float = 60.0  # shown scores older than this (in `now`) are recomputed


@dataclass(frozen=True)
class LikelihoodSettings:
    horizon_days: int = 30  # "acts": comes toward us at least once in this many days
    training_days: int = 90  # training times, one horizon apart, over this many days before
    max_splits: int = 12  # ... and at most this many of them
    training_half_life_days: float = 60.0  # an earlier training time weighs half per this
    min_people: int = 200  # fewer training rows (people × times): the prior is used
    min_positive: int = 10  # fewer who came (or who did not) after the training times: prior
    l2: float = 10.0  # ridge penalty on the standardized coefficients
    max_rows: int = 300_000  # more training rows: everyone who came, a sample of the others
    refit_days: float = 7.0  # the last fit is kept this long after its time (likelihood_refit)
    refit_growth: float = 0.05  # ... while the data it was fitted on changed by at most this
    response_days: int = 14  # a give or ask answered by an inbound activity this soon
    response_prior_acted: float = 1.0  # response rate = (responded + this) / ...
    response_prior_asked: float = 2.0  # ... (touches + this): one in two before any evidence
    parts: int = 3  # contributions named in each likelihood's "why"
    prior_intercept: float = -3.0
    prior: dict[str, float] = field(
        default_factory=lambda: _weights(
            recency=-0.6, never_in=-2.0, warmth=0.3, n_in=0.2, presence_90=0.3,
            peer_out_recent=0.3, give_recency=-0.3, never_given=-0.7, ask_response=1.0,
            affinity=1.0,
        )
    )  # fmt: skip


@dataclass(frozen=True)
class LinkageSettings:
    """Identity resolution (`measures/identity/linkage.py`, `docs/benchmarks.md`)."""

    auto_min_probability: float = 0.99  # `auto`: merged without a person deciding
    review_min_probability: float = 0.1  # below this, not suggested at all
    duplicates_per_person: float = 0.7  # the prior: true pairs ~ this x persons
    u_sample_pairs: int = 1_200_000  # random pairs splink estimates the u probabilities on
    seed: int = 0  # of that sampling (a run is reproducible)
    max_block: int = 60  # a name, handle or domain more persons hold pairs no one by itself
    memory_mb: int = 2500  # the matcher's DuckDB at most (beyond, it spills to disk)


@dataclass(frozen=True)
class MeasureSettings:
    warmth: WarmthSettings = field(default_factory=WarmthSettings)
    rhythm: RhythmSettings = field(default_factory=RhythmSettings)
    circles: CircleSettings = field(default_factory=CircleSettings)
    ledger: LedgerSettings = field(default_factory=LedgerSettings)
    ladder: LadderSettings = field(default_factory=LadderSettings)
    nurture: NurtureSettings = field(default_factory=NurtureSettings)
    affinity: AffinitySettings = field(default_factory=AffinitySettings)
    planner: PlannerSettings = field(default_factory=PlannerSettings)
    rescore: RescoreSettings = field(default_factory=RescoreSettings)
    likelihood: LikelihoodSettings = field(default_factory=LikelihoodSettings)
    linkage: LinkageSettings = field(default_factory=LinkageSettings)


Origins = dict[str, str]  # "section.key" -> where its value was set (a file's key, a variable)


def _coerce(where: str, current: Any, value: Any) -> Any:
    """`value` (from TOML or an environment string) as the type of the default `current`."""
    try:
        if isinstance(current, dict):
            if isinstance(value, str):
                value = json.loads(value)
            if not isinstance(value, dict):
                raise TypeError
            kind = type(next(iter(current.values()), ""))
            return {**current, **{str(k).lower(): kind(v) for k, v in value.items()}}
        if isinstance(current, tuple):
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(str(v).strip().lower() for v in items if str(v).strip())
        if isinstance(current, bool):
            raise TypeError
        if isinstance(current, int):
            if isinstance(value, float) and not value.is_integer():
                raise TypeError
            return int(value)
        if isinstance(current, float):
            return float(value)
        return str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: {value!r} is not a valid {type(current).__name__}") from None


def _out_of_bounds(s: MeasureSettings) -> list[tuple[str, list[str]]]:
    """Every number finite; windows (`*_days`, `*_minutes`) from 0 to MAX_WINDOW_DAYS, so
    that `now` ± a window stays a time (`karmabank.bounds`); weights within ±MAX_WEIGHT."""
    problems = []
    for section in fields(s):
        values = getattr(s, section.name)
        for f in fields(values):
            value, where = getattr(values, f.name), f"{section.name}.{f.name}"
            numbers = list(value.values()) if isinstance(value, dict) else [value]
            numbers = [v for v in numbers if isinstance(v, int | float) and not isinstance(v, bool)]
            if not all(math.isfinite(v) for v in numbers):
                problems.append((f"{where} must be a finite number", [where]))
            elif isinstance(value, dict) and any(abs(v) > MAX_WEIGHT for v in numbers):
                problems.append((f"{where}: weights must be within ±{MAX_WEIGHT:,.0f}", [where]))
            elif f.name.endswith(("_days", "_minutes")):
                most = MAX_WINDOW_DAYS * (1440 if f.name.endswith("_minutes") else 1)
                if not 0 <= value <= most:
                    problems.append((f"{where} must be from 0 to {most:,}", [where]))
    return problems


def _relations(s: MeasureSettings) -> list[tuple[str, list[str]]]:
    """The checks of one setting's range or of several settings together: (problem, keys)."""
    shares = ["circles.core_share", "circles.allies_share", "circles.friends_share"]
    lk = s.likelihood
    checks = [
        (0 < s.warmth.decay <= 1, "warmth.decay must be in (0, 1]", ["warmth.decay"]),
        *((0 <= getattr(s.circles, k[8:]) <= 1, f"{k} must be in [0, 1]", [k]) for k in shares),
        (s.circles.core_share + s.circles.allies_share + s.circles.friends_share <= 1,
         "circles: core + allies + friends shares exceed 1", shares),
        (0 < s.rhythm.active_factor <= s.rhythm.resting_factor,
         "rhythm: need 0 < active_factor <= resting_factor",
         ["rhythm.active_factor", "rhythm.resting_factor"]),
        (s.nurture.welcome_back_days > s.nurture.window_days,
         "nurture: welcome_back_days must be longer than window_days",
         ["nurture.welcome_back_days", "nurture.window_days"]),
        (s.affinity.method in ("bm25", "semantic"), "affinity.method must be bm25 or semantic",
         ["affinity.method"]),
        (s.planner.epsilon > 0 and s.planner.ell > 0 and 0 < s.planner.community_share <= 1,
         "planner: need epsilon > 0, ell > 0 and community_share in (0, 1]",
         ["planner.epsilon", "planner.ell", "planner.community_share"]),
        (lk.horizon_days >= 1 and lk.response_days >= 1,
         "likelihood: horizon_days and response_days must be at least 1",
         ["likelihood.horizon_days", "likelihood.response_days"]),
        (lk.min_positive >= 1 and lk.l2 >= 0 and lk.response_prior_asked > 0 and lk.max_splits >= 1,
         "likelihood: need max_splits >= 1, min_positive >= 1, l2 >= 0, response_prior_asked > 0",
         ["likelihood.max_splits", "likelihood.min_positive", "likelihood.l2",
          "likelihood.response_prior_asked"]),
        (lk.training_half_life_days > 0, "likelihood.training_half_life_days must be positive",
         ["likelihood.training_half_life_days"]),
        (lk.refit_days >= 0 and lk.refit_growth >= 0,
         "likelihood: refit_days and refit_growth must be at least 0",
         ["likelihood.refit_days", "likelihood.refit_growth"]),
    ]  # fmt: skip
    problems = [(problem, keys) for ok, problem, keys in checks if not ok]
    bad = sorted({*s.ladder.verbs.values(), s.ladder.default_stage} - set(Stage))
    if bad:
        problems.append((f"ladder: unknown stage {bad[0]!r} (stages: {', '.join(Stage)})",
                         ["ladder.verbs", "ladder.default_stage"]))  # fmt: skip
    return problems


def _check(s: MeasureSettings, origins: Origins) -> MeasureSettings:
    """`s` if every value is in range; else one ConfigError naming each problem and where the
    values it involves were set (the file and key, or the environment variable)."""
    problems = []
    for problem, keys in [*_out_of_bounds(s), *_relations(s)]:
        set_in = [origins[k] for k in keys if k in origins]
        problems.append(f"{problem} (set in {', '.join(set_in)})" if set_in else problem)
    if problems:
        raise ConfigError("measure settings: " + "; ".join(problems))
    return s


def build_measure_settings(
    *, tables: Mapping[str, Any], environ: Mapping[str, str], source: str
) -> MeasureSettings:
    """Defaults, then `tables` (a karmabank.toml's, as read from the file `source`), then the
    variables `KARMABANK_<SECTION>_<KEY>` of `environ` (e.g. `KARMABANK_WARMTH_DECAY=0.85`;
    tables as JSON), checked. Every ConfigError names the key and the file (or the variable)."""
    settings = MeasureSettings()
    sections = {f.name: getattr(settings, f.name) for f in fields(settings)}
    for name in tables:
        if name not in sections or not isinstance(tables[name], dict):
            raise ConfigError(
                f"{source}: unknown section [{name}] (sections: {', '.join(sections)})"
            )
    origins: Origins = {}
    for name, section in sections.items():
        given = tables.get(name, {})
        unknown = set(given) - {f.name for f in fields(section)}
        if unknown:
            raise ConfigError(f"{source}: [{name}] has no setting {sorted(unknown)[0]!r}")
        changes: dict[str, Any] = {}
        for f in fields(section):
            current = getattr(section, f.name)
            env_name = f"KARMABANK_{name}_{f.name}".upper()
            if f.name in given:
                origins[f"{name}.{f.name}"] = f"{source} [{name}] {f.name}"
                current = _coerce(origins[f"{name}.{f.name}"], current, given[f.name])
            if env_name in environ:
                origins[f"{name}.{f.name}"] = env_name
                current = _coerce(env_name, current, environ[env_name])
            changes[f.name] = current
        sections[name] = replace(section, **changes)
    return _check(MeasureSettings(**sections), origins)
