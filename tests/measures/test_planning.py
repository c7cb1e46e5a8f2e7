"""The planner's arithmetic, without a store: who may be asked and who is left out by which
rule (counted all, named by likelihood), each person's likelihood looked up by id, and the
reason said for an ask."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from karmabank.measures.planning import RULES, ask_reason, by_person, left_out, pool_of

CODE = {rule: i for i, rule in enumerate(RULES, start=1)}


def test_the_asked_are_kept_out_by_the_campaign_s_rule_and_the_rest_by_theirs() -> None:
    people = np.array([10, 11, 12, 13, 14, 15], dtype=np.int64)
    ready = np.array([True, True, False, False, True, False])
    code = np.array([0, 0, CODE["balance"], CODE["cooldown"], 0, CODE["balance"]], np.int64)
    chance = np.array([0.5, 0.4, 0.1, 0.9, 0.2, 0.3])
    pool = pool_of(people, ready, code, chance, asked={11})
    assert pool.candidates.tolist() == [10, 14]
    assert code.tolist() == [0, 0, 2, 3, 0, 2]  # the caller's codes are left as they were
    out = left_out(pool, None)
    assert out.by_rule == {"balance": 2, "recent_ask": 1, "asked_in_campaign": 1}
    assert out.count == 4
    assert out.people == [13, 11, 15, 12]  # the most likely to act first
    assert out.rules == ["recent_ask", "asked_in_campaign", "balance", "balance"]
    few = left_out(pool, 2)
    assert (few.people, few.by_rule) == ([13, 11], out.by_rule)  # all counted, two named
    assert left_out(pool, 0).people == []


def test_a_likelihood_is_looked_up_by_person_and_missing_is_zero() -> None:
    likely = pa.table({"person_id": pa.array([7, 3, 5], pa.int64()),
                       "likelihood": pa.array([0.7, 0.3, 0.5])})  # fmt: skip
    got = by_person(likely, np.array([3, 4, 5, 7, 9], dtype=np.int64))
    assert got.tolist() == [0.3, 0.0, 0.5, 0.7, 0.0]
    empty = pa.table(
        {"person_id": pa.array([], pa.int64()), "likelihood": pa.array([], pa.float64())}
    )
    assert by_person(empty, np.array([1, 2], dtype=np.int64)).tolist() == [0.0, 0.0]


def test_a_reason_says_the_facts_the_chance_and_the_reach_through_them() -> None:
    assert ask_reason(("core", "active", "engaged"), 3.4, 0.26, "warmth (+0.8)") == (
        "core, active, engaged; 26% likely to act (warmth (+0.8)); if they do, about 12 more "
        "people hear of it through them (expected reach +3.4)"
    )
    assert "about 0 more people" in ask_reason((None, None, None), 1.0, 0.0, "")
