"""The nurture queue's returns (`welcome_back`) read each person's last visit before the window
from the rescore instead of scanning every activity: both ways must find the same items, also
when the queue is built a little after the rescore (a visit can fall between the two cutoffs)."""

from __future__ import annotations

from datetime import timedelta

import pyarrow as pa

from karmabank.measures import nurture
from karmabank.measures.frames import FLAGS_SCHEMA, micros
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
    """1: silent 400 days, back 2 days ago. 2: came thrice, silent 290 days, came 7 days - 10 minutes ago and
    today: a return for a queue at the rescore's time, but not 30 minutes later, when that visit
    falls before the queue's window (and after the rescore's cutoff). 3: back after 200 days,
    with a visit 100 days ago (too short a silence). 4..9: regulars. 10: quiet for 20 days, comments
    10 minutes after the rescore: the queue 30 minutes later must know them as the rescore did."""
    rows = [act(1, 402, "comment"), act(1, 2, "comment")]
    rows += [act(2, d, "comment") for d in (300, 299, 298, 7 - 10 / 1440, 0.5)]
    rows += [act(3, 300, "comment"), act(3, 100, "comment"), act(3, 1, "comment")]
    rows += [act(p, d, "like") for p in range(4, 10) for d in (1, 9, 20, 40)]
    rows += [act(10, d, "like") for d in (20, 40, 60)] + [act(10, -10 / 1440, "comment")]
    return activities(rows)


def queue_items(
    acts: pa.Table, known: bool, minutes_after: int
) -> list[tuple[str, int, str | None, float]]:
    scored = score_network(acts, now=NOW, settings=S).scores
    scores = scored.select(nurture.SCORES_SCHEMA.names).cast(nurture.SCORES_SCHEMA)
    if known:  # as the rescore's snapshot has it: who some rule may concern, stored per person
        scores = nurture.with_concerned(scores, S)
    if not known:
        scores = scores.set_column(
            scores.schema.get_field_index("last_in_before_window"), "last_in_before_window",
            pa.nulls(scores.num_rows, pa.int64()),
        )  # fmt: skip
    found = nurture.candidates(
        acts, now=NOW + timedelta(minutes=minutes_after), settings=S, scores=scores,
        scored_at=micros(NOW) if known else None, **EMPTY,
    )  # fmt: skip
    columns = ("kind", "person_id", "circle", "priority")
    return sorted(zip(*(found[c].to_pylist() for c in columns), strict=True))


def test_returns_from_the_rescore_equal_a_full_scan() -> None:
    acts = network()
    for minutes, returning in ((0, [1, 2]), (30, [1])):
        fast = queue_items(acts, known=True, minutes_after=minutes)
        assert fast == queue_items(acts, known=False, minutes_after=minutes)
        assert [p for k, p, _, _ in fast if k == "welcome_back"] == returning  # never 3
        if minutes == 30:  # known as the rescore knew them (circle and warmth)
            assert [c for k, p, c, _ in fast if p == 10 and k == "thank"] == ["observers"]


def test_a_rescore_after_the_queue_time_falls_back_to_the_scan() -> None:
    acts = network()
    # the queue asks for 30 minutes *before* the rescore: its cutoff is earlier, so the
    # rescore's "last visit before the window" may be too late; the scan answers instead
    early = queue_items(acts, known=True, minutes_after=-30)
    assert early == queue_items(acts, known=False, minutes_after=-30)
    assert [p for k, p, _, _ in early if k == "welcome_back"] == [1, 2]
