"""The sentences of `person`: built from a score row and its parts, checked word for word."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from karmabank.measures import explain
from karmabank.measures.ledger import ShareRatio
from karmabank.measures.settings import MeasureSettings
from karmabank.model import to_micros

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
S = MeasureSettings()


def score(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "status": "active", "silence_days": 0, "cadence_days": 7.0, "cadence_used": 7.0,
        "circle": "friends", "raw_circle": "friends", "warmth_rank": 12, "pending_circle": None,
        "pending_since": None, "tenure_days": 400, "given": 6.0, "asked": 5.0, "balance": 1.0,
        "balance_decayed": 0.4, "ask_rule": None, "last_ask_at": None, "asks_year": 0,
        "stage": "participant", "stage_at": to_micros(datetime(2026, 5, 3, tzinfo=UTC)),
        "presence_30": 3, "presence_90": 7, "presence_365": 40,
    }  # fmt: skip
    return {**base, **kw}


def part(verb: str, when: datetime, contribution: float) -> dict[str, Any]:
    return {"verb": verb, "occurred_at": to_micros(when), "contribution": contribution}


def test_warmth_names_the_activities_that_make_most_of_it() -> None:
    parts = [
        part("comment", datetime(2026, 11, 20, tzinfo=UTC), 3.9),
        part("comment", datetime(2026, 11, 10, tzinfo=UTC), 3.8),
        part("comment", datetime(2026, 11, 2, tzinfo=UTC), 3.7),
        part("donate", datetime(2026, 5, 2, tzinfo=UTC), 3.5),
        part("like", datetime(2026, 4, 2, tzinfo=UTC), 0.5),
    ]
    text = explain.warmth_sentence(19.25, 1.25, 2, parts, NOW)
    assert text == (
        "warmth 19.2: three comments this month, a donation in May (+1 older or smaller); "
        "×1.25 for two channels"
    )
    assert explain.warmth_sentence(0.0, 1.0, 0, [], NOW) == (
        "no warmth yet: nothing from them toward us"
    )


def test_rhythm_says_whether_silence_is_normal_for_them() -> None:
    resting = score(status="resting", silence_days=20)
    assert explain.rhythm_sentence(resting, 5.0) == (
        "resting: usually comes every 7 days, quiet for 20 days — normal for them, no need to nudge"
    )
    borrowed = score(status="drifting", silence_days=40, cadence_days=None, cadence_used=5.0)
    assert explain.rhythm_sentence(borrowed, 5.0) == (
        "drifting: too few active days for a rhythm of their own; the network's is 5 days, "
        "quiet for 40 days — longer than usual for someone this warm: check in gently"
    )


def test_circle_shows_a_pending_demotion_with_its_date() -> None:
    held = score(
        circle="core", raw_circle="friends", warmth_rank=40, pending_circle="friends",
        pending_since=to_micros(datetime(2026, 9, 1, tzinfo=UTC)),
    )  # fmt: skip
    assert explain.circle_sentence(held, {"ranked": 500}, S) == (
        "core: warmth ranks 40 of 500; ranks as friends since 2026-09-01, kept in core until "
        "2026-11-30 unless they come back"
    )


def test_ledger_names_the_rule_that_failed() -> None:
    assert explain.ledger_sentence(score(), S, NOW).endswith("; ready for an ask")
    balance = explain.ledger_sentence(score(ask_rule="balance"), S, NOW)
    assert balance.endswith("(give first: an ask costs 5 and would leave -4.6)")
    last = to_micros(datetime(2026, 11, 14, 12, tzinfo=UTC))
    cooldown = explain.ledger_sentence(score(ask_rule="cooldown", last_ask_at=last), S, NOW)
    assert cooldown.endswith("(asked 12 days ago; wait 30 days between asks)")
    often = explain.ledger_sentence(score(ask_rule="frequency", asks_year=3), S, NOW)
    assert often.endswith("(already asked 3 times in 365 days, at most 3)")


def test_share_ratio_verdicts() -> None:
    assert explain.share_sentence(ShareRatio(90, 8, 2, 4.0)) == (
        "8 gives and 2 asks in 90 days (4.0 gives per ask): a great sharer "
        "(target: 4 gives per ask)"
    )
    assert "a hoarder" in explain.share_sentence(ShareRatio(90, 3, 1, 4.0))
    assert "(no asks): a great sharer" in explain.share_sentence(ShareRatio(90, 3, 0, 4.0))
