"""Influence (Orbit's "gravity", PRODUCT.md §3), per issue: `warmth_pct × reach_pct × affinity`,
with the parts and one sentence that says why.

A person with no texts has an unknown affinity, not a zero one: their influence is
`warmth_pct × reach_pct` alone, `affinity` is null, `affinity_known` false, and the sentence says
"affinity unknown". (That ranks them as if they cared fully; the flag lets a caller decide.)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from karmabank.graph.reach import percentile_rank

INFLUENCE_SCHEMA = pa.schema(
    [
        ("person_id", pa.int64()),
        ("issue_id", pa.int64()),  # null when there is no issue
        ("influence", pa.float64()),
        ("warmth_pct", pa.float64()),
        ("reach_pct", pa.float64()),
        ("affinity", pa.float64()),  # null: unknown (no texts), or no issue
        ("affinity_known", pa.bool_()),
        ("terms", pa.string()),  # null when affinity is unknown
        ("why", pa.string()),
    ]
)
NO_TEXTS = "affinity unknown: no texts from them"
NOT_SCORED = "affinity unknown: not scored for this issue"


def _lookup(
    keys: npt.NDArray[np.int64], table_keys: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """For each of `keys`, its row in `table_keys` (the first of equal keys) and whether found."""
    order = np.argsort(table_keys, kind="stable")
    ordered = table_keys[order]
    at = np.searchsorted(ordered, keys)
    found = at < ordered.size
    found[found] = ordered[at[found]] == keys[found]
    return order[np.where(found, at, 0)] if ordered.size else np.zeros_like(keys), found


def _percent(pct: npt.NDArray[np.float64]) -> pa.Array:
    """0.925 -> "92": whole percent, rounded down (the sentence never overstates)."""
    return pa.array(np.floor(pct * 100 + 1e-9).astype(np.int64)).cast(pa.string())


def _two_decimals(x: npt.NDArray[np.float64]) -> pa.Array:
    """0.7071 -> "0.71" (x in [0, 1])."""
    hundredths = np.rint(x * 100).astype(np.int64)
    whole = pa.array(hundredths // 100).cast(pa.string())
    frac = pc.utf8_lpad(pa.array(hundredths % 100).cast(pa.string()), width=2, padding="0")
    return pc.binary_join_element_wise(whole, frac, ".")


def _int64(values: pa.ChunkedArray | pa.Array) -> npt.NDArray[np.int64]:
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.int64)


def influence(
    scores: pa.Table, reach: pa.Table, affinity: pa.Table | None, issue_ids: Sequence[int]
) -> pa.Table:
    """Each scored person's influence on each issue (INFLUENCE_SCHEMA), issue by issue in the
    order of `issue_ids`, highest influence first (ties by person_id).

    `scores`: person_id, warmth (null = 0), one row per scored person: they are "the network".
    `reach`: person_id, reach (from `karmabank.graph.reach.reach`); people missing from it have
    reach 0. `affinity`: person_id, issue_id, affinity, terms (from
    `karmabank.measures.affinity.affinity`), or None when no one has texts.

    warmth_pct and reach_pct are `percentile_rank` over the people in `scores` (the fraction of
    the others strictly below). With no issue, one row per person: influence = warmth_pct ×
    reach_pct, issue_id and affinity null, affinity_known false."""
    person = _int64(scores["person_id"])
    if np.unique(person).size != person.size:
        raise ValueError("influence: duplicate person_id in scores")
    warmth = np.asarray(pc.fill_null(scores["warmth"], 0.0).to_numpy(), dtype=np.float64)
    warmth_pct = percentile_rank(warmth)
    at, found = _lookup(person, _int64(reach["person_id"]))
    reach_value = np.asarray(pc.fill_null(reach["reach"], 0.0).to_numpy(), dtype=np.float64)
    reach_pct = percentile_rank(np.where(found, reach_value[at] if reach.num_rows else 0.0, 0.0))
    base = warmth_pct * reach_pct
    head = pc.binary_join_element_wise(
        "warmer than ", _percent(warmth_pct), "% and more central than ", _percent(reach_pct),
        "% of the network", "",
    )  # fmt: skip
    n = person.size

    if not issue_ids:
        return _sorted(
            {
                "person_id": person,
                "issue_id": pa.nulls(n, pa.int64()),
                "influence": base,
                "warmth_pct": warmth_pct,
                "reach_pct": reach_pct,
                "affinity": pa.nulls(n, pa.float64()),
                "affinity_known": np.zeros(n, dtype=bool),
                "terms": pa.nulls(n, pa.string()),
                "why": head,
            }
        )

    if affinity is None:
        affinity = pa.table(
            {
                "person_id": pa.array([], pa.int64()),
                "issue_id": pa.array([], pa.int64()),
                "affinity": pa.array([], pa.float64()),
                "terms": pa.array([], pa.string()),
            }
        )
    has_texts = np.isin(person, _int64(affinity["person_id"]))
    parts = []
    for issue_id in issue_ids:  # one step per issue, column-wise over people
        rows = affinity.filter(pc.equal(affinity["issue_id"], issue_id))
        at, known = _lookup(person, _int64(rows["person_id"]))
        value, terms = pa.nulls(n, pa.float64()), pa.nulls(n, pa.string())
        if rows.num_rows:
            value, terms = rows["affinity"].take(at), rows["terms"].take(at)
        known &= np.asarray(pc.is_valid(value).to_numpy(zero_copy_only=False), dtype=bool)
        aff = np.where(known, np.asarray(pc.fill_null(value, 0.0).to_numpy()), np.nan)
        terms = pc.if_else(pa.array(known), pc.fill_null(terms, ""), pa.scalar(None, pa.string()))
        writes = pc.if_else(
            pc.equal(terms, ""),
            "writes about none of its terms",
            pc.binary_join_element_wise("writes about ", terms, ""),
        )
        said = pc.binary_join_element_wise(
            writes, " (affinity ", _two_decimals(np.where(known, aff, 0.0)), ")", ""
        )
        unknown = pc.if_else(pa.array(has_texts), NOT_SCORED, NO_TEXTS)
        parts.append(
            _sorted(
                {
                    "person_id": person,
                    "issue_id": np.full(n, issue_id, dtype=np.int64),
                    "influence": base * np.where(known, aff, 1.0),
                    "warmth_pct": warmth_pct,
                    "reach_pct": reach_pct,
                    "affinity": pa.array(aff, pa.float64(), mask=~known),
                    "affinity_known": known,
                    "terms": terms,
                    "why": pc.binary_join_element_wise(
                        head, pc.if_else(pa.array(known), said, unknown), "; "
                    ),
                }
            )
        )
    return pa.concat_tables(parts)


def _sorted(columns: dict[str, object]) -> pa.Table:
    table = pa.table(columns, schema=INFLUENCE_SCHEMA)
    return table.sort_by([("influence", "descending"), ("person_id", "ascending")])
