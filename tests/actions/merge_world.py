"""A small world for merge tests: eight persons with every kind of row that names a person
(identities, activities as actor and as target, asks with a clash, nurture suggestions, ladder
transitions, scores with circle history, merge suggestions, a pair never to merge, per-channel
opt-outs with a clash), and a dump
of every table a merge touches, to compare before and after."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text

from karmabank.model import to_micros
from karmabank.store.merges import MergeNever, MergeSuggestion
from karmabank.store.open import Store
from karmabank.store.org_tables import OptOut
from karmabank.store.tables import (
    Activity,
    Ask,
    Campaign,
    Identity,
    LadderTransition,
    Organization,
    Person,
    PersonScore,
    Suggestion,
)
from tests.conftest import NOW

DUMPED = (
    "person", "identity", "activity", "ask", "suggestion", "ladder_transition", "person_score",
    "merge_suggestion", "merge_never", "opt_out",
)  # fmt: skip
# id: (name, manual, flags, identities, circle, stage)
PEOPLE: dict[int, tuple[str | None, bool, tuple[str, ...], tuple[str, ...], str | None, str]] = {
    1: (
        "Ada",
        False,
        (),
        ("email:ada@example.org", "mastodon:@ada@social.example"),
        "friends",
        "engaged",
    ),
    2: ("Ada L.", True, ("do_not_contact",), ("github:ada",), "core", "participant"),
    3: ("Bob Bot", False, ("bot",), ("x:bobbot",), None, "aware"),
    4: ("Tess", False, ("team",), ("email:tess@org.example",), "allies", "leader"),
    5: ("Cara", False, (), ("bluesky:cara.example",), "acquaintances", "aware"),
    6: (None, False, (), ("x:cara",), None, "aware"),
    7: ("Dan", True, (), ("email:dan@example.org",), "newcomers", "engaged"),
    8: ("Dan", False, (), ("github:dan",), None, "aware"),
}
CAMPAIGNS = (1, 2)


def build_world(store: Store) -> None:
    """The world, written through the ORM in one transaction."""
    with store.sessions.begin() as s:
        s.add(Organization(id=1, name="Org", created_at=NOW))
        for c in CAMPAIGNS:
            s.add(Campaign(id=c, name=f"c{c}", action="sign", budget=10, created_at=NOW))
        for pid, (name, manual, flags, idents, _c, _s) in PEOPLE.items():
            s.add(Person(id=pid, name=name, name_manual=manual, created_at=NOW - timedelta(pid),
                         followers=pid * 10 if pid % 2 else None,
                         **{f: True for f in flags}))  # fmt: skip
            for ident in idents:
                platform, key = ident.split(":", 1)
                s.add(Identity(person_id=pid, platform=platform, key=key))
        s.flush()
        _activities_and_asks(s)
        _scores(s)
        s.add(MergeSuggestion(person_a=1, person_b=2, confidence=0.97, evidence='{"name": 2.1}',
                              action="auto", created_at=NOW))  # fmt: skip
        s.add(MergeSuggestion(person_a=5, person_b=6, confidence=0.6, evidence="{}",
                              action="review", created_at=NOW))  # fmt: skip
        s.add(MergeNever(person_a=7, person_b=8, decided_at=NOW, decided_by="cli"))


def _activities_and_asks(s: Any) -> None:
    n = 0
    for pid in PEOPLE:
        for k in range(3):
            n += 1
            target = (pid % 8) + 1 if k == 2 else None
            s.add(Activity(source_key=f"k{n}", occurred_at=NOW - timedelta(days=n), person_id=pid,
                           verb="comment" if target is None else "reply",
                           direction="in" if target is None else "peer", channel="blog",
                           text=f"t{n}", target_id=target))  # fmt: skip
    for pid, campaign in ((1, 1), (2, 1), (2, 2), (5, 2), (6, 1), (7, 1)):
        s.add(Ask(campaign_id=campaign, person_id=pid, planned_at=NOW, position=pid))
    for pid in (1, 2, 6):
        s.add(Suggestion(key=f"welcome:{pid}", kind="welcome", person_id=pid, reason="new",
                         priority=1.0, created_at=NOW))  # fmt: skip
    for pid in PEOPLE:
        s.add(LadderTransition(person_id=pid, from_stage=None, to_stage="aware", at=pid))
    for pid, channel in ((1, "email"), (2, "email"), (2, "mastodon"), (5, "x")):  # 1, 2 clash
        s.add(OptOut(person_id=pid, channel=channel, created_at=NOW, source="cli"))


def _scores(s: Any) -> None:
    for pid, (_n, _m, _f, _i, circle, stage) in PEOPLE.items():
        if pid in (6, 8):  # two without a score row
            continue
        s.add(PersonScore(
            person_id=pid, last_at=to_micros(NOW), warmth=float(pid), multiplexity=1.0,
            channels=1, tenure_days=10, silence_days=1, presence_30=1, presence_90=1,
            presence_365=1, cadence_days=None, cadence_used=7.0, status="active",
            warmth_rank=pid, raw_circle=circle, circle=circle, circle_since=pid * 1000,
            pending_circle=None, pending_since=None, stage=stage, stage_at=pid * 100, given=0.0,
            asked=0.0, balance=0.0, balance_decayed=0.0, asks_recent=0, asks_year=0,
            last_ask_at=None, ask_ready=False, ask_rule=None,
        ))  # fmt: skip


def dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables a merge touches, in key order."""
    with store.engine.connect() as conn:
        return {
            t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY 1, 2"))]
            for t in DUMPED
        }
