"""Who may be one person: a Fellegi–Sunter model in splink over persons and their identities.

Pure: an Arrow table of persons in (`features.PERSONS_SCHEMA`), candidate pairs out, on a private
in-memory DuckDB (splink's DuckDB backend) or, with the same settings, on splink's Spark backend
(`backends.py`: the conditions below are transpiled). No database, no clock.

The model (`comparisons`) compares four fields, each with a handful of levels:
- **name** (folded, diacritics and nicknames too): the same name as written, and the same name
  once nicknames are resolved (Bob/Robert); an initial and the surname (one side an initial:
  "R." ~ "Robert", and "R." ~ "Bob"); the first name alone (one side has no surname), each
  with term-frequency adjustment (two "Maria Garcia" are weak evidence, two "Ngozi Okafor"
  strong; "R. Garcia" ~ "Robert Garcia" weaker than "R. Okafor" ~ "Rosa Okafor"); the surname
  with two first names that differ (Luca ~ Leila), which weighs against;
- **handle**: a handle or email local part in common (stems: letters and digits, folded), the
  strongest when no one else holds it (`features.RARE_HANDLE`), whether or not it is made of
  the name; handles alike but for their digits; one side's handle made of the other's uncommon
  name (`rsmith`, `robsmith`) when the surnames do not already agree. One field, so a shared
  handle made of the name counts once, and a handle made of a name both share counts nothing;
  every handle in common made of both names while the names differ (`lobrien` of Luca and
  Leila O'Brien) is weak (+1.6 bits, `FIXED_U`), however rare;
- **domain**: a website, a Bluesky handle that is a domain, a non-free email domain in common
  (the strongest when no one else holds it);
- **platform**: whether both hold an identity on one platform (`features.ONE_PER_PERSON`: two
  emails, two GitHub accounts), which people do, but far less often than strangers.
The m probabilities (how often a true pair agrees at each level) are priors written here, fixed:
they say what each level means whatever the network, and a small network trains nothing badly.
The u probabilities (how often two strangers do) are estimated by splink's seeded random
sampling, from priors (`U_PRIORS`) where its sample has no such pair; a handle or domain no one
else holds has a fixed u (`RARE_HANDLE_U`). The prior that two random persons are one comes
from `LinkageSettings.duplicates_per_person`. Against splink's defaults trained by EM on the
same world (`bench/identity_bench.py`): at p >= 0.99 those find 15% of true pairs, this 37-40%,
both at precision >= 0.99. Pairs are only compared within blocks (`blocking_rules`) of at most
`LinkageSettings.max_block` persons, so a million persons take about a minute and a half of CPU.

Then the hard rules, after the model: a bot is never paired with a human, nor a team member with
a non-team person; a pair where both hold an identity on one platform (two emails) is `review`
only, however high its probability; `auto` needs `auto_min_probability` (conservative, see
`measures/settings.py`), `review` `review_min_probability`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from karmabank.measures.engines import DUCKDB, SqlEngine
from karmabank.measures.identity.backends import LinkageBackend, linkage_backend
from karmabank.measures.identity.features import features
from karmabank.measures.settings import LinkageSettings

if TYPE_CHECKING:
    from splink.internals.comparison_creator import ComparisonCreator

Level = tuple[str, str, float, str | None]  # label, SQL condition, m probability, tf column
# u of a handle (or a domain) in common that no one else holds: two strangers choosing one
# handle out of all there are. Not estimated: random sampling cannot tell such pairs from true
# ones (on the 4,000-person test world it gave 3.5e-5, nearly all of them true pairs); a value
# instead, whose precision `bench/identity_bench.py` measures (docs/benchmarks.md)
RARE_HANDLE_U = 1e-7
# u priors, which the random sampling replaces wherever its sample has such a pair (a small
# network may have none): what it estimated on the 4,000-person test world
U_PRIORS: dict[str, float] = {
    "same name": 3e-4, "same name, nicknames resolved": 1.2e-4, "initial and surname": 3.3e-4,
    "first name alone agrees": 5e-3, "a handle in common": 5e-5,
    "handles alike but for digits": 3.7e-3, "a handle is made of the other's name": 8e-5,
    "a domain in common": 1e-3, "no platform both hold an identity on": 0.6,
}  # fmt: skip
# levels whose u is fixed, not estimated: what it is *given* what the other fields already say.
# A handle made of both names, which differ, is what strangers of such names pick often too
# (about one pair in five picks the same of the few forms, a person across platforms three in
# five): m / u = 3, about 1.6 bits, however rare the handle. Two first names that differ with
# one surname weigh against in every network: u is what random sampling found on the test
# world (a small network's sample may have one such pair, or none), three times m
FIXED_U: dict[str, float] = {
    "a handle made of both names, which differ": 0.001,
    "surname agrees, first names differ": 0.006,
}


def _null(cond: str) -> dict[str, Any]:
    return {"sql_condition": cond, "label_for_charts": "missing", "is_null_level": True}


# an initial on one side ("R. Smith"), the same initial as the other's first name as written
# or once nicknames are resolved ("R." ~ "Bob", short for Robert); two full first names that
# differ are not "initial and surname" (Luca ~ Leila), however alike their initials. Its m
# took what the surname level gave up (0.12 + 0.018): the pairs R. ~ Bob moved into it, and the
# "disagrees" level keeps the m it had
_INITIAL_AND_SURNAME = (
    "last_l = last_r AND (length(first_l) = 1 OR length(first_r) = 1) AND "
    "(initial_l = initial_r OR left(first_l, 1) = left(first_r, 1))"
)
NAME_LEVELS: tuple[Level, ...] = (
    ("same name", "name_raw_l = name_raw_r", 0.5, "name_raw"),
    ("same name, nicknames resolved", "name_full_l = name_full_r", 0.2, "name_full"),
    ("initial and surname", _INITIAL_AND_SURNAME, 0.138, "initial_last"),
    ("first name alone agrees", "first_l = first_r AND (last_l IS NULL OR last_r IS NULL)",
     0.08, "first"),
    # what is left of a surname in common: two first names that differ (siblings, spouses);
    # a true pair rarely shows that (a nickname the table lacks), strangers often: it weighs
    # against (`FIXED_U`: about -1.6 bits)
    ("surname agrees, first names differ", "last_l = last_r", 0.002, None),
)  # fmt: skip
# the names agree at one of the levels above the last (or a side has none): not "differ"
_NAMES_DIFFER = (
    "NOT coalesce(name_full_l = name_full_r OR "
    f"({_INITIAL_AND_SURNAME}) OR "
    "(first_l = first_r AND (last_l IS NULL OR last_r IS NULL)), false)"
)
_FROM_NAME = "list_has_any(handles_l, name_forms_r) OR list_has_any(handles_r, name_forms_l)"
_FROM_OTHER = (  # one side's handle is made of the other's (uncommon) name, not of its own
    "(list_has_any(handles_l, rare_forms_r) AND NOT list_has_any(handles_l, name_forms_l)) OR "
    "(list_has_any(handles_r, rare_forms_l) AND NOT list_has_any(handles_r, name_forms_r))"
)
# one field, so a handle in common that is also made of the name is not counted twice
_RARE = "list_has_any(rare_handles_l, rare_handles_r)"
# every handle in common is made of both names (`lobrien` of Luca and of Leila O'Brien,
# `danielk` of Daniel Kelly and Daniel Kaur) while the names differ: what strangers of such
# names pick as readily as one person does across platforms, so weak (`FIXED_U`)
_BOTH_NAMES = (
    "list_has_any(handles_l, handles_r) AND array_length(list_filter("
    "array_intersect(handles_l, handles_r), lambda h: NOT (list_contains(name_forms_l, h) AND "
    f"list_contains(name_forms_r, h)))) = 0 AND {_NAMES_DIFFER}"
)
HANDLE_LEVELS: tuple[Level, ...] = (
    ("a handle made of both names, which differ", _BOTH_NAMES, 0.003, None),
    ("a handle no one else has in common", f"{_RARE} AND NOT ({_FROM_NAME})", 0.3, None),
    ("a handle no one else has in common, made of the name", _RARE, 0.2, None),
    ("a handle in common", "list_has_any(handles_l, handles_r)", 0.05, None),
    ("handles alike but for digits", "list_has_any(handle_roots_l, handle_roots_r)", 0.1, None),
    # only when the surnames do not already agree: given the same name, a handle made of it
    # is what anyone of that name picks (measured: 76 strangers to 51 true pairs)
    ("a handle is made of the other's name",
     f"({_FROM_OTHER}) AND NOT coalesce(last_l = last_r, false)", 0.08, None),
)  # fmt: skip
_RARE_DOMAIN = "list_has_any(rare_domains_l, rare_domains_r)"
DOMAIN_LEVELS: tuple[Level, ...] = (
    ("a domain no one else has in common", _RARE_DOMAIN, 0.8, None),
    ("a domain in common", "list_has_any(domains_l, domains_r)", 0.1, None),
)
# two persons who each hold an identity on one platform (two emails, two GitHub accounts): people
# do have two, but far fewer than strangers do (on the test world no one does), so it weighs
# against, and never `auto` (`_decide`)
PLATFORM_LEVELS: tuple[Level, ...] = (
    ("no platform both hold an identity on", "NOT list_has_any(platforms_l, platforms_r)", 0.9,
     None),
)  # fmt: skip
CONFLICT = "both hold an identity on one platform"
ELSE_LABELS = {"platform": CONFLICT}  # a field's last level, when not "disagrees"


def _empty(*lists: str) -> str:
    """Any of these lists is empty (`array_length`: DuckDB's and, transpiled, Spark's)."""
    return " OR ".join(f"array_length({name}) = 0" for name in lists)


FIELDS: tuple[tuple[str, str, tuple[Level, ...]], ...] = (
    ("name", "first_l IS NULL OR first_r IS NULL", NAME_LEVELS),
    ("handle",
     f"({_empty('handles_l', 'handles_r')}) AND ({_empty('handles_l', 'name_forms_r')}) AND "
     f"({_empty('handles_r', 'name_forms_l')})", HANDLE_LEVELS),
    ("domain", _empty("domains_l", "domains_r"), DOMAIN_LEVELS),
    ("platform", _empty("platforms_l", "platforms_r"), PLATFORM_LEVELS),
)  # fmt: skip


def comparisons(
    condition: Callable[[str], str] = str, trained: Mapping[tuple[str, str], float] | None = None
) -> list[ComparisonCreator | dict[str, Any]]:
    """The model's comparisons as splink comparison dicts (levels in decreasing agreement),
    each condition through `condition` (DuckDB's dialect -> the backend's), with the u
    probabilities `trained` gives by (field, level label), if any (`trained_u`)."""
    out: list[ComparisonCreator | dict[str, Any]] = []
    for name, null, levels in FIELDS:
        rest = 1.0 - sum(m for _, _, m, _ in levels)
        dicts = [_null(condition(null))]
        for label, cond, m, tf in levels:
            level: dict[str, Any] = {"sql_condition": condition(cond), "label_for_charts": label,
                                     "m_probability": m, "fix_m_probability": True}  # fmt: skip
            if tf:
                level |= {"tf_adjustment_column": tf, "tf_adjustment_weight": 1.0}
                if cond != f"{tf}_l = {tf}_r":  # its own u, not an exact match's
                    level |= {"disable_tf_exact_match_detection": True}
            if label in U_PRIORS:
                level |= {"u_probability": U_PRIORS[label]}
            if (fixed := _fixed_u(label, cond)) is not None:
                level |= {"u_probability": fixed, "fix_u_probability": True}
            dicts.append(level)
        if name == "handle":  # a handle made of its own name, which the other shares: no more
            dicts.append(_null(condition(_FROM_NAME)))  # than the name says: no weight of its own
        u_rest = 1.0 - sum(U_PRIORS.get(label) or _fixed_u(label, cond) or RARE_HANDLE_U
                           for label, cond, *_ in levels)  # fmt: skip
        dicts.append({"sql_condition": "ELSE",
                      "label_for_charts": ELSE_LABELS.get(name, "disagrees"),
                      "m_probability": rest, "fix_m_probability": True,
                      "u_probability": u_rest})  # fmt: skip
        for level in dicts:
            if trained and (u := trained.get((name, level["label_for_charts"]))) is not None:
                level["u_probability"] = u
        out.append({"output_column_name": name, "comparison_levels": dicts})
    return out


def trained_u(lk: Any) -> dict[tuple[str, str], float]:
    """A trained linker's u probabilities by (field, level label): what `comparisons(trained=)`
    takes, so one model predicts the same on another backend."""
    return {
        (c.output_column_name, level.label_for_charts): float(level.u_probability)
        for c in lk._settings_obj.comparisons
        for level in c.comparison_levels
        if not level.is_null_level
    }


def _fixed_u(label: str, cond: str) -> float | None:
    if label in FIXED_U:
        return FIXED_U[label]
    return RARE_HANDLE_U if cond.startswith((_RARE, _RARE_DOMAIN)) else None


def level_labels() -> dict[str, dict[int, str]]:
    """Each field's comparison vector value (splink's gamma) -> its level's label."""
    labels = {}
    for name, _null_cond, levels in FIELDS:
        n = len(levels) + 1  # the non-null levels, `disagrees` included
        by = {-1: "missing", 0: ELSE_LABELS.get(name, "disagrees")}
        for i, (label, *_rest) in enumerate(levels):
            by[n - 1 - i] = label
        labels[name] = by
    return labels


def blocking_rules() -> list[Any]:
    """Which pairs are compared at all: a name, an initial and surname, a handle or name form,
    or a domain in common, each only where at most `LinkageSettings.max_block` persons hold it
    (`features`: a name thousands share pairs no one, and would pair millions)."""
    from splink import block_on

    return [
        block_on("block_name"),
        block_on("block_surname"),
        block_on("block_keys", arrays_to_explode=["block_keys"]),
        block_on("block_domains", arrays_to_explode=["block_domains"]),
    ]


@dataclass(frozen=True)
class Evidence:
    field: str
    level: str  # the level's label: "same name", "disagrees", "missing"...
    weight: float  # its match weight (log2 Bayes factor; term-frequency adjustment included)

    def as_json(self) -> dict[str, object]:
        return {"field": self.field, "level": self.level, "weight": round(self.weight, 3)}


@dataclass(frozen=True)
class Candidate:
    a: int  # the lower person id
    b: int
    probability: float
    match_weight: float
    evidence: tuple[Evidence, ...]
    action: str  # "auto" or "review"
    conflict: str | None  # a platform both hold an identity on (review only), if any


@contextmanager
def _quiet() -> Iterator[None]:
    """splink logs at INFO through the root logger's handlers; keep a run silent."""
    log = logging.getLogger("splink")
    level, log.level = log.level, logging.WARNING
    try:
        yield
    finally:
        log.setLevel(level)


def linker(
    table: pa.Table, *, settings: LinkageSettings, backend: LinkageBackend | None = None,
    trained: Mapping[tuple[str, str], float] | None = None,
) -> Any:  # fmt: skip
    """A trained splink Linker over `features(table)` on `backend` (default: a private
    DuckDB with no external access); with `trained` u probabilities, not trained again."""
    from splink import Linker, SettingsCreator

    feats = features(table, max_block=settings.max_block)
    backend = backend or linkage_backend(DUCKDB, settings)
    n = max(feats.num_rows, 2)
    prior = min(0.5, settings.duplicates_per_person * 2.0 / (n - 1))
    creator = SettingsCreator(
        link_type="dedupe_only",
        comparisons=comparisons(backend.condition, trained),
        blocking_rules_to_generate_predictions=blocking_rules(),
        probability_two_random_records_match=prior,
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=False,
        additional_columns_to_retain=["bot", "team", "platforms"],
    )
    with _quiet():
        lk = Linker(backend.api.register(feats), creator, log_level=None)
        if trained is None:
            # every chunk of the sample counted (no early stop once each level has been seen
            # 100 times): which chunk comes first is the backend's hash, so stopping early
            # would make DuckDB's u and Spark's differ on one sample
            lk.training.estimate_u_using_random_sampling(
                max_pairs=settings.u_sample_pairs, seed=settings.seed, min_count_per_level=None
            )
    return lk


def candidates(
    table: pa.Table, *, settings: LinkageSettings, engine: SqlEngine = DUCKDB,
    trained: Mapping[tuple[str, str], float] | None = None,
) -> list[Candidate]:  # fmt: skip
    """Every candidate pair at or above `review_min_probability`, with its evidence and action,
    the hard rules applied; most probable first. splink runs on `engine` (DuckDB in the
    process, or Spark: `backends.py`)."""
    if table.num_rows < 2:  # no pair (and nothing for splink to sample)
        return []
    backend = linkage_backend(engine, settings)
    try:
        lk = linker(table, settings=settings, backend=backend, trained=trained)
        return _predicted(lk, backend, settings)
    finally:
        backend.close()


def _predicted(lk: Any, backend: LinkageBackend, settings: LinkageSettings) -> list[Candidate]:
    with _quiet():
        pred = lk.inference.predict(threshold_match_probability=settings.review_min_probability)
    levels = _levels_by_weight(lk)
    weights = ", ".join(
        f"{levels[name]} AS gamma_{name}, mw_{name}"
        + (f" + coalesce(mw_tf_adj_{name}, 0)" if _has_tf(name) else "")
        + f" AS w_{name}"
        for name, _null, _levels in FIELDS
    )
    both = "array_intersect(platforms_l, platforms_r)"  # read only the columns needed
    kept = backend.arrow(
        f"""SELECT least(unique_id_l, unique_id_r) AS a, greatest(unique_id_l, unique_id_r) AS b,
                   match_probability, match_weight, {weights},
                   CASE WHEN array_length({both}) > 0 THEN array_sort({both})[1] END AS conflict
            FROM {pred.physical_name}
            WHERE bot_l = bot_r AND team_l = team_r
            ORDER BY match_probability DESC, a, b"""
    )
    pred.drop_table_from_database_and_remove_from_cache()
    return _decide(kept, settings=settings)


def _levels_by_weight(lk: Any) -> dict[str, str]:
    """Each field's level (splink's gamma) from its match weight, as SQL: the prediction keeps
    the weights but not the levels unless it keeps every compared column too (lists of each
    pair's handles and forms: gigabytes on a million persons). The trained levels' weights
    differ (different m or u); where two were equal, the more agreeing level would be named."""
    out = {}
    for comparison in lk._settings_obj.comparisons:
        whens = " ".join(
            f"WHEN mw_{comparison.output_column_name} = {float(level._match_weight)!r} "
            f"THEN {level.comparison_vector_value}"
            for level in comparison.comparison_levels
            if not level.is_null_level
        )
        out[comparison.output_column_name] = f"CASE {whens} ELSE -1 END"
    return out


def _has_tf(name: str) -> bool:
    return any(tf for _label, _cond, _m, tf in dict((f, lv) for f, _n, lv in FIELDS)[name])


def _decide(kept: pa.Table, *, settings: LinkageSettings) -> list[Candidate]:
    """The pairs as candidates: `auto` at `auto_min_probability` unless both hold an identity
    on one platform."""
    labels = level_labels()
    names = [name for name, _n, _l in FIELDS]
    cols = [kept.column(c).to_pylist() for c in ("a", "b", "match_probability", "match_weight",
                                                  "conflict")]  # fmt: skip
    gammas = [kept.column(f"gamma_{n}").to_pylist() for n in names]
    weights = [kept.column(f"w_{n}").to_pylist() for n in names]
    out = []
    for i, (a, b, p, w, conflict) in enumerate(zip(*cols, strict=True)):
        evidence = tuple(
            Evidence(n, labels[n][gammas[j][i]], float(weights[j][i])) for j, n in enumerate(names)
        )
        auto = p >= settings.auto_min_probability and conflict is None
        out.append(Candidate(int(a), int(b), float(p), float(w), evidence,
                             "auto" if auto else "review", conflict))  # fmt: skip
    return out
