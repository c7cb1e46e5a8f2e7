"""`merge auto`: apply the open `auto` merge suggestions, each as an audited merge.

The suggestions are taken most confident first (then by id), at or above `min_confidence`
(by default `linkage.auto_min_probability`, 0.99: only pairs the matcher calls `auto` are ever
applied, so a lower value changes nothing). Chains are followed: a suggestion names persons as
they were when suggested, and each is read as the persons they are now (a person merged into
another is that other), so A~B then B~C is one person in two merges, and a third suggestion
A~C is skipped as already one person. Each step is checked against the persons as the earlier
steps made them, and skipped (with the reason) rather than merged when:

- both are one person already (a triangle's third side: listed apart, `already_one`);
- they may never be merged (a bot and a human, a team member and someone else, an erased
  person, a pair marked `merge never`, also through earlier merges): what `merge` refuses;
- they hold two different identities on one platform a person has one of (two emails, two
  GitHub accounts): people do, but a person decides (`merge A B`), never `merge auto`. This
  also covers a chain that would gather two such identities into one person.

Every merge is a normal merge (`decided_by` `auto`, the suggestion's confidence, evidence and
id kept), so `unmerge` undoes it. All of one run is one transaction. `dry_run` plans the same
steps on the same checks and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from karmabank.actions.merging import MergeView, merge_in_session
from karmabank.actions.people import PersonRef
from karmabank.errors import MergeRefused
from karmabank.measures.identity.features import ONE_PER_PERSON
from karmabank.measures.settings import LinkageSettings
from karmabank.store.merges import Merge, MergeNever, MergeSuggestion
from karmabank.store.open import Store
from karmabank.store.tables import Identity, Person

DECIDED_BY = "auto"


@dataclass(frozen=True, slots=True)
class AutoStep:
    """One suggestion `merge auto` merged (or, in a dry run, would merge), or skipped and why.
    `kept` and `absorbed` are the persons as they were just before this step."""

    suggestion: int
    confidence: float
    kept: dict[str, Any]
    absorbed: dict[str, Any]
    merge: int | None = None  # the merge's id (None in a dry run or when skipped)
    skipped: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "suggestion": self.suggestion, "confidence": round(self.confidence, 6),
            "merge": self.merge, "persons": {"kept": self.kept, "absorbed": self.absorbed},
            **({"skipped": self.skipped} if self.skipped else {}),
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class AutoRun:
    """What one `merge auto` did (or would do, `dry_run`)."""

    min_confidence: float
    dry_run: bool
    merged: tuple[AutoStep, ...]
    skipped: tuple[AutoStep, ...]
    already_one: tuple[int, ...]  # suggestions whose persons the earlier steps made one

    def as_json(self) -> dict[str, Any]:
        return {
            "min_confidence": self.min_confidence, "dry_run": self.dry_run,
            "merged": [s.as_json() for s in self.merged],
            "skipped": [s.as_json() for s in self.skipped],
            "already_one": list(self.already_one),
        }  # fmt: skip


@dataclass
class _World:
    """The persons the suggestions name, as the steps so far made them: who each now is
    (`rep`), whom each holds (`members`), their flags and the platforms they hold an identity
    on, and the pairs never to merge."""

    rep: dict[int, int] = field(default_factory=dict)
    members: dict[int, set[int]] = field(default_factory=dict)
    flags: dict[int, tuple[bool, bool, bool]] = field(default_factory=dict)
    keys: dict[int, dict[str, set[str]]] = field(default_factory=dict)
    never: set[tuple[int, int]] = field(default_factory=set)

    def now(self, person: int) -> int:
        while (up := self.rep.get(person, person)) != person:
            person = up
        return person

    def refusal(self, x: int, y: int) -> str | None:
        if x not in self.flags or y not in self.flags:
            return "a person is gone"
        (xbot, xteam, xerased), (ybot, yteam, yerased) = self.flags[x], self.flags[y]
        if xerased or yerased:
            return "an erased person is never merged"
        if xbot != ybot:
            return "a bot and a human are never merged"
        if xteam != yteam:
            return "a team member and someone else are never merged"
        mine, theirs = self.members[x], self.members[y]
        if any((a in mine and b in theirs) or (a in theirs and b in mine) for a, b in self.never):
            return "marked never to merge"
        shared = sorted(ONE_PER_PERSON & self.keys[x].keys() & self.keys[y].keys())
        if shared:  # an identity is one person's: two of them on one platform differ
            return f"both hold an identity on {shared[0]}: a person decides (merge A B)"
        return None

    def join(self, kept: int, absorbed: int) -> None:
        self.rep[absorbed] = kept
        self.members[kept] |= self.members.pop(absorbed)
        for platform, keys in self.keys.pop(absorbed).items():
            self.keys[kept].setdefault(platform, set()).update(keys)
        del self.flags[absorbed]


def merge_auto(
    *, store: Store, settings: LinkageSettings, now: datetime,
    min_confidence: float | None = None, dry_run: bool = False,
) -> AutoRun:  # fmt: skip
    """Apply (or with `dry_run` only plan) the open `auto` suggestions at or above
    `min_confidence` (default `settings.auto_min_probability`), in one transaction."""
    threshold = settings.auto_min_probability if min_confidence is None else min_confidence
    begin = store.sessions if dry_run else store.sessions.begin
    with begin() as session:
        todo = [
            (s.id, s.person_a, s.person_b, s.confidence)
            for s in session.scalars(
                select(MergeSuggestion)
                .where(MergeSuggestion.status == "open", MergeSuggestion.action == "auto",
                       MergeSuggestion.confidence >= threshold)
                .order_by(MergeSuggestion.confidence.desc(), MergeSuggestion.id)
            )
        ]  # fmt: skip
        world = _world(session, {p for _, a, b, _ in todo for p in (a, b)})
        merged: list[AutoStep] = []
        skipped: list[AutoStep] = []
        already: list[int] = []
        for sid, a, b, confidence in todo:
            x, y = world.now(a), world.now(b)
            if x == y:  # a triangle's third side, or merged by hand since
                already.append(sid)
                continue
            kept, absorbed = max(x, y), min(x, y)
            reason = world.refusal(x, y)
            view = None
            if reason is None and not dry_run:
                reason, view = _apply(session, sid, kept, absorbed, now)
            if view is None:
                refs = {"kept": _ref(session, kept), "absorbed": _ref(session, absorbed)}
            else:  # the persons as the merge found them
                refs = {"kept": view.kept, "absorbed": view.absorbed}
            step = AutoStep(sid, confidence, merge=None if view is None else view.id,
                            skipped=reason, **refs)  # fmt: skip
            if reason is not None:
                skipped.append(step)
                continue
            world.join(kept, absorbed)
            merged.append(step)
        return AutoRun(threshold, dry_run, tuple(merged), tuple(skipped), tuple(already))


def _apply(
    session: Session, suggestion: int, kept: int, absorbed: int, now: datetime
) -> tuple[str | None, MergeView | None]:
    one, other = session.get(Person, kept), session.get(Person, absorbed)
    assert one is not None and other is not None  # _world read them in this transaction
    try:
        view = merge_in_session(
            session, one, other, now=now, decided_by=DECIDED_BY,
            why=f"merge auto: suggestion {suggestion}", suggestion_id=suggestion,
        )  # fmt: skip
    except MergeRefused as e:  # checked before anything is written: the run goes on
        return str(e), None
    return None, view


def _ref(session: Session, person: int) -> dict[str, Any]:
    p = session.get(Person, person)
    return (
        {"id": person, "name": None, "identities": []} if p is None else PersonRef.of(p).as_json()
    )


def _world(session: Session, persons: Iterable[int]) -> _World:
    world = _World()
    active = {
        absorbed: kept
        for absorbed, kept in session.execute(
            select(Merge.absorbed_id, Merge.kept_id).where(Merge.undone_at.is_(None))
        )
    }
    world.rep = dict(active)  # a suggestion may name a person merged by hand since
    ids = {world.now(p) for p in persons}
    for chunk in _chunks(ids):
        for p, bot, team, erased in session.execute(
            select(Person.id, Person.bot, Person.team, Person.erased).where(Person.id.in_(chunk))
        ):
            world.flags[p] = (bool(bot), bool(team), bool(erased))
            world.members[p] = {p}
            world.keys[p] = {}
    for absorbed in active:  # everyone merged into a person is one of its members
        top = world.now(absorbed)
        if top in world.members:
            world.members[top].add(absorbed)
    for chunk in _chunks(world.flags):
        for p, platform, key in session.execute(
            select(Identity.person_id, Identity.platform, Identity.key).where(
                Identity.person_id.in_(chunk)
            )
        ):
            world.keys[p].setdefault(platform, set()).add(key)
    world.never = {(a, b) for a, b in session.execute(
        select(MergeNever.person_a, MergeNever.person_b)
    )}  # fmt: skip
    return world


def _chunks(ids: Iterable[int], size: int = 5000) -> list[list[int]]:
    """`ids` in lists short enough for one IN (...) on every backend."""
    ordered = sorted(ids)
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]
