"""Influence (Orbit's "gravity", PRODUCT.md §3), per issue: `warmth_pct × reach_pct × affinity`,
with the parts and one sentence that says why.

A person with no texts has an unknown affinity, not a zero one: their influence is
`warmth_pct × reach_pct` alone, `affinity` is null, `affinity_known` false, and the sentence says
"affinity unknown". (That ranks them as if they cared fully; the flag lets a caller decide.)

Each percentile is taken among the people its measure is about. Warmth is about the
relationship with us, so warmth_pct ranks a person among the people in a circle (everyone who
came toward us); someone in no circle has warmth_pct 0, whatever their warmth, and the sentence
says "in no circle". Reach is about the peer graph, so reach_pct ranks them among everyone in
the network. The sentence never says "100%": the single warmest is "the warmest of the N people
in a circle", the single most central "the most central in the network", and any other
percentage is rounded down (so at most 99%).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
    """0.925 -> "92": whole percent, rounded down (the sentence never overstates), at most 99
    (1.0 is said in words: "the warmest", "the most central")."""
    return pa.array(np.minimum(np.floor(pct * 100 + 1e-9), 99).astype(np.int64)).cast(pa.string())


def shown_percent(pct: float | None) -> str:
    """A percentile as a listing shows it: "92%" (rounded down, at most 99%), or "top" for
    the single highest (1.0). None: "—"."""
    if pct is None:
        return "—"
    return "top" if pct >= 1.0 else f"{min(int(np.floor(pct * 100 + 1e-9)), 99)}%"


def _warmth_words(
    pct: npt.NDArray[np.float64], in_circle: npt.NDArray[np.bool_], circled: int
) -> pa.Array:
    """The warmth half of the sentence, among the `circled` people in a circle."""
    top = (
        "the only person in a circle" if circled == 1
        else f"the warmest of the {circled:,} people in a circle"
    )  # fmt: skip
    ranked = pc.binary_join_element_wise(
        "warmer than ", _percent(pct), "% of the people in a circle", ""
    )
    return pc.if_else(
        pa.array(~in_circle), "in no circle (never came toward us)",
        pc.if_else(pa.array(pct >= 1.0), top, ranked),
    )  # fmt: skip


def _reach_words(pct: npt.NDArray[np.float64]) -> pa.Array:
    ranked = pc.binary_join_element_wise(
        "more central than ", _percent(pct), "% of the network", ""
    )
    return pc.if_else(pa.array(pct >= 1.0), "the most central in the network", ranked)


def _two_decimals(x: npt.NDArray[np.float64]) -> pa.Array:
    """0.7071 -> "0.71" (x in [0, 1])."""
    hundredths = np.rint(x * 100).astype(np.int64)
    whole = pa.array(hundredths // 100).cast(pa.string())
    frac = pc.utf8_lpad(pa.array(hundredths % 100).cast(pa.string()), width=2, padding="0")
    return pc.binary_join_element_wise(whole, frac, ".")


def _int64(values: pa.ChunkedArray | pa.Array) -> npt.NDArray[np.int64]:
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.int64)


def influence(
    scores: pa.Table, reach: pa.Table, affinity: pa.Table | None, issue_ids: Sequence[int],
    top: int | None = None,
) -> pa.Table:  # fmt: skip
    """Each scored person's influence on each issue (INFLUENCE_SCHEMA), issue by issue in the
    order of `issue_ids`, highest influence first (ties by person_id).

    `scores`: person_id, warmth (null = 0), circle (null: in no circle), one row per scored
    person: they are "the network".
    `reach`: person_id, reach (from `karmabank.graph.reach.reach`); people missing from it have
    reach 0. `affinity`: person_id, issue_id, affinity, terms (from
    `karmabank.measures.affinity.affinity`), or None when no one has texts.

    warmth_pct is `percentile_rank` among the people of `scores` in a circle (the fraction of
    the others in a circle strictly below; 0 for everyone in no circle), reach_pct among all
    the people of `scores`. With no issue, one row per person: influence = warmth_pct ×
    reach_pct, issue_id and affinity null, affinity_known false.

    `top`: keep only each issue's first `top` rows, known affinity first, then by influence
    (ties by person_id): whoever is among the `top` people of the whole network, on their best
    issue, is among them. The sentences are written for those rows only."""
    net = _Network.of(scores, reach, top)
    if not issue_ids:
        return _without_issue(net)
    if affinity is None:
        affinity = pa.table(
            {
                "person_id": pa.array([], pa.int64()),
                "issue_id": pa.array([], pa.int64()),
                "affinity": pa.array([], pa.float64()),
                "terms": pa.array([], pa.string()),
            }
        )
    has_texts = np.isin(net.person, _int64(affinity["person_id"]))
    # one step per issue, column-wise over people
    return pa.concat_tables([_for_issue(net, i, affinity, has_texts) for i in issue_ids])


@dataclass(frozen=True)
class _Network:
    """Everyone of `scores` with their warmth and reach percentiles (`influence`'s docstring)."""

    person: npt.NDArray[np.int64]
    warmth_pct: npt.NDArray[np.float64]
    reach_pct: npt.NDArray[np.float64]
    in_circle: npt.NDArray[np.bool_]
    circled: int  # people in a circle
    top: int | None

    @classmethod
    def of(cls, scores: pa.Table, reach: pa.Table, top: int | None) -> _Network:
        person = _int64(scores["person_id"])
        ordered = np.sort(person)  # (numpy's hash-based unique takes 0.9 s on a million)
        if (ordered[1:] == ordered[:-1]).any():
            raise ValueError("influence: duplicate person_id in scores")
        warmth = np.asarray(pc.fill_null(scores["warmth"], 0.0).to_numpy(), dtype=np.float64)
        in_circle = np.asarray(pc.is_valid(scores["circle"]).to_numpy(zero_copy_only=False), bool)
        warmth_pct = np.zeros(person.size, dtype=np.float64)
        warmth_pct[in_circle] = percentile_rank(warmth[in_circle])
        at, found = _lookup(person, _int64(reach["person_id"]))
        reach_value = np.asarray(pc.fill_null(reach["reach"], 0.0).to_numpy(), dtype=np.float64)
        reach_pct = percentile_rank(
            np.where(found, reach_value[at] if reach.num_rows else 0.0, 0.0)
        )
        return cls(person, warmth_pct, reach_pct, in_circle, int(in_circle.sum()), top)

    @property
    def base(self) -> npt.NDArray[np.float64]:
        """Influence without affinity: warmth_pct × reach_pct."""
        return self.warmth_pct * self.reach_pct

    def kept(
        self, known: npt.NDArray[np.bool_], value: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.int64]:
        """The rows `top` keeps (all of them without `top`), known first, then by `value`."""
        n = self.person.size
        if self.top is None or self.top >= n:
            return np.arange(n)
        return _first(known, value, self.person, self.top)

    def head(self, rows: npt.NDArray[np.int64]) -> pa.Array:
        """The warmth and reach half of the sentence, for `rows`."""
        return pc.binary_join_element_wise(
            _warmth_words(self.warmth_pct[rows], self.in_circle[rows], self.circled),
            _reach_words(self.reach_pct[rows]), " and ",
        )  # fmt: skip


def _without_issue(net: _Network) -> pa.Table:
    """One row per person: influence = warmth_pct × reach_pct, no affinity."""
    base = net.base
    rows = net.kept(np.zeros(net.person.size, dtype=bool), base)
    return _sorted(
        {
            "person_id": net.person[rows],
            "issue_id": pa.nulls(rows.size, pa.int64()),
            "influence": base[rows],
            "warmth_pct": net.warmth_pct[rows],
            "reach_pct": net.reach_pct[rows],
            "affinity": pa.nulls(rows.size, pa.float64()),
            "affinity_known": np.zeros(rows.size, dtype=bool),
            "terms": pa.nulls(rows.size, pa.string()),
            "why": net.head(rows),
        }
    )


def _for_issue(
    net: _Network, issue_id: int, affinity: pa.Table, has_texts: npt.NDArray[np.bool_]
) -> pa.Table:
    """Everyone's influence on one issue: the base times their affinity, where it is known."""
    issue = affinity.filter(pc.equal(affinity["issue_id"], issue_id))
    at, known = _lookup(net.person, _int64(issue["person_id"]))
    value = pa.nulls(net.person.size, pa.float64())
    if issue.num_rows:
        value = issue["affinity"].take(at)
    known &= np.asarray(pc.is_valid(value).to_numpy(zero_copy_only=False), dtype=bool)
    aff = np.where(known, np.asarray(pc.fill_null(value, 0.0).to_numpy()), np.nan)
    score = net.base * np.where(known, aff, 1.0)
    rows = net.kept(known, score)
    known_rows = known[rows]
    terms = pa.nulls(rows.size, pa.string())
    if issue.num_rows:
        terms = issue["terms"].take(at[rows])
    terms = pc.if_else(pa.array(known_rows), pc.fill_null(terms, ""), pa.scalar(None, pa.string()))
    writes = pc.if_else(
        pc.equal(terms, ""),
        "writes about none of its terms",
        pc.binary_join_element_wise("writes about ", terms, ""),
    )
    said = pc.binary_join_element_wise(
        writes, " (affinity ", _two_decimals(np.where(known_rows, aff[rows], 0.0)), ")", ""
    )
    unknown = pc.if_else(pa.array(has_texts[rows]), NOT_SCORED, NO_TEXTS)
    return _sorted(
        {
            "person_id": net.person[rows],
            "issue_id": np.full(rows.size, issue_id, dtype=np.int64),
            "influence": score[rows],
            "warmth_pct": net.warmth_pct[rows],
            "reach_pct": net.reach_pct[rows],
            "affinity": pa.array(aff[rows], pa.float64(), mask=~known_rows),
            "affinity_known": known_rows,
            "terms": terms,
            "why": pc.binary_join_element_wise(
                net.head(rows), pc.if_else(pa.array(known_rows), said, unknown), "; "
            ),
        }
    )


def _first(
    known: npt.NDArray[np.bool_], value: npt.NDArray[np.float64],
    person: npt.NDArray[np.int64], k: int,
) -> npt.NDArray[np.int64]:  # fmt: skip
    """The rows of the first `k` by known first, then value (high first), then person: a
    partition finds each tier's candidates, and only they are sorted."""
    chosen: list[npt.NDArray[np.int64]] = []
    for tier in (known, ~known):
        rows = np.flatnonzero(tier)
        if k <= 0 or rows.size == 0:
            continue
        if rows.size > k:  # whoever ties the k-th value stays: ties go by person
            v = value[rows]
            rows = rows[v >= np.partition(v, rows.size - k)[rows.size - k]]
        rows = rows[np.lexsort((person[rows], -value[rows]))][:k]
        chosen.append(rows)
        k -= rows.size
    return np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)


def _sorted(columns: dict[str, object]) -> pa.Table:
    table = pa.table(columns, schema=INFLUENCE_SCHEMA)
    return table.sort_by([("influence", "descending"), ("person_id", "ascending")])
