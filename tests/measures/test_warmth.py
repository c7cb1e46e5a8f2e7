"""Warmth: Σ weight × 0.9^(age/30) over inbound activities, × (1 + 0.25 × (channels − 1))."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import reduce
from operator import add
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from karmabank.frames import small_engine
from karmabank.measures.warmth import multiplexity, warmth_parts
from tests.measures.helpers import (
    DEFAULTS,
    NOW,
    act,
    activities,
    at,
    flags,
    person,
    score,
    scored_ids,
)

# The issue's example: a comment today, a share 30 days ago, a like 60 days ago.
ISSUE = [act(1, 0, "comment"), act(1, 30, "share"), act(1, 60, "like")]
ISSUE_WARMTH = 4 * 1 + 3 * 0.9 + 1 * 0.9**2  # = 7.51


def test_issue_example_on_one_channel() -> None:
    p = person(score(ISSUE), 1)
    assert ISSUE_WARMTH == pytest.approx(7.51)
    assert p["warmth"] == pytest.approx(7.51)
    assert (p["channels"], p["multiplexity"]) == (1, 1.0)
    assert p["warmth_base"] == pytest.approx(7.51)


def test_decay_is_continuous_in_fractional_days() -> None:
    # 45 days = 1.5 decay periods; 12 hours = 1/60 of one
    p = person(score([act(1, 45, "attend"), act(1, 0.5, "like")]), 1)
    assert p["warmth"] == pytest.approx(6 * 0.9**1.5 + 1 * 0.9 ** (0.5 / 30))


def test_two_channels_in_the_last_year_multiply_by_1_25() -> None:
    rows = [act(1, 0, "comment"), act(1, 30, "share"), act(1, 60, "like", channel="mastodon")]
    p = person(score(rows), 1)
    assert (p["channels"], p["multiplexity"]) == (2, 1.25)
    assert p["warmth"] == pytest.approx(7.51 * 1.25)  # = 9.3875
    assert p["warmth_base"] == pytest.approx(7.51)


def test_a_channel_used_400_days_ago_adds_warmth_but_not_multiplexity() -> None:
    rows = [*ISSUE[:2], act(1, 60, "like", channel="mastodon")]
    rows.append(act(1, 400, "like", channel="bluesky"))
    p = person(score(rows), 1)
    assert p["channels"] == 2
    assert p["warmth"] == pytest.approx((7.51 + 1 * 0.9 ** (400 / 30)) * 1.25)


@pytest.mark.parametrize(("days_ago", "channels"), [(364, 2), (364.99, 2), (365, 1), (366, 1)])
def test_multiplexity_window_is_the_last_365_days(days_ago: float, channels: int) -> None:
    rows = [act(1, 0, "comment"), act(1, days_ago, "like", channel="bluesky")]
    p = person(score(rows), 1)
    assert p["channels"] == channels
    assert p["multiplexity"] == 1 + 0.25 * (channels - 1)
    assert p["warmth"] == pytest.approx((4 + 0.9 ** (days_ago / 30)) * p["multiplexity"])


def test_three_channels_multiply_by_1_5() -> None:
    rows = [
        act(1, 0, "comment", channel="email"),
        act(1, 0, "comment", channel="mastodon"),
        act(1, 0, "comment", channel="bluesky"),
    ]
    p = person(score(rows), 1)
    assert (p["channels"], p["multiplexity"], p["warmth"]) == (3, 1.5, 12 * 1.5)


def test_activities_after_now_are_ignored() -> None:
    rows = [
        act(1, 0, "comment"),
        act(1, -1, "volunteer", channel="mastodon"),  # tomorrow, on a second channel
        act(2, -0.001, "organize"),  # 86 seconds from now: person 2 is not seen yet
    ]
    result = score(rows)
    p = person(result, 1)
    assert (p["warmth"], p["channels"], p["n_in"]) == (4.0, 1, 1)
    assert scored_ids(result) == [1]


def test_explicit_weight_overrides_the_verb_default() -> None:
    rows = [act(1, 0, "comment", weight=9.0), act(1, 30, "like", weight=0.5)]
    assert person(score(rows), 1)["warmth"] == pytest.approx(9 + 0.5 * 0.9)


def test_unknown_inbound_verb_weighs_default_weight() -> None:
    rows = [act(1, 0, "wave"), act(1, 30, "wave")]
    assert DEFAULTS.warmth.default_weight == 1.0
    assert person(score(rows), 1)["warmth"] == pytest.approx(1 + 0.9)


@pytest.mark.parametrize(
    ("verb", "weight"),
    [
        ("like", 1), ("follow", 1), ("mention", 2), ("share", 3), ("comment", 4),
        ("reply", 4), ("register", 4), ("sign", 5), ("attend", 6), ("donate", 7),
        ("volunteer", 8), ("organize", 10),
    ],
)  # fmt: skip
def test_default_verb_weights_of_product_md(verb: str, weight: float) -> None:
    assert person(score([act(1, 0, verb)]), 1)["warmth"] == weight


def test_gives_asks_and_peer_activities_add_no_warmth() -> None:
    rows = [
        act(1, 0, "comment"),
        act(1, 0, "thank", "give", channel="mastodon"),
        act(1, 0, "ask", "ask", channel="bluesky"),
        act(2, 0, "reply", "peer", target_id=1, channel="web"),
        act(3, 10, "feature", "give"),
    ]
    result = score(rows)
    p1, p2, p3 = (person(result, i) for i in (1, 2, 3))
    assert (p1["warmth"], p1["channels"], p1["n_in"]) == (4.0, 1, 1)  # only the comment
    assert (p2["warmth"], p2["channels"], p2["n_in"]) == (0.0, 0, 0)
    assert (p3["warmth"], p3["multiplexity"]) == (0.0, 1.0)


@pytest.mark.parametrize("flag", ["team", "bot", "erased"])
def test_team_bots_and_erased_people_get_no_score(flag: str) -> None:
    rows = [act(1, 0, "comment"), act(2, 0, "comment"), act(2, 5, "ask", "ask")]
    result = score(rows, flags=flags({"person_id": 2, flag: True}))
    assert scored_ids(result) == [1]
    assert result.summary.people == 1


def test_do_not_contact_people_keep_their_warmth() -> None:
    result = score([act(1, 0, "comment")], flags=flags({"person_id": 1, "do_not_contact": True}))
    assert person(result, 1)["warmth"] == 4.0


def test_warmth_parts_explain_each_inbound_activity_newest_first() -> None:
    rows = [*ISSUE, act(1, 0, "thank", "give"), act(1, -5, "comment")]
    parts = warmth_parts(activities(rows), NOW, DEFAULTS).to_pylist()
    assert [(p["activity_id"], p["verb"], p["weight"], p["age_days"]) for p in parts] == [
        (1, "comment", 4.0, 0.0),
        (2, "share", 3.0, 30.0),
        (3, "like", 1.0, 60.0),
    ]
    assert [p["occurred_at"] for p in parts] == [at(0), at(30), at(60)]
    assert [p["decay"] for p in parts] == pytest.approx([1.0, 0.9, 0.81])
    assert [p["contribution"] for p in parts] == pytest.approx([4.0, 2.7, 0.81])
    assert [p["channel"] for p in parts] == ["email"] * 3


def test_warmth_parts_times_multiplexity_is_the_network_warmth_exactly() -> None:
    rows = [
        act(1, 0.25, "comment", channel="email"),
        act(1, 17, "share", channel="mastodon"),
        act(1, 61.5, "like", channel="email", weight=2.5),
        act(1, 200, "wave", channel="bluesky"),
        act(1, 420, "volunteer", channel="web"),  # warmth, but not a channel any more
    ]
    parts = warmth_parts(activities(rows), NOW, DEFAULTS).to_pylist()
    p = person(score(rows), 1)
    assert p["channels"] == 3
    # added left to right, as the engine adds them (Python 3.12's sum() compensates rounding)
    in_order = reduce(add, (part["contribution"] for part in parts), 0.0)
    assert p["warmth_base"] == in_order
    assert p["warmth"] == in_order * multiplexity(
        3, DEFAULTS.warmth
    )
    assert p["warmth"] == pytest.approx(
        (4 * 0.9 ** (0.25 / 30) + 3 * 0.9 ** (17 / 30) + 2.5 * 0.9 ** (61.5 / 30)
         + 1 * 0.9 ** (200 / 30) + 8 * 0.9**14) * 1.5
    )  # fmt: skip


def test_warmth_parts_share_one_engine_safely_across_threads() -> None:
    """Each call has its own cursor on the process-wide engine: what it registers is its own,
    so calls at once from many threads each get their own person's parts."""
    inputs = [activities([act(k, d, "comment") for d in range(k)]) for k in range(1, 9)]
    alone = [warmth_parts(a, NOW, DEFAULTS) for a in inputs]
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda a: warmth_parts(a, NOW, DEFAULTS), inputs * 5))
    assert together == alone * 5
    assert [t.num_rows for t in alone] == list(range(1, 9))


def test_the_shared_engine_reads_no_file_and_forgets_what_a_use_registered(
    tmp_path: Path,
) -> None:
    csv = tmp_path / "secret.csv"
    csv.write_text("a\n1\n")
    with small_engine() as con:
        con.register("acts", pa.table({"x": [1]}))
        with pytest.raises(duckdb.PermissionException):
            con.sql(f"SELECT * FROM read_csv('{csv}')").fetchall()
        with pytest.raises(duckdb.PermissionException):
            con.sql("INSTALL httpfs").fetchall()
    with small_engine() as con:
        with pytest.raises(duckdb.CatalogException):
            con.sql("SELECT * FROM acts").fetchall()
        assert con.sql("SELECT current_setting('threads')").fetchall() == [(1,)]


def test_no_channel_is_no_penalty() -> None:
    p = person(score([act(1, 0, "comment", channel=None)]), 1)
    assert (p["multiplexity"], p["warmth"]) == (1.0, 4.0)
