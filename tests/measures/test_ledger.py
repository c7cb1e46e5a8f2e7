"""The karma ledger: given, asked, balance (all time and decayed), ask-readiness, share ratio."""

from __future__ import annotations

import pytest

from karmabank.measures.ledger import ShareRatio
from tests.measures.helpers import act, at, flags, person, score


@pytest.mark.parametrize(
    ("verb", "weight"),
    [
        ("thank", 2), ("welcome", 2), ("reply", 3), ("share", 4), ("feature", 5),
        ("introduce", 5), ("help", 5), ("gift", 5),
        ("wave", 2),  # not a give verb: default_give_weight
    ],
)  # fmt: skip
def test_default_give_weights(verb: str, weight: float) -> None:
    p = person(score([act(1, 0, verb, "give")]), 1)
    assert (p["given"], p["asked"], p["balance"], p["balance_decayed"]) == (
        weight,
        0,
        weight,
        weight,
    )


def test_given_asked_and_balance_all_time_and_decayed() -> None:
    rows = [
        act(1, 0, "thank", "give"),  # 2
        act(1, 30, "feature", "give"),  # 5, decayed 5 × 0.9
        act(1, 90, "reply", "give"),  # 3, decayed 3 × 0.9³
        act(1, 60, "sign-up", "ask"),  # 5, decayed 5 × 0.9²
        act(1, 120, "donate", "ask", weight=8.0),  # explicit weight, decayed 8 × 0.9⁴
        act(1, 10, "comment"),  # inbound: not in the ledger
        act(1, -1, "gift", "give"),  # future: ignored
    ]
    p = person(score(rows), 1)
    assert (p["given"], p["asked"], p["balance"]) == (2 + 5 + 3, 5 + 8, 10 - 13)
    assert p["balance_decayed"] == pytest.approx(
        (2 + 5 * 0.9 + 3 * 0.9**3) - (5 * 0.9**2 + 8 * 0.9**4)
    )  # = 8.687 − 9.3008 = −0.6138
    assert p["last_ask_at"] == at(60)
    assert (p["asks_recent"], p["asks_year"]) == (0, 2)


def test_a_person_nothing_was_given_is_not_ask_ready() -> None:
    p = person(score([act(1, 10, "comment")]), 1)
    assert (p["given"], p["asked"], p["balance_decayed"]) == (0, 0, 0)
    assert (p["ask_ready"], p["ask_rule"]) == (False, "balance")  # 0 − 5 < 0


GENEROUS = act(1, 0, "gift", "give", weight=100.0)


def test_ask_ready_when_every_rule_passes() -> None:
    rows = [GENEROUS, act(1, 30, "ask", "ask"), act(1, 200, "ask", "ask")]
    p = person(score(rows), 1)
    assert (p["asks_recent"], p["asks_year"]) == (0, 2)  # this ask would be the 3rd
    assert (p["ask_ready"], p["ask_rule"]) == (True, None)


def test_do_not_contact_comes_first() -> None:
    rows = [GENEROUS, act(1, 1, "ask", "ask")]  # would also fail cooldown
    p = person(score(rows, flags=flags({"person_id": 1, "do_not_contact": True})), 1)
    assert (p["ask_ready"], p["ask_rule"]) == (False, "do_not_contact")


@pytest.mark.parametrize(
    ("gift", "ready"),
    [
        (5.0, True),  # 5 − 5 = 0: still ready
        (4.99, False),
    ],
)
def test_balance_rule_after_this_ask(gift: float, ready: bool) -> None:
    p = person(score([act(1, 0, "gift", "give", weight=gift)]), 1)
    assert p["balance_decayed"] == gift
    assert (p["ask_ready"], p["ask_rule"]) == (ready, None if ready else "balance")


def test_balance_rule_uses_the_decayed_balance() -> None:
    # all-time balance 10 − 5 = 5 would pass; decayed 10 × 0.9^12 − 5 × 0.9^12 ≈ 1.41 fails
    rows = [act(1, 360, "gift", "give", weight=10.0), act(1, 360, "ask", "ask")]
    p = person(score(rows), 1)
    assert p["balance"] == 5
    assert p["balance_decayed"] == pytest.approx(5 * 0.9**12)
    assert p["ask_rule"] == "balance"


@pytest.mark.parametrize(
    ("days_ago", "rule"),
    [(10, "cooldown"), (29.99, "cooldown"), (30, None), (31, None)],
)
def test_cooldown_rule(days_ago: float, rule: str | None) -> None:
    p = person(score([GENEROUS, act(1, days_ago, "ask", "ask")]), 1)
    assert p["asks_recent"] == (1 if rule else 0)
    assert (p["ask_ready"], p["ask_rule"]) == (rule is None, rule)


def test_frequency_rule_three_asks_in_the_year() -> None:
    rows = [GENEROUS, *[act(1, d, "ask", "ask") for d in (40, 100, 364)]]
    p = person(score(rows), 1)
    assert (p["asks_recent"], p["asks_year"]) == (0, 3)
    assert p["balance_decayed"] - 5 >= 0
    assert (p["ask_ready"], p["ask_rule"]) == (False, "frequency")


def test_an_ask_365_days_ago_is_out_of_the_frequency_window() -> None:
    rows = [GENEROUS, *[act(1, d, "ask", "ask") for d in (40, 100, 365)]]
    p = person(score(rows), 1)
    assert p["asks_year"] == 2
    assert (p["ask_ready"], p["ask_rule"]) == (True, None)


def test_rules_count_asks_of_every_campaign_and_channel() -> None:
    rows = [
        GENEROUS,
        act(1, 40, "ask", "ask", channel="email"),
        act(1, 100, "ask", "ask", channel="mastodon"),
        act(1, 200, "petition", "ask", channel="sms"),
    ]
    assert person(score(rows), 1)["ask_rule"] == "frequency"


@pytest.mark.parametrize(
    ("gives", "asks", "ratio", "verdict"),
    [
        (8, 2, 4.0, "a great sharer"),  # at the target
        (9, 2, 4.5, "a great sharer"),
        (3, 1, 3.0, "a hoarder"),
        (7, 2, 3.5, "a hoarder"),
        (5, 0, None, "a great sharer: no asks"),
        (0, 0, None, "quiet: no gives, no asks"),
        (0, 3, 0.0, "a hoarder"),
    ],
)
def test_share_ratio_verdict(gives: int, asks: int, ratio: float | None, verdict: str) -> None:
    share = ShareRatio(days=90, gives=gives, asks=asks, target=4.0)
    assert (share.ratio, share.verdict) == (ratio, verdict)


def test_share_ratio_as_json_rounds_the_ratio() -> None:
    assert ShareRatio(days=90, gives=10, asks=3, target=4.0).as_json() == {
        "days": 90,
        "gives": 10,
        "asks": 3,
        "ratio": 3.33,
        "target": 4.0,
        "verdict": "a hoarder",
    }


def test_network_share_counts_gives_and_asks_of_the_last_90_days() -> None:
    rows = [
        *[act(p, 10 * p, "thank", "give") for p in range(1, 9)],  # 10 .. 80 days ago
        act(1, 89.9, "feature", "give", weight=50.0),  # counted once, whatever its weight
        act(2, 90, "thank", "give"),  # 90 days ago: out
        act(3, 200, "thank", "give"),
        act(3, 5, "ask", "ask"),
        act(4, 60, "ask", "ask"),
        act(4, 120, "ask", "ask"),  # out
        act(5, -2, "ask", "ask"),  # future: out
        act(9, 1, "thank", "give"),  # a team member: out
        act(1, 1, "comment"),  # inbound: neither
    ]
    result = score(rows, flags=flags({"person_id": 9, "team": True}))
    share = result.summary.share
    assert (share.days, share.gives, share.asks) == (90, 9, 2)
    assert (share.ratio, share.verdict) == (4.5, "a great sharer")
