"""Reads several use cases share, set-wise: many people's names, identities and activity
counts in a few `IN (...)` queries each, as plain values (no ORM objects), inside the caller's
session (so they belong to its transaction).

SQLAlchemy and the tables only: a listing on fresh scores must load nothing more."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from karmabank.store.tables import FLAGGED, Activity, Identity, Person

CHUNK = 20_000  # ids per `IN (...)`: a plan can leave out hundreds of thousands of people


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    unique = sorted(set(ids))
    for start in range(0, len(unique), CHUNK):
        yield unique[start : start + CHUNK]


def people_count(session: Session) -> int:
    """How many people there are, the erased left out: all rows, less the erased among the
    flagged (through `ix_person_flagged`; `WHERE NOT erased` reads every row, 0.1 s at 1M)."""
    every = session.scalar(select(func.count()).select_from(Person))
    erased = session.scalar(
        select(func.count()).select_from(Person).where(text(f"({FLAGGED})"), Person.erased)
    )
    return int(every or 0) - int(erased or 0)


def names(session: Session, ids: Iterable[int]) -> dict[int, str | None]:
    """Each person's name (None: no name), for the ids that exist."""
    found: dict[int, str | None] = {}
    for chunk in _chunks(ids):
        query = select(Person.id, Person.name).where(Person.id.in_(chunk))
        for pid, name in session.execute(query):
            found[pid] = name
    return found


def identities(session: Session, ids: Iterable[int]) -> dict[int, list[str]]:
    """Each person's identities as `platform:key`, in the order they were added (`Identity.id`,
    as `Person.identities`); a person without one is left out."""
    found: dict[int, list[str]] = {}
    for chunk in _chunks(ids):
        for pid, platform, key in session.execute(
            select(Identity.person_id, Identity.platform, Identity.key)
            .where(Identity.person_id.in_(chunk))
            .order_by(Identity.id)
        ):
            found.setdefault(pid, []).append(f"{platform}:{key}")
    return found


def activity_counts(session: Session, ids: Iterable[int]) -> dict[int, tuple[int, Any]]:
    """For each person who did something: how many activities they did and when the last one
    was (the stored value: UTC microseconds, or a datetime, as the driver returns it)."""
    found: dict[int, tuple[int, Any]] = {}
    for chunk in _chunks(ids):
        for pid, n, last in session.execute(
            select(Activity.person_id, func.count(), func.max(Activity.occurred_at))
            .where(Activity.person_id.in_(chunk))
            .group_by(Activity.person_id)
        ):
            found[pid] = (int(n), last)
    return found
