"""Everyone's likelihood to act now (PRODUCT.md §3), for the campaign planner: the model fitted
on the organization's history before the last rescore's time, and everyone's features then.

The model is cached beside the columnar copy for the scores it was used with, and a plan's
likelihood for everyone too (`store/likelihood.py`): a second plan on the same scores reads it
instead of computing everyone's features again, and explains only the few it chose, from
their own activities (`likelihood_inputs(people=...)`: the same values as in everyone's table).
New scores compute everyone's features again, but fit the model again only when the last fit
is due (`measures/likelihood_refit.py`: older than `likelihood.refit_days`, or the data it was
fitted on changed by more than `likelihood.refit_growth`, or other settings or flags).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from karmabank.actions.freshness import ensure_scores
from karmabank.frames import ParquetFiles
from karmabank.measures import likelihood as lk
from karmabank.measures import likelihood_refit as refit
from karmabank.measures import planning
from karmabank.measures.likelihood_features import activities_of
from karmabank.measures.settings import MeasureSettings
from karmabank.store import arrow_io
from karmabank.store import likelihood as cache
from karmabank.store.open import Store

if TYPE_CHECKING:
    import numpy.typing as npt

    from karmabank.actions.scores import LastRescore
    from karmabank.measures.affinity import IssueText

_SCORES = pa.schema(
    [("person_id", pa.int64()), ("warmth", pa.float64()), ("status", pa.string()),
     ("stage", pa.string()), ("cadence_used", pa.float64())]
)  # fmt: skip


def likelihood_scores(
    *, store: Store, now: datetime, settings: MeasureSettings, issue: str | None = None
) -> pa.Table:
    """Everyone's likelihood to act in the next `likelihood.horizon_days`
    (`planning.LIKELIHOOD_SCHEMA`, by person_id), as of the stored scores' time (rescored first
    when stale for `now`), with its largest parts. With `issue` (an id or name), affinity to it
    counts too. The model is fitted on the organization's history before then and cached
    beside the columnar copy."""
    model, feats = likelihood_inputs(store=store, now=now, settings=settings, issue=issue)
    return planning.likelihood_table(model, feats, settings.likelihood.parts)


@dataclass(frozen=True)
class _Inputs:
    """What the model and the features are computed from, as of the last rescore."""

    last: LastRescore
    source: ParquetFiles | pa.Table  # the activities the rescore saw
    scores: pa.Table  # its scores (_SCORES)
    flags: pa.Table
    acted: pa.Table  # the asks acted on up to then
    issue: IssueText | None
    texts: pa.Table | None  # with an issue: the texts its affinity is judged by

    def affinity(self, until: datetime) -> pa.Table | None:
        if self.issue is None or self.texts is None:
            return None
        return planning.affinity_at(self.texts, self.issue, until)


def _inputs(store: Store, last: LastRescore, issue: str | None) -> _Inputs:
    from karmabank.actions.issues import find_issue
    from karmabank.actions.scoring import flagged_people  # the rescore's imports: only now

    snapshot = last.snapshot(store)
    chosen = find_issue(store=store, ref=issue) if issue else None
    scores = snapshot.table(_SCORES)
    with arrow_io.connect(store.url, store.engine) as conn:
        flags = flagged_people(conn)
        acted = cache.acted_asks(conn, last.at)
        if scores is None:
            scores = arrow_io.read_table(conn, "person_score", _SCORES)
        texts = cache.issue_texts(conn, last.scored_at) if chosen is not None else None
    text = None
    if chosen is not None:  # affinity's imports (scipy: 0.15-0.3 s) only for an issue's plan
        from karmabank.measures.affinity import IssueText

        text = IssueText(chosen.id, chosen.name, chosen.keywords, chosen.description)
    return _Inputs(last, snapshot.activities(), scores, flags, acted, text, texts)


def _model(store: Store, found: _Inputs, settings: MeasureSettings) -> lk.LikelihoodModel:
    """The model cached for these scores and issue, else the last fit while it is kept
    (`likelihood_refit`), else fitted now; cached for these scores."""
    directory = found.last.snapshot(store).columns.dir
    token, issue_id = found.last.token, found.issue.id if found.issue is not None else None
    cached = _cached_model(directory, token, issue_id)
    if cached is not None:
        return cached
    model = _kept_or_fitted(directory, found, settings)
    cache.cache_model(directory, token, issue_id, model.dumps())
    return model


def _basis_digest(found: _Inputs) -> str:
    """The measure settings' digest, and the issue's text for an issue's model."""
    issue = found.issue
    text = "" if issue is None else repr((issue.name, issue.keywords, issue.description))
    return hashlib.sha256(f"{found.last.settings_digest}|{text}".encode()).hexdigest()[:32]


def _last_fit(
    directory: Path, issue_id: int | None
) -> tuple[refit.FitBasis, lk.LikelihoodModel] | None:
    found = cache.cached_fit(directory, issue_id)
    if found is None:
        return None
    try:
        return refit.FitBasis.from_json(found[0]), lk.LikelihoodModel.from_json(found[1])
    except (KeyError, ValueError, TypeError):  # not a fit this version reads
        return None


def _kept_or_fitted(
    directory: Path, found: _Inputs, settings: MeasureSettings
) -> lk.LikelihoodModel:
    """The last fit when `likelihood_refit.refit_reason` keeps it for these scores, else a
    new fit, kept as the last one."""
    issue_id = found.issue.id if found.issue is not None else None
    at, digest, flags = found.last.scored_at, _basis_digest(found), refit.flags_digest(found.flags)
    last = _last_fit(directory, issue_id)
    if last is not None:
        basis, model = last
        before, later = refit.history_counts(found.source, basis.scored_at, at)
        seen = refit.FitBasis(digest, flags, basis.scored_at, before,
                              refit.acted_count(found.acted, basis.scored_at))  # fmt: skip
        why = refit.refit_reason(
            basis, seen, later=later, scored_at=at, window_days=model.window_days,
            settings=settings.likelihood,
        )  # fmt: skip
        if why is None:
            return model
    model = _fit(found, settings)
    history, _ = refit.history_counts(found.source, at, at)
    basis = refit.FitBasis(digest, flags, at, history, refit.acted_count(found.acted, at))
    cache.cache_fit(directory, issue_id, basis.as_json(), model.as_json())
    return model


def _cached_model(directory: Path, token: str, issue_id: int | None) -> lk.LikelihoodModel | None:
    """The model cached for the scores `token` names (and the issue), if there and readable
    by this version."""
    data = cache.cached_model(directory, token, issue_id)
    if data is None:
        return None
    try:
        return lk.LikelihoodModel.from_json(data)
    except (ValueError, TypeError):  # not a model this version reads
        return None


def _fit(found: _Inputs, settings: MeasureSettings) -> lk.LikelihoodModel:
    return lk.fit(
        found.source, now=found.last.at, horizon_days=settings.likelihood.horizon_days,
        settings=settings, flags=found.flags, asks=found.acted,
        affinity=found.affinity if found.issue is not None else None,
    )  # fmt: skip


def likelihood_inputs(
    *, store: Store, now: datetime, settings: MeasureSettings, issue: str | None = None,
    people: Sequence[int] | None = None,
) -> tuple[lk.LikelihoodModel, pa.Table]:  # fmt: skip
    """`likelihood_scores`' model and everyone's features (`lk.features`), for a caller that
    predicts for everyone but explains only a few (the campaign planner). With `people`, the
    features are computed for them only (from their own activities and those toward them, the
    same values as in everyone's table), which takes a fraction of the time."""
    last = ensure_scores(store=store, now=now, settings=settings)
    found = _inputs(store, last, issue)
    model = _model(store, found, settings)
    feats = lk.features(
        found.source if people is None else activities_of(found.source, people), now=last.at,
        settings=settings, flags=found.flags, scores=found.scores, asks=found.acted,
        affinity=found.affinity(last.at), window_days=model.window_days,
    )  # fmt: skip
    if people is not None:
        feats = feats.filter(pc.is_in(feats["person_id"], pa.array(list(people), pa.int64())))
    return model, feats


@dataclass(frozen=True)
class PlanLikelihood:
    """Everyone's likelihood to act for a plan, and how to explain a few of them."""

    likely: pa.Table  # person_id, likelihood (planning.CHANCE_SCHEMA)
    model: lk.LikelihoodModel | None  # with everyone's features, when they were computed
    feats: pa.Table | None
    cached_in: tuple[Path, str, int | None] | None = None  # read from: directory, token, issue
    note: str = ""  # the model it came from, and how old it is (`likelihood_refit.model_note`)


def plan_likelihood(
    *, store: Store, last: LastRescore, now: datetime, settings: MeasureSettings,
    issue: str | None, explained: npt.ArrayLike | None = None,
) -> PlanLikelihood:  # fmt: skip
    """Everyone's likelihood to act (`likelihood_inputs`), cached beside the columnar copy
    for the scores `last` names and the issue: a second plan on the same scores reads it
    instead of computing everyone's features again (any change to the data, the flags or the
    settings makes new scores, and the cache of older ones is pruned with their model). The
    features are cached for the `explained` people only (all by default): those a plan on
    these scores may choose, and so explain (`explain_chosen`; the ask-ready)."""
    from karmabank.actions.issues import find_issue

    directory = last.snapshot(store).columns.dir
    issue_id = find_issue(store=store, ref=issue).id if issue else None
    cached = cache.cached_chances(directory, last.token, issue_id, planning.CHANCE_SCHEMA)
    found = _cached_model(directory, last.token, issue_id) if cached is not None else None
    if cached is not None and found is not None:
        note = refit.model_note(found, last.scored_at)
        return PlanLikelihood(cached, None, None, (directory, last.token, issue_id), note)
    model, feats = likelihood_inputs(store=store, now=now, settings=settings, issue=issue)
    likely = planning.chance_of(model, feats)
    kept = feats if explained is None else feats.filter(
        pc.is_in(feats["person_id"], value_set=pa.array(np.asarray(explained, np.int64)))
    )  # fmt: skip
    cache.cache_features(directory, last.token, issue_id, kept)
    cache.cache_chances(directory, last.token, issue_id, likely)  # last: it says "all cached"
    return PlanLikelihood(likely, model, feats, note=refit.model_note(model, last.scored_at))


def explain_chosen(
    *, store: Store, now: datetime, settings: MeasureSettings, issue: str | None,
    known: PlanLikelihood, people: list[int],
) -> dict[int, str]:  # fmt: skip
    """`planning.whys_of` for `people`: from everyone's features when they were computed,
    else from those cached with everyone's likelihood, else from theirs alone."""
    if not people:
        return {}
    model, feats = known.model, known.feats
    if model is None or feats is None:
        model, feats = _cached_inputs(known, people) or likelihood_inputs(
            store=store, now=now, settings=settings, issue=issue, people=people
        )
    return planning.whys_of(model, feats, people, settings.likelihood.parts)


def _cached_inputs(
    known: PlanLikelihood, people: list[int]
) -> tuple[lk.LikelihoodModel, pa.Table] | None:
    """The model and `people`'s features cached beside the likelihood `known` was read from,
    if both are there and readable: the values it was computed from (0.2 s at higgs size to
    compute again for three people)."""
    if known.cached_in is None:
        return None
    model = _cached_model(*known.cached_in)
    feats = cache.cached_features(*known.cached_in, people)
    if model is None or feats is None:
        return None
    held = pc.is_in(pa.array(people, pa.int64()), value_set=feats["person_id"])
    return (model, feats) if pc.all(held).as_py() else None  # someone not kept: computed
