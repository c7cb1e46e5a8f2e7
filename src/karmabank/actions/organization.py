"""The organization row and the audit log, shared by every use case; the organization's name
and identities (`karmabank org name`, `karmabank org identity add|list`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.orm import Session

from karmabank.errors import ConfigError, IdentityError
from karmabank.identities import parse_identity
from karmabank.model import IdentityKey
from karmabank.names import is_text
from karmabank.store.open import Store
from karmabank.store.tables import AuditLog, Identity, Organization, OrgIdentity

DEFAULT_NAME = "My organization"  # until `karmabank org name` names it


def ensure_organization(
    session: Session, *, now: datetime, name: str = DEFAULT_NAME
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


# -- the organization's name and identities (`karmabank org`) ---------------------------------
MAX_ORG_NAME = 200


@dataclass(frozen=True)
class OrgView:
    """The organization: its name (drafts are signed with it) and its identities (`platform:key`,
    in the order added): activity by one of them is the organization's, never a supporter's."""

    name: str
    identities: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "identities": list(self.identities)}


@dataclass(frozen=True)
class IdentityAdded:
    """One identity `org identity add` was given: `added`, `already` the organization's, or
    `taken` from the person who had it (`from_person`)."""

    identity: str
    outcome: str
    from_person: int | None = None

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"from_person": self.from_person} if self.from_person else {}
        return {"identity": self.identity, "outcome": self.outcome, **found}


def org_view(store: Store) -> OrgView:
    with store.sessions() as session:
        org = session.scalar(select(Organization).order_by(Organization.id).limit(1))
        keys = session.execute(
            select(OrgIdentity.platform, OrgIdentity.key).order_by(OrgIdentity.id)
        ).all()
    return OrgView(org.name if org else DEFAULT_NAME, tuple(f"{p}:{k}" for p, k in keys))


def set_org_name(*, store: Store, name: str, now: datetime, actor: str) -> OrgView:
    """Name the organization (drafts are signed with it), audited."""
    text = " ".join(name.split())
    if not text or not is_text(text):
        raise ConfigError("the organization's name must be some text, e.g. 'River Friends'")
    if len(text) > MAX_ORG_NAME:
        raise ConfigError(f"the organization's name is at most {MAX_ORG_NAME} characters")
    with store.sessions.begin() as session:
        org = ensure_organization(session, now=now)
        before, org.name = org.name, text
        write_audit(session, now=now, actor=actor, action="org name",
                    subject=f"organization:{org.id}", details={"before": before, "name": text},
                    scored=False)  # fmt: skip
    return org_view(store)


def org_identity_owner(conn: Connection, key: IdentityKey) -> int | None:
    """The person who has identity `key`, if any."""
    return conn.scalar(
        select(Identity.person_id).where(Identity.platform == key.platform, Identity.key == key.key)
    )


def org_identity_known(conn: Connection, key: IdentityKey) -> bool:
    """Whether `key` is one of the organization's identities."""
    found = conn.scalar(
        select(OrgIdentity.id).where(
            OrgIdentity.platform == key.platform, OrgIdentity.key == key.key
        )
    )
    return found is not None


def add_org_identity(conn: Connection, org_id: int, key: IdentityKey) -> bool:
    """Make `key` one of the organization's identities; False when it was already."""
    if org_identity_known(conn, key):
        return False
    conn.execute(
        insert(OrgIdentity).values(organization_id=org_id, platform=key.platform, key=key.key)
    )
    return True


def owned_refusal(key: IdentityKey, person_id: int) -> str:
    return (
        f"{key} is the identity of person id:{person_id}: to make it the organization's, add it "
        f"with --take (it leaves that person; their activities so far stay theirs), or flag the "
        f"person team (`karmabank flag id:{person_id} team`)"
    )


def add_org_identities(
    *, store: Store, identities: Sequence[str], take: bool, now: datetime, actor: str
) -> list[IdentityAdded]:
    """Add identities to the organization's, in one transaction, audited. An identity a person
    has is refused (nothing is added) unless `take`: then it leaves that person, who keeps their
    activities so far (which of them came through that identity is not recorded)."""
    keys = []
    for text in identities:
        try:
            keys.append(parse_identity(text))
        except IdentityError as e:
            raise ConfigError(str(e)) from None
    out: list[IdentityAdded] = []
    with store.sessions.begin() as session:
        org = ensure_organization(session, now=now)
        conn = session.connection()
        owners = {k: org_identity_owner(conn, k) for k in dict.fromkeys(keys)}
        if not take:
            for k, owner in owners.items():
                if owner is not None:
                    raise ConfigError(owned_refusal(k, owner))
        for k, owner in owners.items():
            if owner is not None:
                conn.execute(delete(Identity).where(
                    Identity.platform == k.platform, Identity.key == k.key))  # fmt: skip
            added = add_org_identity(conn, org.id, k)
            outcome = "taken" if owner is not None else "added" if added else "already"
            out.append(IdentityAdded(str(k), outcome, owner))
        write_audit(session, now=now, actor=actor, action="org identity add",
                    subject=f"organization:{org.id}",
                    details={"identities": [o.as_json() for o in out]},
                    scored=any(o.outcome == "taken" for o in out))  # fmt: skip
    return out
