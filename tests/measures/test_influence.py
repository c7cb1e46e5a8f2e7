"""Influence per issue: warmth_pct × reach_pct × affinity, with unknown affinity said as such."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from karmabank.graph.reach import reach
from karmabank.measures.affinity import IssueText, affinity
from karmabank.measures.influence import INFLUENCE_SCHEMA, influence


def scores(outside: tuple[int, ...] = (), **warmth: float | None) -> pa.Table:
    """A scores table from p<id>=warmth keywords: everyone in a circle but the `outside` ids."""
    ids = [int(k[1:]) for k in warmth]
    return pa.table(
        {
            "person_id": pa.array(ids, pa.int64()),
            "warmth": pa.array(list(warmth.values()), pa.float64()),
            "circle": pa.array([None if i in outside else "friends" for i in ids], pa.string()),
        }
    )


def reaches(**value: float) -> pa.Table:
    return pa.table(
        {
            "person_id": pa.array([int(k[1:]) for k in value], pa.int64()),
            "reach": pa.array(list(value.values()), pa.float64()),
        }
    )


def affinities(*rows: tuple[int, int, float | None, str | None]) -> pa.Table:
    """(person_id, issue_id, affinity, terms) rows."""
    return pa.table(
        {
            "person_id": pa.array([r[0] for r in rows], pa.int64()),
            "issue_id": pa.array([r[1] for r in rows], pa.int64()),
            "affinity": pa.array([r[2] for r in rows], pa.float64()),
            "terms": pa.array([r[3] for r in rows], pa.string()),
        }
    )


def of_issue(table: pa.Table, issue_id: int | None) -> list[dict[str, Any]]:
    return [r for r in table.to_pylist() if r["issue_id"] == issue_id]


# Six people (percentiles are k/5: the fraction of the 5 others strictly below):
#   warmth  p6 0 < p3 1 < p5 5 < p1 = p2 = p4 10   -> 0, 1/5, 2/5, 3/5 3/5 3/5
#   reach   p5 (absent: 0) = p6 0 < p4 7 < p1 = p2 8 < p3 9  -> 0 0, 2/5, 3/5 3/5, 1
# Issue 1 (river): p1 writes about it (1.0), p2 about something else (0.0), p3 is cold but
# writes about it (0.5), p5 a little (0.2), p6 nothing relevant (0.0), p4 has no texts.
SCORES = scores(p1=10, p2=10, p3=1, p4=10, p5=5, p6=0)
REACH = reaches(p1=8, p2=8, p3=9, p4=7, p6=0)
AFFINITY = affinities(
    (1, 1, 1.0, "river, cleanup"), (2, 1, 0.0, ""), (3, 1, 0.5, "river"), (5, 1, 0.2, "cleanup"),
    (6, 1, 0.0, ""),
    (1, 2, 0.0, ""), (2, 2, 1.0, "cats"), (3, 2, 0.0, ""), (5, 2, 0.0, ""), (6, 2, 0.3, "dogs"),
)  # fmt: skip


def test_the_issue_s_bar_worked_by_hand() -> None:
    result = of_issue(influence(SCORES, REACH, AFFINITY, [1, 2]), 1)
    got = [(r["person_id"], r["influence"]) for r in result]
    assert got == [
        (1, pytest.approx(3 / 5 * 3 / 5 * 1.0)),  # 0.36: warm, central, writes about it
        (4, pytest.approx(3 / 5 * 2 / 5)),  # 0.24: unknown affinity counts as not known
        (3, pytest.approx(1 / 5 * 1 * 0.5)),  # 0.10: cold, writes about it
        (2, 0.0),  # as warm and central as 1, writes about something else
        (5, 0.0),  # at the bottom of reach
        (6, 0.0),
    ]
    p1, p4, p3, p2 = result[:4]
    assert (p1["warmth_pct"], p1["reach_pct"], p1["affinity"]) == (0.6, 0.6, 1.0)
    assert (p2["warmth_pct"], p2["reach_pct"], p2["affinity"]) == (0.6, 0.6, 0.0)
    assert (p3["warmth_pct"], p3["reach_pct"]) == (0.2, 1.0)
    assert p1["why"] == (
        "warmer than 60% of the people in a circle and more central than 60% of the network; "
        "writes about river, cleanup (affinity 1.00)"
    )
    assert p3["why"] == (
        "warmer than 20% of the people in a circle and the most central in the network; "
        "writes about river (affinity 0.50)"
    )
    assert p2["why"] == (
        "warmer than 60% of the people in a circle and more central than 60% of the network; "
        "writes about none of its terms (affinity 0.00)"
    )
    assert p2["terms"] == "" and p2["affinity_known"] is True


def test_unknown_affinity_is_null_not_zero_and_the_why_says_so() -> None:
    p4 = next(r for r in influence(SCORES, REACH, AFFINITY, [1]).to_pylist() if r["person_id"] == 4)
    assert p4 == {
        "person_id": 4, "issue_id": 1, "influence": pytest.approx(0.24), "warmth_pct": 0.6,
        "reach_pct": 0.4, "affinity": None, "affinity_known": False, "terms": None,
        "why": "warmer than 60% of the people in a circle and more central than 40% of the "
               "network; "
               "affinity unknown: no texts from them",
    }  # fmt: skip


def test_issues_come_in_the_order_given_each_ranked_by_influence() -> None:
    result = influence(SCORES, REACH, AFFINITY, [2, 1])
    assert result.column("issue_id").to_pylist() == [2] * 6 + [1] * 6
    pets = of_issue(result, 2)
    assert [r["person_id"] for r in pets] == [2, 4, 1, 3, 5, 6]
    assert pets[0]["why"].endswith("writes about cats (affinity 1.00)")
    assert result.schema == INFLUENCE_SCHEMA


def test_a_person_with_texts_not_scored_for_an_issue() -> None:
    result = of_issue(influence(SCORES, REACH, AFFINITY, [3]), 3)
    why = {r["person_id"]: r["why"] for r in result}
    assert why[1].endswith("affinity unknown: not scored for this issue")
    assert why[4].endswith("affinity unknown: no texts from them")
    assert all(r["affinity"] is None for r in result)


def test_no_affinity_at_all_leaves_warmth_and_reach() -> None:
    result = influence(SCORES, REACH, None, [1])
    got = {r["person_id"]: r["influence"] for r in result.to_pylist()}
    assert got == pytest.approx({1: 0.36, 2: 0.36, 3: 0.2, 4: 0.24, 5: 0.0, 6: 0.0})
    assert set(result.column("affinity_known").to_pylist()) == {False}
    assert all(
        r["why"].endswith("affinity unknown: no texts from them") for r in result.to_pylist()
    )


def test_no_issues_gives_one_row_per_person() -> None:
    result = influence(SCORES, REACH, AFFINITY, [])
    rows = result.to_pylist()
    assert [r["person_id"] for r in rows] == [1, 2, 4, 3, 5, 6]
    assert [r["influence"] for r in rows] == pytest.approx([0.36, 0.36, 0.24, 0.2, 0.0, 0.0])
    assert {(r["issue_id"], r["affinity"], r["terms"], r["affinity_known"]) for r in rows} == {
        (None, None, None, False)
    }
    assert (
        rows[0]["why"]
        == "warmer than 60% of the people in a circle and more central than 60% of the network"
    )


def test_people_missing_from_reach_have_reach_zero_and_null_warmth_is_zero() -> None:
    result = influence(scores(p1=None, p2=4.0), reaches(p2=3.0, p9=100.0), None, [])
    got = {r["person_id"]: (r["warmth_pct"], r["reach_pct"]) for r in result.to_pylist()}
    assert got == {1: (0.0, 0.0), 2: (1.0, 1.0)}  # p9 is not scored: not in the network


def test_percentages_are_rounded_down() -> None:
    # four people: percentiles 0, 1/3, 2/3, 1
    result = influence(scores(p1=1, p2=2, p3=3, p4=4), reaches(p1=1, p2=2, p3=3, p4=4), None, [])
    why = {r["person_id"]: r["why"] for r in result.to_pylist()}
    assert (
        why[3]
        == "warmer than 66% of the people in a circle and more central than 66% of the network"
    )
    assert (
        why[2]
        == "warmer than 33% of the people in a circle and more central than 33% of the network"
    )


def test_duplicate_people_in_scores_are_a_bug() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        influence(scores(p1=1.0).take([0, 0]), REACH, None, [])


def test_end_to_end_from_edges_and_texts() -> None:
    # 1 and 2 are symmetric in the peer graph (3 and 4 reply to both) and equally warm;
    # 1 writes about the river, 2 about pets, 3 (cold) about the river, 4 nothing
    edges = pa.table(
        {
            "src": pa.array([3, 3, 4, 4], pa.int64()),
            "dst": pa.array([1, 2, 1, 2], pa.int64()),
            "weight": pa.array([None] * 4, pa.float64()),
        }
    )
    texts = pa.table(
        {
            "person_id": pa.array([1, 1, 2, 3], pa.int64()),
            "text": ["Cleaned the river again", "river cleanup on Sunday", "My cats", "the river!"],
        }
    )
    river = IssueText(1, "River", ("river", "cleanup"))
    result = influence(
        scores(p1=10, p2=10, p3=1, p4=5), reach(edges), affinity(texts, [river]), [1]
    ).to_pylist()
    assert [r["person_id"] for r in result][:1] == [1]
    by = {r["person_id"]: r for r in result}
    assert by[1]["influence"] > by[2]["influence"] == 0.0
    assert by[1]["influence"] > by[3]["influence"]
    assert by[1]["terms"] == "cleanup, river"  # cleanup is rarer (only 1 uses it): more weight
    assert by[4]["affinity_known"] is False


def test_top_keeps_every_issue_s_first_rows_as_the_full_table_has_them() -> None:
    """`top` writes the sentences of each issue's first rows only: they must be exactly the
    full table's, in the same order, known affinity first; and each person's best issue among
    them gives the same network top as the full table does."""
    rng = np.random.default_rng(7)
    n = 300
    people = np.arange(1, n + 1, dtype=np.int64)
    scores = pa.table({"person_id": people, "warmth": rng.integers(0, 20, n).astype(float),
                       "circle": pa.array(["friends"] * n)})  # fmt: skip
    reached = pa.table({"person_id": people, "reach": rng.integers(0, 10, n).astype(float)})
    texts = rng.random(n) < 0.6
    affinity = pa.Table.from_pylist(
        [{"person_id": int(p), "issue_id": i, "affinity": float(rng.integers(0, 5)) / 4,
          "terms": "river"} for p in people[texts] for i in (1, 2)]
    )  # fmt: skip
    full = influence(scores, reached, affinity, [1, 2])
    for top in (1, 5, 40):
        cut = influence(scores, reached, affinity, [1, 2], top=top)
        for issue in (1, 2):
            mine = cut.filter(pc.equal(cut["issue_id"], issue))
            theirs = full.filter(pc.equal(full["issue_id"], issue)).sort_by(
                [("affinity_known", "descending"), ("influence", "descending"),
                 ("person_id", "ascending")]
            ).slice(0, top)  # fmt: skip
            assert mine.num_rows == top
            assert mine.sort_by([("affinity_known", "descending"), ("influence", "descending"),
                                 ("person_id", "ascending")]).equals(theirs)  # fmt: skip
        assert _network_top(cut, top) == _network_top(full, top)
    alone = influence(scores, reached, None, [], top=3)
    assert (
        alone.column("person_id").to_pylist()
        == (influence(scores, reached, None, []).column("person_id").to_pylist()[:3])
    )


def _network_top(table: pa.Table, limit: int) -> list[tuple[int, int]]:
    """(person, issue) of the `limit` most influential people, each on their best issue, as the
    influencers command ranks them."""
    best: dict[int, tuple[bool, float, int]] = {}
    for r in table.to_pylist():
        key = (r["affinity_known"], r["influence"], -r["issue_id"])
        if r["person_id"] not in best or key > best[r["person_id"]]:
            best[r["person_id"]] = key
    ranked = sorted(best.items(), key=lambda kv: (not kv[1][0], -kv[1][1], kv[0]))
    return [(p, -k[2]) for p, k in ranked[:limit]]


def test_warmth_is_ranked_among_the_people_in_a_circle_only() -> None:
    # p1..p4 in a circle, warmth 8 > 4 > 2 > 1; p5..p10 never came toward us. p4, the coldest
    # in a circle, is the most central: ranked among all ten, p4 would be second.
    warmth = {"p1": 8.0, "p2": 4.0, "p3": 2.0, "p4": 1.0, **{f"p{i}": 0.0 for i in range(5, 11)}}
    reach_of = {"p1": 1, "p2": 2, "p5": 3, "p6": 4, "p7": 5, "p8": 6, "p9": 7, "p3": 8, "p4": 9}
    result = influence(
        scores(outside=(5, 6, 7, 8, 9, 10), **warmth), reaches(**reach_of, p10=0), None, []
    ).to_pylist()
    assert [r["person_id"] for r in result] == [3, 2, 1, 4, 5, 6, 7, 8, 9, 10]
    by = {r["person_id"]: r for r in result}
    assert [by[i]["warmth_pct"] for i in (1, 2, 3, 4, 5)] == pytest.approx([1, 2 / 3, 1 / 3, 0, 0])
    assert by[1]["why"] == (
        "the warmest of the 4 people in a circle and more central than 11% of the network"
    )
    assert by[3]["why"] == (
        "warmer than 33% of the people in a circle and more central than 88% of the network"
    )
    assert by[4]["why"] == (
        "warmer than 0% of the people in a circle and the most central in the network"
    )
    assert by[5]["why"] == (
        "in no circle (never came toward us) and more central than 33% of the network"
    )
    alone = influence(scores(p1=3.0, p2=0.0, outside=(2,)), reaches(p1=1.0), None, [])
    assert alone.column("why").to_pylist()[0].startswith("the only person in a circle and ")
