"""Retention (`karmabank retention set|show|apply`): an organization that promises to keep what
people wrote no longer than N days sets `retention_days`; the texts of activities older than
that are then dropped (set to NULL) while the activity stays (its time, verb, channel, weight
and people: every score stays the same, since no measure reads a text).

It is applied when set, at the end of every import, before every rescore and by `retention
apply`, each time as of the command's time (`--now`, a database's fixed time) but never later
than the clock: a command run "as of" next year does not drop this year's texts. The
organization row remembers how far it got (`retention_through`, up to `retention_checked_id`),
so a second run reads only activities added since and the days that passed since.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from karmabank.actions.organization import ensure_organization, write_audit
from karmabank.actions.people import as_time, iso
from karmabank.bounds import MAX_WINDOW_DAYS
from karmabank.errors import ConfigError
from karmabank.model import to_micros
from karmabank.store.batch_gate import batches_held_off
from karmabank.store.open import Store
from karmabank.store.tables import Activity, Organization


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """The setting (`days`, None: off), the cut-off the last run applied (texts before it are
    gone) and how many texts this call dropped."""

    days: int | None
    through: datetime | None
    dropped: int

    def as_json(self) -> dict[str, Any]:
        return {"retention_days": self.days, "texts_dropped_before": iso(self.through),
                "dropped": self.dropped}  # fmt: skip


def parse_days(text: str) -> int | None:
    """`off` (None) or a whole number of days, 1 to a century."""
    t = text.strip().lower()
    if t == "off":
        return None
    if not (t.isascii() and t.isdigit()) or not 1 <= int(t) <= MAX_WINDOW_DAYS:
        raise ConfigError(f"retention {text!r}: give a number of days (1 to {MAX_WINDOW_DAYS}) "
                          "or off")  # fmt: skip
    return int(t)


def _cutoff(now: datetime, days: int) -> int:
    return to_micros(min(now, datetime.now(UTC)) - timedelta(days=days))


def apply_in(session: Session, *, now: datetime, actor: str) -> int:
    """Drop the texts retention says to, in the caller's transaction; how many (audited as
    `retention` when any). Every activity with an id up to `retention_checked_id` that
    happened before `retention_through` has no text left: only the activities added since and
    the days between that cut-off and today's are read."""
    org = ensure_organization(session, now=now)
    if org.retention_days is None:
        return 0
    batches_held_off(session.connection())  # PostgreSQL: every id up to `top` committed
    cutoff = _cutoff(now, org.retention_days)
    checked, through = org.retention_checked_id or 0, org.retention_through
    top = session.scalar(select(func.coalesce(func.max(Activity.id), 0))) or 0
    old = Activity.text.is_not(None) & (Activity.occurred_at < as_time(cutoff))
    parts = [(Activity.id > checked) & (Activity.id <= top)]
    if through is not None and through < cutoff:
        parts.append((Activity.id <= checked) & (Activity.occurred_at >= as_time(through)))
    dropped = 0
    for where in parts:
        result = session.execute(update(Activity).where(where & old).values(text=None))
        dropped += int(getattr(result, "rowcount", 0) or 0)
    org.retention_checked_id = top
    org.retention_through = cutoff if through is None else max(cutoff, through)
    if dropped:
        write_audit(session, now=now, actor=actor, action="retention", subject="activities",
                    details={"dropped_texts": dropped, "older_than": iso(as_time(cutoff)),
                             "retention_days": org.retention_days}, scored=False)  # fmt: skip
    return dropped


def _report(org: Organization, dropped: int) -> RetentionReport:
    return RetentionReport(org.retention_days, as_time(org.retention_through), dropped)


def set_retention(*, store: Store, days: int | None, now: datetime, actor: str) -> RetentionReport:
    """Set (or, None, turn off) retention, audited, and apply it at once, in one transaction."""
    with store.sessions.begin() as session:
        org = ensure_organization(session, now=now)
        if org.retention_days != days:
            write_audit(session, now=now, actor=actor, action="retention set",
                        subject=f"organization:{org.id}",
                        details={"from": org.retention_days, "to": days}, scored=False)  # fmt: skip
            org.retention_days = days
        dropped = apply_in(session, now=now, actor=actor)
        return _report(org, dropped)


def apply_retention(*, store: Store, now: datetime, actor: str) -> RetentionReport:
    """Apply retention now (nothing when it is off), in one transaction."""
    with store.sessions.begin() as session:
        dropped = apply_in(session, now=now, actor=actor)
        return _report(ensure_organization(session, now=now), dropped)


def retention_of(*, store: Store, now: datetime) -> RetentionReport:
    """The setting and how far it was applied, changing nothing."""
    with store.sessions() as session:
        org = session.scalar(select(Organization).order_by(Organization.id).limit(1))
        if org is None:
            return RetentionReport(None, None, 0)
        return _report(org, 0)
