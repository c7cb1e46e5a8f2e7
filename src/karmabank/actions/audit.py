"""Reading the audit log (`karmabank audit`, `/audit`, `/api/audit`): every audited change, the
newest first, filtered by the person it concerns and a time, in pages by id; and which entries
concern a person (`entries_about`, also what a person's export carries).

Entries are written by `organization.write_audit` inside each use case's transaction; the ones
about a person name them as their subject (`person:N`) or in their details (`person`, a merge's
`kept`/`absorbed`, a `merge never` pair's `a`/`b`). Others' code writing a change (a
connector's connect or disconnect, say) calls `audit_change` or `write_audit`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from karmabank.actions.organization import write_audit
from karmabank.actions.people import iso, resolve_person
from karmabank.errors import ConfigError
from karmabank.store.open import Store
from karmabank.store.tables import AuditLog

# The details' keys that name a person by id (the subject names one as `person:N`).
PERSON_KEYS = ("person", "kept", "absorbed", "a", "b")
PAGE = 100
MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str  # a user's email in the web, `cli` on the command line, `auto`, `source`...
    action: str
    subject: str
    details: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "at": iso(self.at), "actor": self.actor, "action": self.action,
                "subject": self.subject, "details": self.details}  # fmt: skip


@dataclass(frozen=True, slots=True)
class AuditPage:
    """One page of entries, the newest first; `next_before`: pass it as `before` for the next
    (older) page, None when this is the last."""

    entries: tuple[AuditEntry, ...]
    next_before: int | None

    def as_json(self) -> dict[str, Any]:
        return {"entries": [e.as_json() for e in self.entries], "next_before": self.next_before}


def audit_change(
    store: Store, *, now: datetime, actor: str, action: str, subject: str,
    details: dict[str, Any] | None = None, scored: bool = False,
) -> None:  # fmt: skip
    """One audited change in a transaction of its own, for a write that has no session to put
    it in (a connector's connect or disconnect, a backup). Never put secrets in `details`."""
    with store.sessions.begin() as session:
        write_audit(session, now=now, actor=actor, action=action, subject=subject,
                    details=details, scored=scored)  # fmt: skip


def _entry(row: AuditLog) -> AuditEntry:
    try:
        details = json.loads(row.details)
    except ValueError:
        details = {"raw": row.details}
    if not isinstance(details, dict):
        details = {"value": details}
    return AuditEntry(row.id, row.at, row.actor, row.action, row.subject, details)


def _mentions(pid: int) -> ColumnElement[bool]:
    """A cheap SQL filter for entries that may concern person `pid`; `_concerns` decides."""
    likes = [
        AuditLog.details.like(f'%"{k}": {pid}{end}%') for k in PERSON_KEYS for end in (",", "}")
    ]
    return or_(AuditLog.subject == f"person:{pid}", *likes)


def _concerns(e: AuditEntry, pid: int) -> bool:
    return e.subject == f"person:{pid}" or any(e.details.get(k) == pid for k in PERSON_KEYS)


def entries_about(session: Session, pid: int) -> list[AuditEntry]:
    """Every entry about person `pid`, the oldest first."""
    rows = session.scalars(select(AuditLog).where(_mentions(pid)).order_by(AuditLog.id))
    return [e for e in map(_entry, rows) if _concerns(e, pid)]


def read_audit(
    *, store: Store, person: str | None = None, since: datetime | None = None,
    limit: int = PAGE, before: int | None = None,
) -> AuditPage:  # fmt: skip
    """A page of the audit log, the newest first: at most `limit` entries with an id below
    `before`, at or after `since`, about `person` (a reference as `karmabank person` takes)."""
    if not 1 <= limit <= MAX_PAGE:
        raise ConfigError(f"limit {limit}: give 1 to {MAX_PAGE}")
    with store.sessions() as session:
        q = select(AuditLog).order_by(AuditLog.id.desc())
        pid = None
        if person is not None:
            pid = resolve_person(session, person).person.id
            q = q.where(_mentions(pid))
        if since is not None:
            q = q.where(AuditLog.at >= since)
        found: list[AuditEntry] = []
        # the SQL filter may let an entry through that only looks like theirs: read on
        while len(found) <= limit:
            page_q = q if before is None else q.where(AuditLog.id < before)
            rows = list(session.scalars(page_q.limit(limit + 1)))
            found.extend(e for e in map(_entry, rows) if pid is None or _concerns(e, pid))
            if len(rows) <= limit:
                break
            before = rows[-1].id
    more = len(found) > limit
    page = tuple(found[:limit])
    return AuditPage(page, page[-1].id if more else None)
