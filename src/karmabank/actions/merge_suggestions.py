"""Who may be one person: run the linkage model, keep its pairs as open merge suggestions.

`merge_suggestions` reads every person (not erased) and their identities column-wise, runs
`measures.identity.linkage.candidates` (splink on a private DuckDB, or on Spark) with no
transaction open,
and in one transaction stores each pair as an open `merge_suggestion` (a pair already
suggested gets the new confidence, evidence and action; one marked `merge never`, or already
merged or rejected, is left alone; an open one of the matcher's that the run no longer finds
becomes `stale`, open again when a run finds it). A merged person no longer exists
(`actions/merging.py` removes the absorbed row), so merged pairs are never found again, and a
suggestion naming an absorbed person is not listed (`listed`) until an unmerge brings the
person back. It returns the open suggestions, most confident first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, func, insert, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from karmabank.actions.people import PersonRef
from karmabank.measures.engines import DUCKDB, SqlEngine
from karmabank.measures.identity.features import PERSONS_SCHEMA
from karmabank.measures.identity.linkage import Candidate, candidates
from karmabank.measures.settings import LinkageSettings
from karmabank.store.merges import MergeNever, MergeSuggestion
from karmabank.store.open import Store
from karmabank.store.tables import Person


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
    engine: SqlEngine = DUCKDB,
) -> list[SuggestionView]:
    """Find the pairs (splink on `engine`: DuckDB here, or Spark), store them as open
    suggestions, return the open ones at or above `min_confidence` (at most `limit`), most
    confident first. Nothing is written if the engine fails."""
    persons = _persons(store)  # read, then let go: the matching takes a while
    found = candidates(persons, settings=settings, engine=engine)
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


# from this many persons on, they are read column-wise (ADBC: no Python object per row)
COLUMN_WISE = 50_000


def _persons(store: Store) -> Any:
    """Every person who is not erased, with their identities, as `PERSONS_SCHEMA`."""
    import duckdb
    import pyarrow as pa

    from karmabank.store import arrow_io

    persons_schema = pa.schema([("id", pa.int64()), ("name", pa.string()),
                                ("bot", pa.bool_()), ("team", pa.bool_())])  # fmt: skip
    idents_schema = pa.schema([("id", pa.int64()), ("person_id", pa.int64()),
                               ("platform", pa.string()), ("key", pa.string())])  # fmt: skip
    alive = "WHERE erased = false" if store.url.startswith("postgresql") else "WHERE erased = 0"
    with store.sessions() as session:
        count = session.scalar(select(func.count()).select_from(Person)) or 0
        if count < COLUMN_WISE:  # a few rows: no ADBC driver to load
            conn = session.connection()
            people = arrow_io.read_table(conn, "person", persons_schema, alive)
            idents = arrow_io.read_table(conn, "identity", idents_schema)
    if count >= COLUMN_WISE:
        with arrow_io.connect(store.url, store.engine) as adbc:
            people = arrow_io.read_table(adbc, "person", persons_schema, alive)
            idents = arrow_io.read_table(adbc, "identity", idents_schema)
    con = duckdb.connect(config={"enable_external_access": False, "threads": 2})
    try:
        con.register("people", people)
        con.register("idents", idents)
        table = con.sql(
            """SELECT p.id, p.name, CASE WHEN p.name IS NULL THEN [] ELSE [p.name] END AS names,
                      p.bot, p.team, coalesce(i.identities, []) AS identities
               FROM people p LEFT JOIN (
                 SELECT person_id, list({'platform': platform, 'key': key} ORDER BY id)
                   AS identities
                 FROM idents GROUP BY person_id) i ON i.person_id = p.id
               ORDER BY p.id"""
        ).to_arrow_table()
    finally:
        con.close()
    return table.rename_columns(PERSONS_SCHEMA.names).cast(PERSONS_SCHEMA)


def _store(session: Session, found: list[Candidate], *, now: datetime) -> None:
    """Each pair as an open suggestion: new pairs inserted, open ones updated, stale ones open
    again; a pair marked `merge never`, merged or rejected is left alone, and one a source
    stated (`source` set, `actions/source_links.py`) keeps its evidence, action and source and
    takes the higher confidence. An open suggestion of the matcher's that this run did not find
    (the network or the model changed; a person was merged or erased) becomes `stale`: kept
    (a merge may name it), not listed, open again the day a run finds it."""
    never = {(a, b) for a, b in session.execute(select(MergeNever.person_a, MergeNever.person_b))}
    known = {
        (a, b): (sid, status, source, confidence)
        for sid, a, b, status, source, confidence in session.execute(
            select(MergeSuggestion.id, MergeSuggestion.person_a, MergeSuggestion.person_b,
                   MergeSuggestion.status, MergeSuggestion.source, MergeSuggestion.confidence)
        )
    }  # fmt: skip
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for c in found:
        if (c.a, c.b) in never:
            continue
        had = known.get((c.a, c.b))
        if had is None:
            new.append({"person_a": c.a, "person_b": c.b, "status": "open", "created_at": now,
                        "source": None, "confidence": c.probability,
                        "evidence": json.dumps(evidence_json(c)), "action": c.action})  # fmt: skip
        elif had[1] not in ("open", "stale"):
            continue
        elif had[2] is not None:  # a source's word: only ever more confident
            if c.probability > had[3]:
                changed.append({"id": had[0], "confidence": c.probability})
        else:
            evidence = json.dumps(evidence_json(c))
            changed.append({"id": had[0], "confidence": c.probability, "evidence": evidence,
                            "action": c.action, "status": "open"})  # fmt: skip
    pairs = {(c.a, c.b) for c in found}
    stale = [{"id": sid, "status": "stale"} for pair, (sid, status, source, _c) in known.items()
             if status == "open" and source is None and pair not in pairs]  # fmt: skip
    for chunk in _chunks(new):
        session.execute(insert(MergeSuggestion), chunk)
    plain = [v for v in changed if "evidence" in v]
    for rows in (plain, [v for v in changed if "evidence" not in v], stale):
        for chunk in _chunks(rows):
            session.execute(update(MergeSuggestion), chunk)


def _chunks(rows: list[dict[str, Any]], size: int = 20_000) -> list[list[dict[str, Any]]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def listed(min_confidence: float = 0.0) -> list[ColumnElement[bool]]:
    """What an open suggestion listed needs (`_open`, the merge review's total): open, at or
    above `min_confidence`, and both persons there and not erased. One naming a person absorbed
    by a merge is left out (not closed: `merge auto` reads it as the person it is now part of,
    and `unmerge` brings the person, and it, back)."""

    def alive(person: InstrumentedAttribute[int]) -> ColumnElement[bool]:
        return exists().where(Person.id == person, Person.erased.is_(False))

    return [MergeSuggestion.status == "open", MergeSuggestion.confidence >= min_confidence,
            alive(MergeSuggestion.person_a), alive(MergeSuggestion.person_b)]  # fmt: skip


def _open(
    session: Session, *, limit: int | None, min_confidence: float, offset: int = 0
) -> list[SuggestionView]:
    query = (
        select(MergeSuggestion)
        .where(*listed(min_confidence))
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
