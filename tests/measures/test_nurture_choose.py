"""The nurture queue's choice (one item per person, spread across circles, cut to the limit)
chooses on narrow columns, then reads the chosen rows whole: it must equal the plain rule."""

from __future__ import annotations

import random
from typing import Any

import pyarrow as pa

from karmabank.frames import micros
from karmabank.measures import nurture
from karmabank.model import Circle
from tests.measures.helpers import NOW


def plain_choice(
    rows: list[dict[str, Any]], handled: list[dict[str, Any]], limit: int
) -> list[dict[str, Any]]:
    status = {h["key"]: h for h in handled}
    now = micros(NOW)

    def is_open(r: dict[str, Any]) -> bool:
        h = status.get(r["key"])
        return (
            h is None
            or h["status"] == "open"
            or (h["status"] == "snoozed" and (h["snoozed_until"] or 0) <= now)
        )

    best: dict[int, dict[str, Any]] = {}
    for r in sorted(filter(is_open, rows), key=lambda r: (-r["priority"], r["key"])):
        best.setdefault(r["person_id"], r)
    turns: dict[str, int] = {}
    spread = []
    for r in sorted(best.values(), key=lambda r: (-r["priority"], r["key"])):
        turns[r["circle"] or ""] = turns.get(r["circle"] or "", 0) + 1
        rank = list(Circle).index(r["circle"]) if r["circle"] in set(Circle) else len(Circle)
        spread.append(((turns[r["circle"] or ""], -r["priority"], rank, r["key"]), r))
    return [r for _, r in sorted(spread, key=lambda x: x[0])][:limit]


def test_the_choice_equals_the_plain_rule() -> None:
    rng = random.Random(7)
    circles = [*Circle, None]
    rows: list[dict[str, Any]] = []
    for person in range(1, 120):
        circle = rng.choice(circles)
        for _ in range(rng.randint(1, 4)):
            kind = rng.choice(["thank", "reply", "celebrate"])
            rows.append({
                "key": f"{kind}:{rng.randint(1, 400)}", "kind": kind, "person_id": person,
                "activity_id": rng.randint(1, 9), "ask_id": None, "issue_id": None,
                "priority": float(rng.choice([50, 60, 80, 90])), "give_verb": kind,
                "channel": "forum", "circle": circle, "detail": f"d{rng.randint(1, 9)}",
            })  # fmt: skip
    # distinct keys per person (as the rules make them); ties in priority go by key *string*
    rows = list({str(r["key"]): r for r in reversed(rows)}.values())
    handled = [
        {"key": r["key"], "status": rng.choice(["done", "skipped", "open", "snoozed"]),
         "snoozed_until": rng.choice([None, micros(NOW) - 1, micros(NOW) + 1])}
        for r in rng.sample(rows, 40)
    ]  # fmt: skip
    found = pa.Table.from_pylist(rows, schema=nurture.CANDIDATE_SCHEMA)
    done = pa.Table.from_pylist(handled, schema=nurture.HANDLED_SCHEMA)
    for limit in (0, 1, 5, 10, 40, 500):
        chosen = nurture.choose(found, handled=done, now=NOW, limit=limit)
        assert chosen.to_pylist() == plain_choice(rows, handled, limit), limit
