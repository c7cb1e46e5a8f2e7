"""Who may be one person: run the linkage model, keep its pairs as open merge suggestions.

`merge_suggestions` reads every person (not erased) and their identities column-wise, runs
`measures.identity.linkage.candidates` (splink on a private DuckDB) with no transaction open,
and in one transaction stores each pair as an open `merge_suggestion` (a pair already
suggested gets the new confidence, evidence and action; one marked `merge never`, or already
merged or rejected, is left alone). A merged person no longer exists (`actions/merging.py`
removes the absorbed row), so merged pairs are never found again. It returns the open
suggestions, most confident first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from karmabank.actions.people import PersonRef
from karmabank.measures.identity.features import PERSONS_SCHEMA
from karmabank.measures.identity.linkage import Candidate, candidates
from karmabank.measures.settings import LinkageSettings
from karmabank.store.merges import MergeNever, MergeSuggestion
from karmabank.store.open import Store
from karmabank.store.tables import Identity, Person


@dataclass(frozen=True, slots=True)
class SuggestionView:
    """One open suggestion: two persons, how likely they are one and why, what to do."""

    id: int
    a: PersonRef
    b: PersonRef
    confidence: float
    evidence: dict[str, Any]
    action: str  # auto | review

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "a": self.a.as_json(), "b": self.b.as_json(),
            "confidence": round(self.confidence, 6), "evidence": self.evidence,
            "action": self.action,
        }  # fmt: skip


def evidence_json(c: Candidate) -> dict[str, Any]:
    """The evidence field by field, as stored and shown: each field's level and match weight,
    the pair's total match weight and the platform both hold an identity on, if any."""
    return {
        "fields": [e.as_json() for e in c.evidence],
        "match_weight": round(c.match_weight, 3),
        "same_platform": c.conflict,
    }


def merge_suggestions(
    *,
    store: Store,
    settings: LinkageSettings,
    now: datetime,
    limit: int | None = None,
    min_confidence: float = 0.0,
) -> list[SuggestionView]:
    """Find the pairs, store them as open suggestions, return the open ones at or above
    `min_confidence` (at most `limit`), most confident first."""
    with store.sessions() as session:  # read, then let go: the matching takes a while
        persons = _persons(session)
    found = candidates(persons, settings=settings)
    with store.sessions.begin() as session:  # the writes, in one transaction
        _store(session, found, now=now)
        return _open(session, limit=limit, min_confidence=min_confidence)


def open_suggestions(
    *, store: Store, limit: int | None = None, offset: int = 0, min_confidence: float = 0.0
) -> list[SuggestionView]:
    """The stored open suggestions at or above `min_confidence`, most confident first (from
    `offset`, at most `limit`), without running the matcher: what the merge review lists."""
    with store.sessions() as session:
        return _open(session, limit=limit, min_confidence=min_confidence, offset=offset)


def _persons(session: Session) -> Any:
    """Every person who is not erased, with their identities, as `PERSONS_SCHEMA`."""
    import pyarrow as pa

    rows = session.execute(
        select(Person.id, Person.name, Person.bot, Person.team)
        .where(Person.erased.is_(False))
        .order_by(Person.id)
    ).all()
    held: dict[int, list[dict[str, str]]] = {}
    for pid, platform, key in session.execute(
        select(Identity.person_id, Identity.platform, Identity.key).order_by(Identity.id)
    ):
        held.setdefault(pid, []).append({"platform": platform, "key": key})
    return pa.table(
        {
            "id": [r[0] for r in rows], "name": [r[1] for r in rows],
            "names": [[r[1]] if r[1] else [] for r in rows],
            "bot": [bool(r[2]) for r in rows], "team": [bool(r[3]) for r in rows],
            "identities": [held.get(r[0], []) for r in rows],
        },
        schema=PERSONS_SCHEMA,
    )  # fmt: skip


def _store(session: Session, found: list[Candidate], *, now: datetime) -> None:
    never = {(a, b) for a, b in session.execute(select(MergeNever.person_a, MergeNever.person_b))}
    known = {
        (a, b): (sid, status)
        for sid, a, b, status in session.execute(
            select(MergeSuggestion.id, MergeSuggestion.person_a, MergeSuggestion.person_b,
                   MergeSuggestion.status)
        )
    }  # fmt: skip
    for c in found:
        if (c.a, c.b) in never:
            continue
        values = {"confidence": c.probability, "evidence": json.dumps(evidence_json(c)),
                  "action": c.action}  # fmt: skip
        if (c.a, c.b) not in known:
            session.add(MergeSuggestion(person_a=c.a, person_b=c.b, status="open",
                                        created_at=now, source=None, **values))  # fmt: skip
        elif known[(c.a, c.b)][1] == "open":
            sid = known[(c.a, c.b)][0]
            session.execute(update(MergeSuggestion).where(MergeSuggestion.id == sid).values(values))


def _open(
    session: Session, *, limit: int | None, min_confidence: float, offset: int = 0
) -> list[SuggestionView]:
    query = (
        select(MergeSuggestion)
        .where(MergeSuggestion.status == "open", MergeSuggestion.confidence >= min_confidence)
        .order_by(MergeSuggestion.confidence.desc(), MergeSuggestion.id)
        .offset(offset)
        .limit(limit)
    )
    suggestions = session.scalars(query).all()
    ids = {p for s in suggestions for p in (s.person_a, s.person_b)}
    people = {
        p.id: PersonRef.of(p) for p in session.scalars(select(Person).where(Person.id.in_(ids)))
    }
    return [
        SuggestionView(
            s.id,
            people[s.person_a],
            people[s.person_b],
            s.confidence,
            json.loads(s.evidence),
            s.action,
        )  # fmt: skip
        for s in suggestions
        if s.person_a in people and s.person_b in people
    ]
