"""When the likelihood model is fitted again (PRODUCT.md §3), and what it was fitted on.

Fitting the model reads the organization's whole history at its training times (at higgs'
size 5-10 s); every new activity, flag or hour makes new scores, and a plan on them would fit
it again for a model that barely moves. So the last fit is kept, with what it was fitted on
(`FitBasis`), and used again for later scores while all of these hold (`refit_reason` says which
does not):

- the same version of the model and the same measure settings and flags (team, bots, erased);
- the scores are not older than the model's time, and at most `likelihood.refit_days` newer
  (on a network whose window is short, at most a quarter of the window: its labels move by
  that much);
- the data it was fitted on changed by at most `likelihood.refit_growth` of it: the activities
  at or before its time added or removed, plus those after it (up to the scores' time), plus the
  asks acted on, counted together.

Everyone's features and likelihood are computed on the new scores either way; only the
coefficients are kept. Pure: Arrow and numbers in, counts and a reason out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from karmabank.frames import US_PER_DAY, ParquetFiles, engine_over
from karmabank.measures.settings import LikelihoodSettings

if TYPE_CHECKING:
    from karmabank.measures.likelihood import LikelihoodModel

FIT_VERSION = 1  # a fit made by another version of `fit` is made again
WINDOW_SHARE = 0.25  # the model is kept at most this share of its window


@dataclass(frozen=True)
class FitBasis:
    """What a fit was made from: counted when it is made, and again (for its time) later."""

    settings: str  # the measure settings' digest
    flags: str  # the flagged people's digest
    scored_at: int  # µs: the scores' time the model was fitted for (its `now`)
    history: int  # activities at or before `scored_at`
    acted: int  # asks acted on at or before `scored_at`
    version: int = FIT_VERSION

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FitBasis:
        return cls(
            settings=str(data["settings"]), flags=str(data["flags"]),
            scored_at=int(data["scored_at"]), history=int(data["history"]),
            acted=int(data["acted"]), version=int(data["version"]),
        )  # fmt: skip


def refit_limit_days(settings: LikelihoodSettings, window_days: float) -> float:
    """How long after its time a model is kept: `refit_days`, at most a quarter of its
    window."""
    return min(float(settings.refit_days), WINDOW_SHARE * float(window_days))


def refit_reason(
    fitted: FitBasis, seen: FitBasis, *, later: int, scored_at: int, window_days: float,
    settings: LikelihoodSettings,
) -> str | None:  # fmt: skip
    """Why the model fitted on `fitted` is fitted again for the scores at `scored_at` (µs);
    None when it is kept. `seen` is the same basis counted now (the activities and asks at or
    before `fitted.scored_at`, the settings and flags as they are); `later` the activities after
    `fitted.scored_at` up to `scored_at`."""
    if fitted.version != FIT_VERSION:
        return "fitted by another version"
    if fitted.settings != seen.settings:
        return "the settings changed"
    if fitted.flags != seen.flags:
        return "the flags changed"
    age = (scored_at - fitted.scored_at) / US_PER_DAY
    if age < 0:
        return "the scores are older than the model"
    limit = refit_limit_days(settings, window_days)
    if age > limit:
        return f"fitted {age_text(age)} before these scores (kept {age_text(limit)})"
    changed = abs(seen.history - fitted.history) + later + abs(seen.acted - fitted.acted)
    if changed > settings.refit_growth * max(fitted.history, 1):
        share = changed / max(fitted.history, 1)
        return (f"the data changed by {share:.1%} since it was fitted "
                f"(kept up to {settings.refit_growth:.0%})")  # fmt: skip
    return None


def age_text(days: float) -> str:
    """A model's age in words: "3.2 days", "5 hours", "12 minutes", "under a minute"."""
    if days >= 2:
        return f"{days:.1f} days"
    if days * 24 >= 1:
        return f"{days * 24:.0f} hours" if days * 24 >= 1.5 else "1 hour"
    minutes = round(days * 24 * 60)
    return f"{minutes} minute{'s' * (minutes != 1)}" if minutes >= 1 else "under a minute"


def history_counts(acts: ParquetFiles | pa.Table, at_us: int, until_us: int) -> tuple[int, int]:
    """The activities at or before `at_us`, and those after it up to `until_us`."""
    con = engine_over({"acts_src": acts})
    try:
        row = con.execute(
            f"""SELECT count(*) FILTER (WHERE occurred_at <= {int(at_us)}),
                   count(*) FILTER (WHERE occurred_at > {int(at_us)}
                                    AND occurred_at <= {int(until_us)})
            FROM acts_src"""
        ).fetchall()[0]
    finally:
        con.close()
    return int(row[0]), int(row[1])


def acted_count(acted: pa.Table, at_us: int) -> int:
    """The asks acted on at or before `at_us` (`acted`: ACTED_SCHEMA)."""
    return int(pc.sum(pc.less_equal(acted["acted_at"], at_us)).as_py() or 0)


def flags_digest(flags: pa.Table) -> str:
    """A digest of who is team, a bot or erased (FLAGS_SCHEMA): who the features leave out."""
    out = flags.filter(pc.or_(pc.or_(flags["team"], flags["bot"]), flags["erased"]))
    rows = sorted(
        zip(
            out["person_id"].to_pylist(), out["team"].to_pylist(), out["bot"].to_pylist(),
            out["erased"].to_pylist(), strict=True,
        )
    )  # fmt: skip
    return hashlib.sha256(repr(rows).encode()).hexdigest()[:32]


def model_note(model: LikelihoodModel, scored_at: int) -> str:
    """What the likelihood to act of a plan on the scores at `scored_at` (µs) came from, for
    its explanation: "the model fitted 2 hours before these scores on 125,915 people known …
    (training AUC 0.78)", or the prior and why."""
    if not model.fitted or model.trained_at is None:
        return f"the {model.reason}"
    fitted_for = model.trained_at + round(model.window_days * US_PER_DAY)
    age = (scored_at - fitted_for) / US_PER_DAY
    when = "for these scores" if age <= 0 else f"{age_text(age)} before these scores"
    auc = "" if model.train_auc is None else f" (training AUC {model.train_auc:.2f})"
    return f"the model fitted {when} {model.reason.removeprefix('fitted ')}{auc}"
