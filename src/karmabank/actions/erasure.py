"""Erasing one person (`karmabank erase PERSON`, owners only on the web): a supporter's right to
be forgotten, in one transaction, then the scores and the files beside the database rewritten.

What goes: their name, identities and the names those were seen with, every activity they are
part of (theirs, ours toward them, and the peer edges where they are the actor or the target:
removed, not given to an anonymous stand-in, so the network is the one it would be had they
never been in it and everyone else's scores say so after the rescore; an anonymized edge would
keep who they talked to), their nurture suggestions, ladder moves, score, opt-outs, merge
suggestions, merges (their evidence holds the names) and `merge never` pairs, and every mention
of them elsewhere (`erasure_scrub`). What stays: an empty person row flagged `erased` (no name,
no identity, no activity) holding their asks with the status, times and numbers but no reason
nor draft, so every campaign's counts stay true; a tombstone per identity (`store/erasures.py`:
a salted hash, never the key) so no import or sync re-creates them (`skipped: erased person`);
an audit entry with counts only.

After the commit the columnar copy is rebuilt (the organization's `activity_epoch` moves) by a
rescore, whose snapshot replaces the last one, and a SQLite file is vacuumed and its log
truncated, so no page of the file keeps a deleted byte. PostgreSQL keeps dead rows on disk until
its (auto)vacuum reuses them; `docs/privacy.md` says so.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from karmabank.actions.erasure_scrub import Needles, scrub_mentions
from karmabank.actions.organization import ensure_organization, write_audit
from karmabank.actions.people import find_person
from karmabank.errors import NotFoundError
from karmabank.measures.settings import MeasureSettings
from karmabank.model import IdentityKey
from karmabank.store import chart_cache
from karmabank.store import connections as _connections  # noqa: F401  (its table is scrubbed)
from karmabank.store.batch_gate import batches_held_off
from karmabank.store.erasures import ErasedIdentity, identity_hash
from karmabank.store.identity_names import IdentityName
from karmabank.store.merges import Merge, MergeNever, MergeSuggestion
from karmabank.store.open import Store
from karmabank.store.org_tables import OptOut
from karmabank.store.tables import (
    Activity,
    Ask,
    AuditLog,
    Identity,
    LadderTransition,
    Organization,
    Person,
    PersonScore,
    Suggestion,
)

CHUNK = 5_000


@dataclass(frozen=True)
class Erasure:
    """What `erase` did, in counts only (it is what the audit entry says too): the person's id
    (their empty row), the tombstones written, the rows removed per table, the mentions
    rewritten elsewhere per table, and whether the scores were recomputed."""

    person_id: int
    tombstones: int
    removed: dict[str, int]
    mentions: dict[str, int]
    rescored: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"person_id": self.person_id, "erased": True, "tombstones": self.tombstones,
                "removed": self.removed, "mentions_rewritten": self.mentions,
                "rescored": self.rescored}  # fmt: skip


@dataclass(frozen=True)
class ErasureTarget:
    """Whom `erase` would erase, and how much of them there is (what a confirmation shows)."""

    person_id: int
    name: str | None
    identities: tuple[str, ...]
    activities: int
    asks: int

    @property
    def shown(self) -> str:
        return f"{self.name or (self.identities or ('a person',))[0]} (id:{self.person_id})"

    def as_json(self) -> dict[str, Any]:
        return {"person_id": self.person_id, "name": self.name,
                "identities": list(self.identities), "activities": self.activities,
                "asks": self.asks}  # fmt: skip


def erasure_target(*, store: Store, ref: str) -> ErasureTarget:
    """The person `ref` names, as `erase_person` would find them (NotFoundError the same)."""
    with store.sessions() as session:
        person = _erasable(session, ref)
        acts = session.scalar(select(func.count()).select_from(Activity).where(
            or_(Activity.person_id == person.id, Activity.target_id == person.id)))  # fmt: skip
        asks = session.scalar(select(func.count()).select_from(Ask).where(
            Ask.person_id == person.id))  # fmt: skip
        idents = tuple(f"{i.platform}:{i.key}" for i in person.identities)
        return ErasureTarget(person.id, person.name, idents, int(acts or 0), int(asks or 0))


def _erasable(session: Session, ref: str) -> Person:
    person = find_person(session, ref)
    if person.erased:
        raise NotFoundError(f"person id:{person.id} was erased already")
    return person


def erase_person(
    *, store: Store, ref: str, now: datetime, actor: str, settings: MeasureSettings | None,
) -> Erasure:  # fmt: skip
    """Erase the person `ref` names (NotFoundError for nobody, or someone already erased); with
    `settings`, rescore at `now` afterwards (the columnar copy and snapshot rewritten)."""
    with store.sessions.begin() as session:
        batches_held_off(session.connection())  # PostgreSQL: no batch half-way (batch_gate)
        person = _erasable(session, ref)
        done = _erase_rows(session, person, now=now)
        write_audit(session, now=now, actor=actor, action="erase", subject=f"person:{person.id}",
                    details={"tombstones": done.tombstones, "removed": done.removed,
                             "mentions_rewritten": done.mentions})  # fmt: skip
    if settings is not None:
        from karmabank.actions.scoring import rescore

        rescore(store=store, now=now, settings=settings)
        done = Erasure(done.person_id, done.tombstones, done.removed, done.mentions, True)
    chart_cache.drop_all(store.columns_dir)  # drawings made before: they may show them
    _compact(store)
    return done


def _erase_rows(session: Session, person: Person, *, now: datetime) -> Erasure:
    pid = person.id
    idents = list(session.execute(
        select(Identity.id, Identity.platform, Identity.key, Identity.label)
        .where(Identity.person_id == pid)))  # fmt: skip
    ident_ids = [i.id for i in idents]
    seen_names = list(session.scalars(
        select(IdentityName.name).where(IdentityName.identity_id.in_(ident_ids))))  # fmt: skip
    needles = Needles.of(
        (i.key for i in idents), [person.name, *seen_names, *(i.label for i in idents)]
    )
    tombstones = _tombstones(session, [IdentityKey(i.platform, i.key) for i in idents], pid, now)
    removed = _remove_rows(session, pid, ident_ids)
    _empty_person(session, person, now)
    session.execute(update(AuditLog).where(AuditLog.subject == f"person:{pid}")
                    .values(details="{}"))  # fmt: skip
    session.execute(update(Organization).values(activity_epoch=Organization.activity_epoch + 1))
    session.flush()
    mentions = scrub_mentions(session, needles)
    return Erasure(pid, tombstones, {k: v for k, v in removed.items() if v}, mentions)


def _tombstones(session: Session, keys: list[IdentityKey], pid: int, now: datetime) -> int:
    """One salted hash per identity (the organization's salt made by the first erasure)."""
    org = ensure_organization(session, now=now)
    if org.erasure_salt is None:
        org.erasure_salt = secrets.token_hex(32)
        session.flush()
    digests = {identity_hash(org.erasure_salt, k) for k in keys}
    known = set(session.scalars(select(ErasedIdentity.key_hash).where(
        ErasedIdentity.key_hash.in_(digests)))) if digests else set()  # fmt: skip
    session.add_all(ErasedIdentity(key_hash=d, person_id=pid, erased_at=now)
                    for d in sorted(digests - known))  # fmt: skip
    return len(digests)


def _remove_rows(session: Session, pid: int, ident_ids: list[int]) -> dict[str, int]:
    """Delete every row of theirs but the asks (kept, emptied of text) and their person row."""
    acts = list(session.scalars(select(Activity.id).where(
        or_(Activity.person_id == pid, Activity.target_id == pid))))  # fmt: skip
    out: dict[str, int] = {}

    def gone(name: str, table: Any, *where: Any) -> None:
        result = session.execute(delete(table).where(*where))
        out[name] = out.get(name, 0) + int(result.rowcount or 0)  # type: ignore[attr-defined]

    for start in range(0, len(acts), CHUNK):
        chunk = acts[start : start + CHUNK]
        session.execute(update(Ask).where(Ask.activity_id.in_(chunk)).values(activity_id=None))
        gone("suggestion", Suggestion, Suggestion.activity_id.in_(chunk))
    session.execute(update(Ask).where(Ask.person_id == pid).values(reason=None, draft=None))
    gone("suggestion", Suggestion, Suggestion.person_id == pid)
    for start in range(0, len(acts), CHUNK):
        gone("activity", Activity, Activity.id.in_(acts[start : start + CHUNK]))
    gone("identity_name", IdentityName, IdentityName.identity_id.in_(ident_ids))
    gone("identity", Identity, Identity.person_id == pid)
    gone("ladder_transition", LadderTransition, LadderTransition.person_id == pid)
    gone("person_score", PersonScore, PersonScore.person_id == pid)
    gone("opt_out", OptOut, OptOut.person_id == pid)
    gone("merge", Merge, or_(Merge.kept_id == pid, Merge.absorbed_id == pid))
    gone("merge_suggestion", MergeSuggestion,
         or_(MergeSuggestion.person_a == pid, MergeSuggestion.person_b == pid))  # fmt: skip
    gone("merge_never", MergeNever, or_(MergeNever.person_a == pid, MergeNever.person_b == pid))
    return out


def _empty_person(session: Session, person: Person, now: datetime) -> None:
    """Their row, kept for the asks it holds: no name, no audience, flagged erased."""
    person.name = None
    person.name_manual = False
    person.followers = None
    person.erased = True
    person.do_not_contact = True
    person.team = person.bot = False
    person.created_at = now


def _compact(store: Store) -> None:
    """A SQLite file rewritten whole (VACUUM) and its write-ahead log emptied, so no freed page
    keeps a deleted byte; nothing on PostgreSQL (its vacuum reuses the space)."""
    if store.engine.dialect.name != "sqlite":
        return
    store.engine.dispose()
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM")
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.engine.dispose()
