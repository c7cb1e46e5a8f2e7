"""The people listing, streamed: rows come out in chunks as the database returns them, as plain
columns (no ORM objects, no query per person), so `people --limit 100000` holds one chunk at a
time instead of every row and its identities."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from karmabank.actions.people import as_time
from karmabank.actions.relationships import people_select
from karmabank.actions.scoring import ensure_scores
from karmabank.measures.settings import MeasureSettings
from karmabank.model import Flag
from karmabank.store.open import Store
from karmabank.store.tables import Activity, Identity, Person, PersonScore

CHUNK = 1000


@dataclass(frozen=True, slots=True)
class ListedPerson:
    """One row of the listing: the person, their scores (None: not scored) and flags.
    `activities` and `last_seen` are read only when asked for (`details`)."""

    id: int
    name: str | None
    identities: list[str]
    circle: str | None
    status: str | None
    stage: str | None
    warmth: float | None
    balance: float | None
    flags: list[str]
    activities: int | None = None
    last_seen: datetime | None = None

    @property
    def shown(self) -> str:
        """The name, else the first identity."""
        return self.name or next(iter(self.identities), "")

    def as_json(self) -> dict[str, Any]:
        """The listing's JSON object (as `people --json` and `/api/people` show a person)."""
        return {
            "id": self.id, "name": self.name, "identities": self.identities,
            "circle": self.circle, "status": self.status, "stage": self.stage,
            "warmth": None if self.warmth is None else round(self.warmth, 3),
            "balance": self.balance, "activities": self.activities,
            "last_seen": None if self.last_seen is None else self.last_seen.isoformat(),
            "flags": self.flags,
        }  # fmt: skip


def stream_people(
    *, store: Store, now: datetime, settings: MeasureSettings, limit: int = 50,
    query: str | None = None, flag: Flag | None = None, circle: str | None = None,
    status: str | None = None, stage: str | None = None, sort: str = "warmth",
    details: bool = False, chunk: int = CHUNK,
) -> Iterator[list[ListedPerson]]:  # fmt: skip
    """The people `list_people` would list, in its order, `chunk` rows at a time. The options
    are checked and the scores brought up to date before the first chunk is read; `details`
    adds each person's activity count and last activity."""
    q = people_select(
        limit=limit, query=query, flag=flag, circle=circle, status=status, stage=stage, sort=sort
    ).with_only_columns(
        Person.id, Person.name, Person.team, Person.bot, Person.do_not_contact,
        PersonScore.person_id, PersonScore.circle, PersonScore.status, PersonScore.stage,
        PersonScore.warmth, PersonScore.balance,
    )  # fmt: skip
    ensure_scores(store=store, now=now, settings=settings)
    return _chunks(store, q, details, chunk)


def _chunks(store: Store, q: Any, details: bool, chunk: int) -> Iterator[list[ListedPerson]]:
    with store.sessions() as session:
        result = session.execute(q.execution_options(yield_per=chunk))
        for rows in result.partitions(chunk):
            ids = [r[0] for r in rows]
            idents = _identities(session, ids)
            counts = _activity_counts(session, ids) if details else {}
            out = []
            for pid, name, team, bot, dnc, scored, circle, status, stage, warmth, balance in rows:
                flags = [f.value for f, on in zip(Flag, (team, bot, dnc), strict=True) if on]
                n, last = counts.get(pid, (0, None))
                out.append(ListedPerson(
                    pid, name, idents.get(pid, []), circle, status, stage,
                    None if scored is None else warmth, None if scored is None else balance,
                    flags, n if details else None, as_time(last),
                ))  # fmt: skip
            yield out


def _identities(session: Session, ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for pid, platform, key in session.execute(
        select(Identity.person_id, Identity.platform, Identity.key)
        .where(Identity.person_id.in_(ids))
        .order_by(Identity.id)
    ):
        found.setdefault(pid, []).append(f"{platform}:{key}")
    return found


def _activity_counts(session: Session, ids: list[int]) -> dict[int, tuple[int, Any]]:
    return {
        pid: (int(n), last)
        for pid, n, last in session.execute(
            select(Activity.person_id, func.count(), func.max(Activity.occurred_at))
            .where(Activity.person_id.in_(ids))
            .group_by(Activity.person_id)
        )
    }
