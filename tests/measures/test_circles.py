"""Circles: warmth rank cut at ⌈share × N⌉, newcomer/observer overrides, the demotion hold."""

from __future__ import annotations

from collections import Counter

import pytest

from karmabank.frames import micros
from karmabank.measures.circles import sizes
from karmabank.measures.network import NetworkScores
from karmabank.measures.settings import CircleSettings
from tests.measures.helpers import (
    NOW_US,
    act,
    at,
    column,
    later,
    person,
    previous,
    previous_of,
    score,
)

DAY_US = 86_400_000_000


def ranked(n: int) -> list[dict[str, object]]:
    """People 1..n, each with two comments 40 and 50 days ago weighing their id: warmth grows
    with the id, so person n is first and person 1 last, at any later `now` too."""
    return [act(p, d, "comment", weight=float(p)) for p in range(1, n + 1) for d in (40, 50)]


def counts(result: NetworkScores) -> dict[str | None, int]:
    return dict(Counter(column(result, "circle").values()))


@pytest.mark.parametrize(
    ("n", "cuts"),
    [
        (1, (1, 1, 1)),
        (10, (1, 1, 4)),  # ⌈0.2⌉, ⌈1.0⌉ (no allies), ⌈3.5⌉
        (100, (2, 10, 35)),
        (101, (3, 11, 36)),  # ⌈2.02⌉, ⌈10.1⌉, ⌈35.35⌉
        (1000, (15, 100, 350)),  # core capped at 15
    ],
)
def test_cut_positions(n: int, cuts: tuple[int, int, int]) -> None:
    assert sizes(n, CircleSettings()) == cuts


def test_100_people_split_2_8_25_65() -> None:
    result = score(ranked(100))
    assert result.summary.ranked == 100
    assert result.summary.cuts == (2, 10, 35)
    assert counts(result) == {"core": 2, "allies": 8, "friends": 25, "acquaintances": 65}
    assert result.summary.by_circle == {"acquaintances": 65, "friends": 25, "allies": 8, "core": 2}
    circle, rank = column(result, "circle"), column(result, "warmth_rank")
    assert [circle[p] for p in (100, 99, 98, 91, 90, 66, 65, 1)] == [
        "core", "core", "allies", "allies", "friends", "friends", "acquaintances", "acquaintances"
    ]  # fmt: skip
    assert (rank[100], rank[99], rank[1]) == (1, 2, 100)


def test_core_is_capped_at_15_in_a_network_of_1000() -> None:
    result = score(ranked(1000))
    assert result.summary.cuts == (15, 100, 350)
    assert counts(result) == {"core": 15, "allies": 100 - 15, "friends": 250, "acquaintances": 650}
    circle = column(result, "circle")
    assert (circle[986], circle[985]) == ("core", "allies")


def test_equal_warmth_ranks_the_lower_id_first() -> None:
    rows = [act(p, d, "comment") for p in (7, 3, 5) for d in (40, 50)]
    result = score(rows)  # N = 3: core 1, allies 0, friends up to ⌈1.05⌉ = 2
    assert column(result, "warmth_rank") == {3: 1, 5: 2, 7: 3}
    assert column(result, "circle") == {3: "core", 5: "friends", 7: "acquaintances"}


def test_newcomers_and_observers_override_the_rank() -> None:
    rows = [
        *ranked(100),
        *[act(101, d, "organize", weight=1e3) for d in (1, 29.9)],  # the warmest, but new
        *[act(102, d, "like") for d in (100, 200, 300)],  # only likes
        act(102, 150, "follow", channel="mastodon"),
        act(103, 5, "like"),  # new and only a like: newcomer first
        act(104, 40, "thank", "give"),  # first seen 40 days ago (a give) ...
        *[act(104, d, "organize", weight=1e3) for d in (1, 2)],  # ... so ranked: core
        *[act(105, d, "organize", weight=1e3) for d in (1, 30)],  # first seen 30 days ago
        act(106, 31, "reply", "peer", target_id=1),  # first seen as a peer 31 days ago
        *[act(106, d, "organize", weight=1e3) for d in (1, 2)],
    ]
    result = score(rows)
    circle, rank = column(result, "circle"), column(result, "warmth_rank")
    assert (circle[101], rank[101]) == ("newcomers", None)
    assert (circle[102], rank[102]) == ("observers", None)
    assert circle[103] == "newcomers"
    assert {p: circle[p] for p in (104, 105, 106)} == {104: "core", 105: "core", 106: "core"}
    # newcomers and observers are not ranked: 100 + 3 people
    assert result.summary.ranked == 103
    assert result.summary.cuts == (3, 11, 37)  # ⌈2.06⌉, ⌈10.3⌉, ⌈36.05⌉


def test_an_observer_with_one_like_is_an_observer() -> None:
    assert person(score([act(1, 100, "like")]), 1)["circle"] == "observers"


def test_one_inbound_activity_is_an_acquaintance() -> None:
    result = score([*ranked(10), act(11, 60, "volunteer")])
    p = person(result, 11)
    assert (p["circle"], p["warmth_rank"], p["n_in"]) == ("acquaintances", None, 1)
    assert result.summary.ranked == 10


def test_no_inbound_activity_no_circle() -> None:
    rows = [
        act(1, 60, "thank", "give"),
        act(1, 50, "ask", "ask"),
        act(2, 60, "reply", "peer", target_id=1),
    ]
    result = score(rows)
    assert column(result, "circle") == {1: None, 2: None}
    assert column(result, "circle_since") == {1: None, 2: None}
    assert result.summary.by_circle == {}


# The demotion hold. In `ranked(10)` (cuts 1, 1, 4) person 10 is core, 9..7 friends, 6..1
# acquaintances; person 8 is ranked a friend at every `now` below.
OLD = at(400)


def test_a_lower_rank_is_held_then_demotes_after_90_days() -> None:
    rows = ranked(10)
    first = score(rows, previous=previous({"person_id": 8, "circle": "core", "circle_since": OLD}))
    p = person(first, 8)
    assert (p["raw_circle"], p["circle"], p["circle_since"]) == ("friends", "core", OLD)
    assert (p["pending_circle"], p["pending_since"]) == ("friends", NOW_US)

    day89 = score(rows, now=later(89), previous=previous_of(first), previous_now=NOW_US)
    p = person(day89, 8)
    assert (p["circle"], p["circle_since"]) == ("core", OLD)
    assert (p["pending_circle"], p["pending_since"]) == ("friends", NOW_US)

    day90 = score(rows, now=later(90), previous=previous_of(day89), previous_now=micros(later(89)))
    p = person(day90, 8)
    assert (p["circle"], p["circle_since"]) == ("friends", micros(later(90)))
    assert (p["pending_circle"], p["pending_since"]) == (None, None)


def test_the_hold_counts_from_the_pending_start_to_the_microsecond() -> None:
    start = NOW_US - 90 * DAY_US
    result = score(
        ranked(10),
        previous=previous(
            {"person_id": 8, "circle": "core", "circle_since": OLD},
            {"person_id": 9, "circle": "core", "circle_since": OLD,
             "pending_circle": "friends", "pending_since": start},
            {"person_id": 7, "circle": "core", "circle_since": OLD,
             "pending_circle": "friends", "pending_since": start + 1},
        ),
    )  # fmt: skip
    assert column(result, "circle") == {
        **{p: "acquaintances" for p in range(1, 7)},
        7: "core",  # 1 µs short of 90 days
        8: "core",  # the hold starts now
        9: "friends",
        10: "core",
    }
    assert column(result, "pending_since") == {
        **{p: None for p in range(1, 7)},
        7: start + 1,
        8: NOW_US,
        9: None,
        10: None,
    }


def test_demotion_goes_to_the_highest_circle_held_meanwhile() -> None:
    # person 5 (now an acquaintance) was core, ranked allies at some point of the hold
    prev = previous(
        {"person_id": 5, "circle": "core", "circle_since": OLD,
         "pending_circle": "allies", "pending_since": at(90)},
        {"person_id": 4, "circle": "core", "circle_since": OLD,
         "pending_circle": "allies", "pending_since": at(60)},
    )  # fmt: skip
    result = score(ranked(10), previous=prev)
    p5, p4 = person(result, 5), person(result, 4)
    assert (p5["circle"], p5["circle_since"], p5["pending_circle"]) == ("allies", NOW_US, None)
    assert (p4["circle"], p4["pending_circle"], p4["pending_since"]) == ("core", "allies", at(60))


def test_promotion_is_immediate() -> None:
    prev = previous({"person_id": 10, "circle": "acquaintances", "circle_since": OLD})
    p = person(score(ranked(10), previous=prev), 10)
    assert (p["circle"], p["circle_since"], p["pending_circle"]) == ("core", NOW_US, None)


def test_back_to_the_held_circle_cancels_the_pending_demotion() -> None:
    prev = previous(
        {"person_id": 9, "circle": "friends", "circle_since": OLD,
         "pending_circle": "acquaintances", "pending_since": at(80)}
    )  # fmt: skip
    p = person(score(ranked(10), previous=prev), 9)
    assert (p["circle"], p["circle_since"]) == ("friends", OLD)
    assert (p["pending_circle"], p["pending_since"]) == (None, None)


def test_newcomers_graduate_at_once() -> None:
    prev = previous({"person_id": 8, "circle": "newcomers", "circle_since": at(20)})
    p = person(score(ranked(10), previous=prev), 8)
    assert (p["circle"], p["circle_since"], p["pending_circle"]) == ("friends", NOW_US, None)


def test_rescoring_twice_at_the_same_now_changes_nothing() -> None:
    rows = ranked(10)
    prev = previous(
        {"person_id": 8, "circle": "core", "circle_since": OLD},
        {"person_id": 10, "circle": "friends", "circle_since": OLD},
        {"person_id": 9, "circle": "friends", "circle_since": OLD},
    )
    first = score(rows, previous=prev, previous_now=micros(later(-10)))
    second = score(rows, previous=previous_of(first), previous_now=NOW_US)
    assert second.scores.equals(first.scores)
    assert second.transitions.num_rows == 0
    assert second.summary == first.summary


def test_rescoring_at_an_earlier_now_ignores_history() -> None:
    rows = ranked(10)
    prev = previous(
        {"person_id": 8, "circle": "core", "circle_since": OLD, "stage": "leader"},
        {"person_id": 7, "circle": "core", "circle_since": OLD,
         "pending_circle": "friends", "pending_since": at(100)},
    )  # fmt: skip
    result = score(rows, previous=prev, previous_now=micros(later(10)))
    assert column(result, "circle") == column(score(rows), "circle")
    p8 = person(result, 8)
    assert (p8["circle"], p8["circle_since"], p8["pending_circle"]) == ("friends", NOW_US, None)
    assert person(result, 7)["circle"] == "friends"
    assert result.transitions.num_rows == 0
    # the same history at a later now is used
    assert person(score(rows, previous=prev, previous_now=NOW_US), 8)["circle"] == "core"
