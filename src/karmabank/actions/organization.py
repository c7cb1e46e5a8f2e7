"""The organization row and the audit log, shared by every use case."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from karmabank.store.tables import AuditLog, Organization


def ensure_organization(
    session: Session, *, now: datetime, name: str = "My organization"
) -> Organization:
    org = session.scalar(select(Organization).order_by(Organization.id).limit(1))
    if org is None:
        org = Organization(name=name, created_at=now)
        session.add(org)
        session.flush()
    return org


def write_audit(
    session: Session, *, now: datetime, actor: str, action: str, subject: str,
    details: dict[str, Any] | None = None, scored: bool = True,
) -> None:  # fmt: skip
    """Log a change. A change to what the measures read (`scored`: people, flags, activities,
    asks) also bumps the organization's data revision, which makes the stored scores stale
    (`freshness.freshness`); one they never read (accounts: users, tokens) must not, or it would
    cost a full rescore."""
    if scored:
        session.execute(update(Organization).values(revision=Organization.revision + 1))
    session.add(
        AuditLog(
            at=now,
            actor=actor,
            action=action,
            subject=subject,
            details=json.dumps(details or {}, sort_keys=True, default=str),
        )  # fmt: skip
    )
