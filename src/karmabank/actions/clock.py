"""The time a command computes as of: `--now`, else `$KARMABANK_NOW`, else the database's
fixed time (the demo database keeps the time it was built for, so that its counts do not
change with the clock), else the clock. And the hint for a network whose newest activity is
long past, where everyone looks dormant unless you look at it as of then."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from karmabank.actions.organization import write_audit
from karmabank.actions.people import as_time
from karmabank.settings import Settings, parse_instant
from karmabank.store.open import Store
from karmabank.store.tables import Activity, AuditLog

FIX_NOW = "fix now"  # the audit action that fixes a database's time
STALE_AFTER = timedelta(days=90)  # newest activity older than this: say so


def fix_now(session: Session, *, now: datetime, actor: str) -> None:
    """From now on, commands on this database compute as of `now` unless told otherwise."""
    write_audit(
        session, now=now, actor=actor, action=FIX_NOW, subject="database",
        details={"now": now.isoformat()}, scored=False,
    )  # fmt: skip


def fixed_now(store: Store) -> datetime | None:
    """The time the database was fixed at (`fix_now`), if it was."""
    with store.sessions() as session:
        details = session.scalar(
            select(AuditLog.details)
            .where(AuditLog.action == FIX_NOW)
            .order_by(AuditLog.id.desc())
            .limit(1)
        )
    if details is None:
        return None
    return parse_instant(str(json.loads(details)["now"]), "the database's fixed time")


def with_database_clock(store: Store, settings: Settings) -> Settings:
    """`settings` with the database's fixed time when neither --now nor $KARMABANK_NOW gave one."""
    if settings.now is not None:
        return settings
    pinned = fixed_now(store)
    return settings if pinned is None else replace(settings, now=pinned)


def newest_activity(store: Store) -> datetime | None:
    """When the newest activity from someone toward us or among them happened (our own gives
    and asks do not make a network look alive). Read backwards on the time index."""
    with store.sessions() as session:
        value = session.scalar(
            select(Activity.occurred_at)
            .where(Activity.direction.in_(("in", "peer")))
            .order_by(Activity.occurred_at.desc())
            .limit(1)
        )
    return as_time(value)


@dataclass(frozen=True)
class StaleNetwork:
    """The newest activity is far older than `now`: when it was, how long ago (`401 days`,
    `3 years`), and the day to look at the network as of (the day after it, ISO)."""

    newest: str
    ago: str
    then: str


def stale_network(store: Store, now: datetime) -> StaleNetwork | None:
    """`StaleNetwork` when the newest activity is far older than `now` (everyone would look
    dormant and the queue empty, though the network was alive as of then), else None."""
    newest = newest_activity(store)
    if newest is None or now - newest <= STALE_AFTER:
        return None
    return stale_facts(newest, now)


def stale_facts(newest: datetime, now: datetime) -> StaleNetwork:
    days = (now - newest).days
    ago = f"{days // 365} years" if days >= 730 else f"{days} days"
    then = (newest + timedelta(days=1)).date().isoformat()  # as of the end of that day
    return StaleNetwork(newest.date().isoformat(), ago, then)


def stale_hint(store: Store, now: datetime, advice: str = "add --now {then}") -> str | None:
    """A one-line hint when the newest activity is far older than `now` (`stale_network`).
    `advice` says how to look at it then (`{then}`: the day after the newest activity)."""
    stale = stale_network(store, now)
    return None if stale is None else _sentence(stale, advice)


def stale_sentence(newest: datetime, now: datetime, advice: str = "add --now {then}") -> str:
    return _sentence(stale_facts(newest, now), advice)


def _sentence(stale: StaleNetwork, advice: str) -> str:
    return (
        f"the newest activity is from {stale.newest}, {stale.ago} ago: "
        f"{advice.format(then=stale.then)} to see the network as it was then"
    )
