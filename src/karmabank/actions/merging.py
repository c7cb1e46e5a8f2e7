"""Merging two persons into one, undoing it exactly, and pairs never to merge (issue 15).

`merge_people` keeps the person with the higher id and absorbs the other. SQLite gives a new
row the highest id plus one, so an absorbed highest id could be handed out again; with the
higher one kept, the absorbed id stays free and comes back on `unmerge` (PostgreSQL's sequence
never reuses one anyway).
What moves and how flags combine is `merge_rows`'s; everything that changed is recorded in the
`merge` row (`moved`), so `unmerge` puts each person back as they were.

Nesting: a kept person may be merged again (its earlier merges stay active inside the new
one). `unmerge` undoes a person's merges newest first: undoing one while a later active merge
involves its kept person is refused, naming the merge to undo first. Each use case is one
transaction, audited; merges bump the data revision, so scores are recomputed on demand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session

from karmabank.actions.merge_rows import (
    COMBINED,
    PERSON_TABLE,
    combine_scores,
    combined_person,
    move_rows,
    restore_rows,
    restore_scores,
    row_of,
)
from karmabank.actions.organization import write_audit
from karmabank.actions.people import PersonRef, find_person, iso
from karmabank.errors import MergeRefused, NotFoundError
from karmabank.store.merges import Merge, MergeNever, MergeSuggestion
from karmabank.store.open import Store
from karmabank.store.tables import Person, stored_id


@dataclass(frozen=True, slots=True)
class MergeView:
    """One merge, as `merge list` prints it and the API returns it (`as_json`): the persons as
    they were when merged."""

    id: int
    at: datetime
    decided_by: str
    why: str | None
    confidence: float | None
    evidence: dict[str, Any]
    kept: dict[str, Any]
    absorbed: dict[str, Any]
    undone_at: datetime | None

    @classmethod
    def of(cls, m: Merge) -> MergeView:
        moved = json.loads(m.moved)
        return cls(
            id=m.id, at=m.decided_at, decided_by=m.decided_by, why=m.why,
            confidence=m.confidence, evidence=json.loads(m.evidence), kept=moved["kept_ref"],
            absorbed=moved["absorbed_ref"], undone_at=m.undone_at,
        )  # fmt: skip

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "at": iso(self.at), "decided_by": self.decided_by, "why": self.why,
            "confidence": self.confidence, "evidence": self.evidence,
            "persons": {"kept": self.kept, "absorbed": self.absorbed},
            "undone_at": iso(self.undone_at),
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class NeverPair:
    """Two persons marked never to merge (`as_json`: both, when, who, why)."""

    a: PersonRef
    b: PersonRef
    at: datetime
    decided_by: str
    why: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "a": self.a.as_json(), "b": self.b.as_json(), "at": iso(self.at),
            "decided_by": self.decided_by, "why": self.why,
        }  # fmt: skip


def merge_people(
    *, store: Store, a: str, b: str, now: datetime, decided_by: str, why: str | None = None,
    confidence: float | None = None, evidence: dict[str, Any] | None = None,
) -> MergeView:  # fmt: skip
    """Merge the persons `a` and `b` refer to (ids, identities or unique names) into one, in one
    transaction: refused (`MergeRefused`, nothing changed) for one person twice, a bot with a
    human, a team member with someone else, an erased person, or a pair marked never to merge.
    An open suggestion of the pair is marked merged, and lends its confidence and evidence when
    none are given. `decided_by`: a user's email, `cli`, `auto` or `source`."""
    with store.sessions.begin() as session:
        one, other = find_person(session, a), find_person(session, b)
        return merge_in_session(
            session, one, other, now=now, decided_by=decided_by, why=why,
            confidence=confidence, evidence=evidence,
        )  # fmt: skip


def merge_in_session(
    session: Session, one: Person, other: Person, *, now: datetime, decided_by: str,
    why: str | None = None, confidence: float | None = None,
    evidence: dict[str, Any] | None = None, suggestion_id: int | None = None,
) -> MergeView:  # fmt: skip
    """`merge_people` inside the caller's transaction, for two persons loaded in `session`:
    refused (`MergeRefused`) before anything is written. `suggestion_id` names the suggestion
    the merge applies (`merge auto`: in a chain it may be of persons merged since); without it,
    the pair's own open suggestion, if any. The session's objects are expunged."""
    _check_mergeable(session, one, other)
    kept, absorbed = (one, other) if one.id > other.id else (other, one)
    refs = {"kept_ref": PersonRef.of(kept).as_json(),
            "absorbed_ref": PersonRef.of(absorbed).as_json()}  # fmt: skip
    suggestion = (
        _pair_suggestion(session, kept.id, absorbed.id)
        if suggestion_id is None
        else session.get(MergeSuggestion, suggestion_id)
    )
    if suggestion is not None:  # the matcher's word, unless the caller gives its own
        confidence = suggestion.confidence if confidence is None else confidence
        evidence = json.loads(suggestion.evidence) if evidence is None else evidence
    merge = Merge(
        kept_id=kept.id, absorbed_id=absorbed.id, decided_at=now, decided_by=decided_by,
        why=why, confidence=confidence, evidence=json.dumps(evidence or {}),
        suggestion_id=None if suggestion is None else suggestion.id,
    )  # fmt: skip
    suggestion_state = None if suggestion is None else (suggestion.id, suggestion.status)
    moved = _merge_rows(session, kept.id, absorbed.id)
    if suggestion_state is not None:
        moved["suggestion_status"] = suggestion_state[1]
        session.execute(
            update(MergeSuggestion).where(MergeSuggestion.id == suggestion_state[0])
            .values(status="merged")
        )  # fmt: skip
    merge.moved = json.dumps({**refs, **moved})
    session.add(merge)
    session.flush()
    write_audit(
        session, now=now, actor=decided_by, action="merge", subject=f"merge:{merge.id}",
        details={"kept": kept.id, "absorbed": absorbed.id, "why": why},
    )  # fmt: skip
    return MergeView.of(merge)


def _merge_rows(session: Session, kept: int, absorbed: int) -> dict[str, Any]:
    """Move every row, combine the persons' columns and scores, remove the absorbed row."""
    session.flush()
    kept_row = row_of(session, PERSON_TABLE, id=kept)
    absorbed_row = row_of(session, PERSON_TABLE, id=absorbed)
    assert kept_row is not None and absorbed_row is not None
    moved = move_rows(session, kept=kept, absorbed=absorbed)
    moved["scores"] = combine_scores(session, kept=kept, absorbed=absorbed)
    after = combined_person(kept_row, absorbed_row)
    changed = {c: after[c] for c in COMBINED if after[c] != kept_row[c]}
    moved["kept_before"] = {c: kept_row[c] for c in changed}
    moved["kept_after"] = changed
    moved["absorbed"] = absorbed_row
    session.expunge_all()  # the ORM's objects of both persons are out of date from here
    session.execute(delete(PERSON_TABLE).where(PERSON_TABLE.c.id == absorbed))
    if changed:
        session.execute(update(PERSON_TABLE).where(PERSON_TABLE.c.id == kept).values(changed))
    return moved


def unmerge(*, store: Store, merge_id: str | int, now: datetime, decided_by: str) -> MergeView:
    """Undo a merge exactly, in one transaction: the absorbed person comes back with its id,
    row, identities, activities, asks, suggestions, ladder history and score row; the kept
    person's name, flags and score as they were (a column changed since the merge keeps its
    newer value). Refused when unknown, already undone, or while a later merge involves the
    kept person (undo that one first)."""
    with store.sessions.begin() as session:
        merge = _merge_by_id(session, merge_id)
        if merge.undone_at is not None:
            raise MergeRefused(f"merge {merge.id} was already undone ({iso(merge.undone_at)})")
        later = session.scalar(
            select(Merge.id).where(
                Merge.id > merge.id, Merge.undone_at.is_(None),
                or_(Merge.kept_id == merge.kept_id, Merge.absorbed_id == merge.kept_id),
            ).order_by(Merge.id.desc()).limit(1)
        )  # fmt: skip
        if later is not None:
            raise MergeRefused(
                f"merge {merge.id} is inside the later merge {later} of person "
                f"{merge.kept_id}: unmerge {later} first"
            )
        if session.get(Person, merge.absorbed_id) is not None:  # never: ids are not reused
            raise MergeRefused(f"person id {merge.absorbed_id} is taken: cannot restore it")
        _restore(session, merge)
        merge.undone_at, merge.undone_by = now, decided_by
        write_audit(
            session, now=now, actor=decided_by, action="unmerge", subject=f"merge:{merge.id}",
            details={"kept": merge.kept_id, "absorbed": merge.absorbed_id},
        )  # fmt: skip
        return MergeView.of(merge)


def _restore(session: Session, merge: Merge) -> None:
    moved = json.loads(merge.moved)
    session.execute(insert(PERSON_TABLE), [moved["absorbed"]])
    restore_rows(session, moved=moved, absorbed=merge.absorbed_id)
    restore_scores(session, before=moved["scores"], kept=merge.kept_id)
    now_row = row_of(session, PERSON_TABLE, id=merge.kept_id)
    assert now_row is not None
    back = {c: v for c, v in moved["kept_before"].items() if now_row[c] == moved["kept_after"][c]}
    if back:
        session.execute(update(PERSON_TABLE).where(PERSON_TABLE.c.id == merge.kept_id).values(back))
    if merge.suggestion_id is not None and "suggestion_status" in moved:
        session.execute(
            update(MergeSuggestion).where(MergeSuggestion.id == merge.suggestion_id)
            .values(status=moved["suggestion_status"])
        )  # fmt: skip


def merge_never(
    *, store: Store, a: str, b: str, now: datetime, decided_by: str, why: str | None = None
) -> NeverPair:
    """Mark two persons as never to merge (nor to suggest), in one transaction; an open
    suggestion of the pair becomes `rejected`. Marking a pair twice keeps the first mark."""
    with store.sessions.begin() as session:
        one, other = find_person(session, a), find_person(session, b)
        if one.id == other.id:
            raise MergeRefused(f"{a!r} and {b!r} are the same person ({one.id})")
        low, high = sorted((one.id, other.id))
        pair = session.get(MergeNever, (low, high))
        if pair is None:
            pair = MergeNever(person_a=low, person_b=high, decided_at=now,
                              decided_by=decided_by, why=why)  # fmt: skip
            session.add(pair)
            suggestion = _pair_suggestion(session, low, high)
            if suggestion is not None and suggestion.status == "open":
                suggestion.status = "rejected"
            write_audit(
                session, now=now, actor=decided_by, action="merge never",
                subject=f"person:{low}", details={"a": low, "b": high, "why": why},
                scored=False,
            )  # fmt: skip
        first, second = (one, other) if one.id == low else (other, one)
        return NeverPair(PersonRef.of(first), PersonRef.of(second), pair.decided_at,
                         pair.decided_by, pair.why)  # fmt: skip


def list_merges(*, store: Store, include_undone: bool = True) -> list[MergeView]:
    """Every merge, oldest first (the undone ones too, unless `include_undone` is false)."""
    with store.sessions() as session:
        query = select(Merge).order_by(Merge.id)
        if not include_undone:
            query = query.where(Merge.undone_at.is_(None))
        return [MergeView.of(m) for m in session.scalars(query)]


def _check_mergeable(session: Session, one: Person, other: Person) -> None:
    if one.id == other.id:
        raise MergeRefused(f"{_who(one)} and {_who(other)} are the same person: nothing to merge")
    for flag, what in (("bot", "a bot"), ("team", "a team member")):
        if getattr(one, flag) != getattr(other, flag):
            yes, no = (one, other) if getattr(one, flag) else (other, one)
            raise MergeRefused(
                f"{_who(yes)} is {what} and {_who(no)} is not: they are never merged"
            )
    for p in (one, other):
        if p.erased:
            raise MergeRefused(f"{_who(p)} was erased: an erased person is never merged")
    mine, theirs = _members(session, one.id), _members(session, other.id)
    never = session.execute(
        select(MergeNever.person_a, MergeNever.person_b).where(
            or_(MergeNever.person_a.in_(mine | theirs), MergeNever.person_b.in_(mine | theirs))
        )
    ).all()
    for x, y in never:
        if (x in mine and y in theirs) or (x in theirs and y in mine):
            raise MergeRefused(
                f"{_who(one)} and {_who(other)} are marked never to merge "
                f"(persons {x} and {y} were marked so)"
            )


def _members(session: Session, person: int) -> set[int]:
    """The person and everyone merged into them (active merges, nested ones too)."""
    found, frontier = {person}, [person]
    while frontier:
        inner = session.scalars(
            select(Merge.absorbed_id).where(Merge.kept_id.in_(frontier), Merge.undone_at.is_(None))
        ).all()
        frontier = [p for p in inner if p not in found]
        found.update(frontier)
    return found


def _pair_suggestion(session: Session, x: int, y: int) -> MergeSuggestion | None:
    low, high = sorted((x, y))
    return session.scalar(
        select(MergeSuggestion).where(
            MergeSuggestion.person_a == low, MergeSuggestion.person_b == high
        )
    )


def _merge_by_id(session: Session, merge_id: str | int) -> Merge:
    digits = str(merge_id).strip()
    number = stored_id(digits) if digits.isascii() and digits.isdigit() else None
    merge = None if number is None else session.get(Merge, number)
    if merge is None:
        raise NotFoundError(f"no merge with id {digits!r} (see `merge list`)")
    return merge


def _who(p: Person) -> str:
    return f"{p.name} (id:{p.id})" if p.name else f"id:{p.id}"
