"""The ladder of engagement: the highest stage reached in the last 365 days, and transitions."""

from __future__ import annotations

import pytest

from karmabank.frames import micros
from tests.measures.helpers import (
    NOW_US,
    act,
    acted,
    at,
    column,
    flags,
    later,
    person,
    previous_of,
    score,
)


@pytest.mark.parametrize(
    ("verb", "stage"),
    [
        ("like", "aware"), ("follow", "aware"), ("wave", "aware"),  # unknown verb: default
        ("comment", "engaged"), ("reply", "engaged"), ("mention", "engaged"),
        ("share", "engaged"),
        ("attend", "participant"), ("register", "participant"), ("sign", "participant"),
        ("donate", "participant"),
        ("volunteer", "leader"), ("organize", "leader"),
    ],
)  # fmt: skip
def test_stage_of_each_verb(verb: str, stage: str) -> None:
    p = person(score([act(1, 10, verb)]), 1)
    assert (p["stage"], p["stage_at"]) == (stage, at(10))


def test_the_highest_stage_counts_dated_when_first_reached() -> None:
    rows = [
        act(1, 100, "like"),
        act(1, 80, "attend"),
        act(1, 50, "comment"),
        act(1, 20, "sign"),
        act(1, 5, "like"),
    ]
    p = person(score(rows), 1)
    assert (p["stage"], p["stage_at"]) == ("participant", at(80))


def test_outgoing_and_peer_activities_do_not_climb_the_ladder() -> None:
    rows = [
        act(1, 10, "like"),
        act(1, 5, "volunteer", "give"),
        act(1, 4, "organize", "ask"),
        act(1, 3, "volunteer", "peer", target_id=2),
        act(2, 1, "like"),
    ]
    assert column(score(rows), "stage") == {1: "aware", 2: "aware"}


@pytest.mark.parametrize(
    ("days_ago", "stage"), [(364, "leader"), (364.99, "leader"), (365, "aware"), (400, "aware")]
)
def test_only_the_last_365_days_count(days_ago: float, stage: str) -> None:
    p = person(score([act(1, days_ago, "volunteer"), act(1, 10, "like")]), 1)
    assert p["stage"] == stage


def test_no_inbound_activity_in_the_window_no_stage() -> None:
    rows = [act(1, 400, "volunteer"), act(1, 10, "thank", "give")]
    p = person(score(rows), 1)
    assert (p["stage"], p["stage_at"]) == (None, None)


def test_advocate_by_acting_on_an_ask() -> None:
    result = score(
        [act(p, 100, "like") for p in (1, 2, 3)],
        acted=acted((1, 7, at(10)), (2, 7, at(-1)), (3, 7, at(365))),  # future; too old
    )
    assert column(result, "stage") == {1: "advocate", 2: "aware", 3: "aware"}
    assert person(result, 1)["stage_at"] == at(10)


def test_advocate_by_a_share_that_drew_peer_engagement_within_7_days() -> None:
    rows = [
        act(1, 20, "share"),
        act(2, 13, "reply", "peer", target_id=1),  # 7 days after the share
        act(3, 20, "share"),
        act(4, 12, "reply", "peer", target_id=3),  # 8 days after
        act(5, 20, "share"),
        act(6, 21, "mention", "peer", target_id=5),  # before the share
        act(7, 20, "comment"),
        act(8, 19, "reply", "peer", target_id=7),  # a comment, not a share
        act(9, 20, "share"),
        act(2, 19, "reply", "in", target_id=9),  # an inbound reply, not a peer's
    ]
    result = score(rows)
    stage = column(result, "stage")
    assert {p: stage[p] for p in (1, 3, 5, 7, 9)} == {
        1: "advocate",
        3: "engaged",
        5: "engaged",
        7: "engaged",
        9: "engaged",
    }
    assert person(result, 1)["stage_at"] == at(20)  # reached with the share


def test_the_nearest_engagement_after_a_share_counts() -> None:
    rows = [
        act(1, 40, "share"),
        act(2, 39, "share", "peer", target_id=1),
        act(2, 20, "reply", "peer", target_id=1),
    ]
    assert person(score(rows), 1)["stage_at"] == at(40)
    assert person(score(rows), 1)["stage"] == "advocate"


def test_engagement_by_a_bot_does_not_make_an_advocate() -> None:
    rows = [act(1, 20, "share"), act(2, 19, "reply", "peer", target_id=1)]
    result = score(rows, flags=flags({"person_id": 2, "bot": True}))
    assert person(result, 1)["stage"] == "engaged"


def test_leader_by_acting_on_asks_of_3_campaigns() -> None:
    result = score(
        [act(p, 100, "like") for p in (1, 2)],
        acted=acted(
            (1, 11, at(90)), (1, 12, at(60)), (1, 13, at(30)),
            (2, 11, at(90)), (2, 12, at(60)), (2, 11, at(30)),  # two campaigns
        ),
    )  # fmt: skip
    assert column(result, "stage") == {1: "leader", 2: "advocate"}
    assert person(result, 1)["stage_at"] == at(30)
    assert person(result, 2)["stage_at"] == at(90)


def test_leader_by_campaigns_is_dated_when_the_third_campaign_was_reached() -> None:
    result = score(
        [act(1, 100, "like")],
        acted=acted((1, 11, at(100)), (1, 12, at(80)), (1, 13, at(60)), (1, 11, at(10))),
    )
    p = person(result, 1)
    assert (p["stage"], p["stage_at"]) == ("leader", at(60))
    assert result.transitions.to_pylist() == [
        {"person_id": 1, "from_stage": None, "to_stage": "leader", "at": at(60)}
    ]


def test_first_rescore_records_each_stage_dated_when_first_reached() -> None:
    rows = [
        act(1, 100, "like"),
        act(1, 50, "comment"),
        act(1, 20, "comment"),
        act(2, 10, "attend"),
        act(3, 5, "thank", "give"),  # no stage: no transition
    ]
    result = score(rows)
    assert result.transitions.to_pylist() == [
        {"person_id": 1, "from_stage": None, "to_stage": "engaged", "at": at(50)},
        {"person_id": 2, "from_stage": None, "to_stage": "participant", "at": at(10)},
    ]
    assert result.summary.by_stage == {"engaged": 1, "participant": 1}


def test_a_later_rescore_records_only_the_changes() -> None:
    rows = [act(1, 50, "comment"), act(2, 10, "attend"), act(3, 30, "like")]
    first = score(rows)
    attend = micros(later(5))
    rows += [
        act(1, 0, "attend", occurred_at=attend),
        act(3, 0, "like", occurred_at=micros(later(6))),  # no new stage
        act(4, 0, "sign", occurred_at=micros(later(7))),  # new person
    ]
    second = score(rows, now=later(10), previous=previous_of(first), previous_now=NOW_US)
    assert second.transitions.to_pylist() == [
        {"person_id": 1, "from_stage": "engaged", "to_stage": "participant", "at": attend},
        {"person_id": 4, "from_stage": None, "to_stage": "participant", "at": micros(later(7))},
    ]


def test_a_stage_aging_out_is_a_transition_dated_now() -> None:
    rows = [act(1, 300, "volunteer"), act(1, 10, "comment")]
    first = score(rows)
    assert person(first, 1)["stage"] == "leader"
    second = score(rows, now=later(70), previous=previous_of(first), previous_now=NOW_US)
    assert person(second, 1)["stage"] == "engaged"  # the volunteering is 370 days old
    assert second.transitions.to_pylist() == [
        {"person_id": 1, "from_stage": "leader", "to_stage": "engaged", "at": micros(later(70))}
    ]
