"""The nurture queue reads from the rescore's snapshot each person's last visit before the
window and our last gives, and from its pool the people a rule may concern, instead of
scanning every activity and a million scores: every way must find the same items, also when
the queue is built a little after (or before) the rescore: a visit or a give can fall between
the two cutoffs, and someone outside the pool can turn up."""

from __future__ import annotations

from datetime import timedelta

import pyarrow as pa

from karmabank.frames import FLAGS_SCHEMA, micros
from karmabank.measures import nurture, nurture_rules
from karmabank.measures.network import score_network
from karmabank.measures.settings import MeasureSettings
from tests.measures.helpers import NOW, act, activities

S = MeasureSettings()
EMPTY = {
    "flags": FLAGS_SCHEMA.empty_table(),
    "transitions": nurture.TRANSITIONS_SCHEMA.empty_table(),
    "asks": nurture.ASKS_SCHEMA.empty_table(),
    "matches": nurture.MATCHES_SCHEMA.empty_table(),
}


def network() -> pa.Table:
    return activities(network_rows())


def network_rows() -> list[dict[str, object]]:
    """1: silent 400 days, back 2 days ago. 2: came thrice, silent 290 days, came 7 days - 10
    minutes ago and today: a return for a queue at the rescore's time, but not 30 minutes
    later, when that visit falls before the queue's window (and after the rescore's cutoff).
    3: back after 200 days, with a visit 100 days ago (too short a silence). 4..9: regulars;
    4, 5 and 6 commented yesterday, we thanked 4 and replied to 5 since, and welcomed 6 long
    ago. 10: quiet for 20 days, comments 10 minutes after the rescore: the queue 30 minutes
    later must know them as the rescore did. 11: quiet for 30 days (outside the pool),
    comments 10 minutes after the rescore and we reply 20 minutes after it: nothing left to
    do for them 30 minutes after."""
    rows = [act(1, 402, "comment"), act(1, 2, "comment")]
    rows += [act(2, d, "comment") for d in (300, 299, 298, 7 - 10 / 1440, 0.5)]
    rows += [act(3, 300, "comment"), act(3, 100, "comment"), act(3, 1, "comment")]
    rows += [act(p, d, "like") for p in range(4, 10) for d in (1, 9, 20, 40)]
    rows += [act(p, 0.9, "comment") for p in (4, 5, 6)]
    rows += [act(4, 0.5, "thank", "give"), act(5, 0.5, "reply", "give")]
    rows += [act(6, 200, "welcome", "give")]
    rows += [act(10, d, "like") for d in (20, 40, 60)] + [act(10, -10 / 1440, "comment")]
    rows += [act(11, d, "comment") for d in (30, 40, 50)] + [act(11, -10 / 1440, "comment")]
    rows += [act(11, -20 / 1440, "reply", "give")]
    return rows


def rescored(acts: pa.Table) -> tuple[pa.Table, pa.Table, pa.Table]:
    """What a rescore at NOW leaves: (the scores the queue reads, computed; its snapshot, with
    what the queue filters on; the pool rows)."""
    columns = pa.schema(list(nurture.SCORES_SCHEMA)[:8])  # what the rescore computes
    scores = score_network(acts, now=NOW, settings=S).scores.select(columns.names).cast(columns)
    return scores, *nurture.snapshot_parts(scores, acts, now=NOW, settings=S)


def queue_items(
    acts: pa.Table, way: str, minutes_after: int
) -> list[tuple[str, int, str | None, float]]:
    """The candidates at `minutes_after` the rescore, found the `way` given: "pool" (the
    snapshot and its pool, as a rescore leaves them), "snapshot" (no pool) or "scan"."""
    scores, snapshot, pool_rows = rescored(acts)
    if way == "scan":
        for name in ("last_in_before_window", *(f"gave_{n}" for n in nurture_rules.GIVES)):
            scores = scores.drop_columns([name]) if name in scores.column_names else scores
            scores = scores.append_column(name, pa.nulls(scores.num_rows, pa.int64()))
        snapshot = scores.select(nurture.SCORES_SCHEMA.names)
    pool = nurture.Pool(pool_rows, nurture.pool_since(S, micros(NOW))) if way == "pool" else None
    found = nurture.candidates(
        acts, now=NOW + timedelta(minutes=minutes_after), settings=S, scores=snapshot,
        scored_at=None if way == "scan" else micros(NOW), pool=pool, **EMPTY,
    )  # fmt: skip
    columns = ("kind", "person_id", "circle", "priority")
    return sorted(zip(*(found[c].to_pylist() for c in columns), strict=True))


def test_the_pool_holds_the_active_and_the_concerned_only() -> None:
    acts = network()
    scores, snapshot, pool = rescored(acts)
    assert snapshot.column("person_id").to_pylist() == sorted(
        scores.column("person_id").to_pylist()
    )
    gave = {r["person_id"]: r for r in snapshot.to_pylist()}
    assert gave[4]["gave_thank_at"] == gave[4]["gave_any_at"] is not None
    assert gave[4]["gave_reply_at"] is None
    assert gave[5]["gave_reply_at"] == gave[5]["gave_thank_at"] is not None  # a reply thanks
    assert gave[6]["gave_welcome_at"] is not None  # 200 days ago: ever counts
    assert gave[11]["gave_any_at"] is None  # their reply comes after the rescore
    pooled = set(pool.column("person_id").to_pylist())
    assert {1, 2, 4} <= pooled  # active in the last 14 days
    assert 10 not in pooled and 11 not in pooled  # quiet for 20 and 30 days


def test_every_way_finds_the_same_items() -> None:
    acts = network()
    for minutes, returning in ((0, [1, 2]), (30, [1])):
        fast = queue_items(acts, "pool", minutes_after=minutes)
        assert fast == queue_items(acts, "snapshot", minutes_after=minutes)
        assert fast == queue_items(acts, "scan", minutes_after=minutes)
        assert [p for k, p, _, _ in fast if k == "welcome_back"] == returning  # never 3
        thanked = {p for k, p, _, _ in fast if k == "thank"}
        answered = {p for k, p, _, _ in fast if k == "reply"}
        assert 4 not in thanked and 5 not in thanked and 6 in thanked  # a reply thanks too
        assert 4 in answered and 5 not in answered and 6 in answered
        if minutes == 30:  # known as the rescore knew them (circle and warmth)
            assert [c for k, p, c, _ in fast if p == 10 and k == "thank"] == ["observers"]
            # 11 (outside the pool) turned up, and was answered since
            assert [k for k, p, _, _ in fast if p == 11] == []
    at_20 = queue_items(acts, "pool", minutes_after=15)  # 11's comment, not answered yet
    assert at_20 == queue_items(acts, "scan", minutes_after=15)
    assert {k for k, p, _, _ in at_20 if p == 11} == {"reply", "thank"}


def test_a_rescore_after_the_queue_time_falls_back_to_the_scan() -> None:
    acts = network()
    # the queue asks for 30 minutes *before* the rescore: its cutoff is earlier, so the
    # rescore's "last visit before the window" may be too late; the scan answers instead
    early = queue_items(acts, "pool", minutes_after=-30)
    assert early == queue_items(acts, "scan", minutes_after=-30)
    assert [p for k, p, _, _ in early if k == "welcome_back"] == [1, 2]


def test_the_queue_describes_its_items_as_the_rules_found_them() -> None:
    """The queue chooses on narrow columns and describes only the chosen, from their keys:
    each of its items must be the very row the rules found (channel, give verb, detail)."""
    rows = network_rows() + [
        act(13, 400, "like"),
        act(13, 1, "like"),  # back, with nothing to thank or answer
        act(12, 1, "share", "peer", channel="mastodon"),  # matched below
    ]
    acts = activities(rows)
    shared = acts.num_rows  # the last activity's id
    _, snapshot, pool_rows = rescored(acts)
    inputs = {
        "flags": FLAGS_SCHEMA.empty_table(),
        "transitions": pa.Table.from_pylist(
            [
                {
                    "person_id": 7,
                    "from_stage": "engaged",
                    "to_stage": "participant",
                    "at": micros(NOW) - 3_600_000_000,
                }
            ],
            nurture.TRANSITIONS_SCHEMA,
        ),  # fmt: skip
        "asks": pa.Table.from_pylist(
            [{"ask_id": 5, "person_id": 8, "acted_at": micros(NOW), "campaign": "Spring"}],
            nurture.ASKS_SCHEMA,
        ),
        "matches": pa.Table.from_pylist(
            [{"activity_id": shared, "issue_id": 2, "affinity": 0.7, "terms": "river"}],
            nurture.MATCHES_SCHEMA,
        ),
    }
    pool = nurture.Pool(pool_rows, nurture.pool_since(S, micros(NOW)))
    common = {"now": NOW, "settings": S, "scores": snapshot, "scored_at": micros(NOW),
              "pool": pool, **inputs}  # fmt: skip
    found = {r["key"]: r for r in nurture.candidates(acts, **common).to_pylist()}
    queue = nurture.queue(
        acts, handled=nurture.HANDLED_SCHEMA.empty_table(), limit=100, **common
    ).to_pylist()
    assert queue and all(item == found[item["key"]] for item in queue)
    kinds = {item["kind"] for item in queue}
    assert {"reply", "welcome_back", "share", "thank_ask", "celebrate"} <= kinds
    share = next(item for item in queue if item["kind"] == "share")
    assert (share["channel"], share["detail"], share["give_verb"]) == ("mastodon", "river", "share")
