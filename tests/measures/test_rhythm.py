"""Tenure, presence and rhythm: UTC calendar days, each person's own cadence, status by silence."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from karmabank.frames import micros
from tests.measures.helpers import act, at, column, later, person, score

# NOW is 2026-11-26 12:00 UTC: `at(k)` is noon of the UTC day k days before today.


def days(person_id: int, *days_ago: int, verb: str = "comment") -> list[dict[str, object]]:
    """One inbound activity on each of these days."""
    return [act(person_id, d, verb) for d in days_ago]


def test_tenure_counts_from_the_first_activity_of_any_direction() -> None:
    rows = [act(1, 200, "thank", "give"), *days(1, 100, 3), act(1, 2, "like", channel="web")]
    p = person(score(rows), 1)
    assert p["first_at"] == at(200)
    assert p["tenure_days"] == 200
    assert p["last_in_at"] == at(2)
    assert p["silence_days"] == 2  # the like on another channel reset silence


def test_tenure_and_silence_count_utc_calendar_days() -> None:
    yesterday_late = micros(datetime(2026, 11, 25, 23, 59, tzinfo=UTC))  # 12h01 ago
    today_early = micros(datetime(2026, 11, 26, 0, 0, tzinfo=UTC))  # 12h ago
    result = score(
        [
            act(1, 0, "like", occurred_at=yesterday_late),
            act(2, 0, "like", occurred_at=today_early),
        ]
    )
    assert (person(result, 1)["tenure_days"], person(result, 1)["silence_days"]) == (1, 1)
    assert (person(result, 2)["tenure_days"], person(result, 2)["silence_days"]) == (0, 0)


def test_outgoing_activities_do_not_end_silence() -> None:
    rows = [*days(1, 40), act(1, 1, "thank", "give"), act(1, 0, "ask", "ask")]
    assert person(score(rows), 1)["silence_days"] == 40


def test_presence_counts_distinct_active_days_in_30_90_365() -> None:
    rows = [
        act(1, 0, "comment"),
        act(1, 0.4, "like", channel="web"),  # the same UTC day: counts once
        *days(1, 29, 30, 89, 90, 364, 365, 400),
        act(1, 5, "thank", "give"),  # not an active day
        act(1, -3, "comment"),  # future
    ]
    p = person(score(rows), 1)
    # windows are day > today − n: 30 days ago is outside the 30-day window
    assert (p["presence_30"], p["presence_90"], p["presence_365"]) == (
        2,  # today, 29
        4,  # + 30, 89
        6,  # + 90, 364 (365 and 400 are outside)
    )


def test_presence_window_edge_is_a_calendar_day_not_24_hours() -> None:
    # 2026-10-27 is today − 30 days; 2026-10-28 is today − 29 days
    rows = [
        act(1, 0, "like", occurred_at=micros(datetime(2026, 10, 27, 23, 59, tzinfo=UTC))),
        act(2, 0, "like", occurred_at=micros(datetime(2026, 10, 28, 0, 0, tzinfo=UTC))),
    ]
    presence = column(score(rows), "presence_30")
    assert presence == {1: 0, 2: 1}


def test_cadence_is_the_median_gap_between_active_days() -> None:
    p = person(score(days(1, 16, 14, 10, 0)), 1)  # gaps 2, 4, 10
    assert (p["cadence_days"], p["cadence_used"]) == (4.0, 4.0)


def test_cadence_of_an_even_number_of_gaps_averages_the_middle_two() -> None:
    p = person(score(days(1, 22, 20, 16, 10, 0)), 1)  # gaps 2, 4, 6, 10
    assert p["cadence_days"] == (4 + 6) / 2


def test_cadence_counts_days_not_activities() -> None:
    rows = [*days(1, 16, 14, 10, 0), act(1, 14.2, "like"), act(1, 0.1, "share")]
    assert person(score(rows), 1)["cadence_days"] == 4.0  # still gaps 2, 4, 10


def test_cadence_only_looks_at_the_last_365_days() -> None:
    # 400 and 365 days ago are outside; counted, the gaps would be 35, 349, 2, 4, 10 (median 10)
    p = person(score(days(1, 400, 365, 16, 14, 10, 0)), 1)
    assert p["cadence_days"] == 4.0


def test_with_fewer_than_3_active_days_the_network_median_cadence_is_used() -> None:
    rows = [
        *days(1, 16, 14, 10, 0),  # cadence 4
        *days(2, 20, 10, 0),  # cadence 10
        *days(3, 5, 0),  # two active days: no cadence of its own
        act(4, 3, "like"),
        act(4, 3.1, "like"),  # one active day
    ]
    result = score(rows)
    assert result.summary.network_cadence == (4 + 10) / 2
    assert column(result, "cadence_days") == {1: 4.0, 2: 10.0, 3: None, 4: None}
    assert column(result, "cadence_used") == {1: 4.0, 2: 10.0, 3: 7.0, 4: 7.0}


def test_with_no_cadence_in_the_network_the_default_is_used() -> None:
    result = score([*days(1, 5, 0), *days(2, 3)])
    assert result.summary.network_cadence == 30.0
    assert column(result, "cadence_used") == {1: 30.0, 2: 30.0}


@pytest.mark.parametrize(
    ("silence", "status"),
    [
        (0, "active"),
        (6, "active"),  # s = 1.5 c
        (7, "resting"),
        (16, "resting"),  # s = 4 c
        (17, "quiet"),  # beyond, and no warmth 90 days ago
    ],
)
def test_status_boundaries_with_cadence_4(silence: int, status: str) -> None:
    p = person(score(days(1, silence + 8, silence + 4, silence)), 1)  # gaps 4, 4
    assert (p["cadence_days"], p["silence_days"], p["status"]) == (4.0, silence, status)


@pytest.mark.parametrize(
    ("silence", "status"),
    [
        (45, "active"),  # s = 1.5 c
        (46, "resting"),
        (120, "resting"),  # s = 4 c
        (121, "drifting"),  # warm 90 days ago, and the only one: the top half
        (365, "drifting"),  # not yet dormant (cadence: the default 30)
        (366, "dormant"),
        (1000, "dormant"),
    ],
)
def test_status_boundaries_with_cadence_30(silence: int, status: str) -> None:
    p = person(score(days(1, silence + 60, silence + 30, silence)), 1)  # gaps 30, 30
    assert (p["cadence_used"], p["silence_days"], p["status"]) == (30.0, silence, status)


def test_dormant_comes_before_drifting() -> None:
    # warm 90 days ago and alone in the network (so in the top half), but silent 400 days
    p = person(score(days(1, 460, 430, 400)), 1)
    assert p["warmth_before"] > 0
    assert p["status"] == "dormant"


def test_drifting_needs_warmth_at_or_above_the_median_90_days_ago() -> None:
    # Three people silent 121 days with cadence 30, warmth 1 : 2 : 3; two newcomers have no
    # warmth 90 days ago and do not count in the median (with them it would be person 1's).
    rows = [act(p, d, "comment", weight=float(p)) for p in (1, 2, 3) for d in (181, 151, 121)] + [
        *days(4, 10, 5, 0),
        *days(5, 10, 5, 0),
    ]
    result = score(rows)
    before = column(result, "warmth_before")
    unit = 0.9 ** ((181 - 90) / 30) + 0.9 ** ((151 - 90) / 30) + 0.9 ** ((121 - 90) / 30)
    assert before[1] == pytest.approx(unit)
    assert before[2] == pytest.approx(2 * unit)
    assert (before[4], before[5]) == (0.0, 0.0)
    assert result.summary.warmth_before_median == before[2]
    assert column(result, "status") == {
        1: "quiet",
        2: "drifting",  # at the median: top half
        3: "drifting",
        4: "active",
        5: "active",
    }


def test_warmth_before_is_the_warmth_a_score_90_days_ago_would_have_given() -> None:
    rows = [
        act(1, 300, "attend", channel="web"),
        act(1, 120.5, "comment"),
        act(1, 95, "like", channel="mastodon"),
        act(1, 500, "share", channel="bluesky"),  # a channel 410 days before "then"
        act(1, 30, "volunteer", channel="sms"),  # after "then"
    ]
    now_p = person(score(rows), 1)
    then_p = person(score(rows, now=later(-90)), 1)
    assert now_p["warmth_before"] == pytest.approx(then_p["warmth"])
    assert then_p["channels"] == 3


def test_no_inbound_activity_no_status() -> None:
    p = person(score([act(1, 10, "thank", "give")]), 1)
    assert (p["silence_days"], p["status"], p["presence_365"]) == (None, None, 0)
