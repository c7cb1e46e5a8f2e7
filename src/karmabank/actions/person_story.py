"""One person's story: who they are, their flags, what they did and what others did to them
(counts, first and last seen, the newest activities), as a frozen view with one JSON shape
(`PersonStory.as_json`) that `person --json`, `/api/people/{ref}` and the person's page show
(with the scores around it: `relationships.person_scores`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from karmabank.actions.opt_outs import opt_outs_of
from karmabank.actions.people import ID_PREFIX, PersonRef, as_time, iso, resolve_person
from karmabank.errors import NotFoundError
from karmabank.model import Direction
from karmabank.store import queries
from karmabank.store.open import Store
from karmabank.store.tables import Activity

TIMELINE_LIMIT = 50


@dataclass(frozen=True, slots=True)
class PersonFlags:
    team: bool
    bot: bool
    do_not_contact: bool
    erased: bool

    def as_json(self) -> dict[str, bool]:
        return {"team": self.team, "bot": self.bot, "do_not_contact": self.do_not_contact,
                "erased": self.erased}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ActivityCounts:
    """What they did by direction (`peer_out`: to other people), and what others did to them
    (`peer_in`: every activity that names them as its target)."""

    in_: int
    give: int
    ask: int
    peer_out: int
    peer_in: int

    def as_json(self) -> dict[str, int]:
        return {"in": self.in_, "give": self.give, "ask": self.ask, "peer_out": self.peer_out,
                "peer_in": self.peer_in}  # fmt: skip


@dataclass(frozen=True, slots=True)
class TimelineItem:
    """One activity of the timeline, seen from the person: `peer_in` when someone else did it
    to them, `other` the person on the other side (None: nobody)."""

    activity_id: int
    occurred_at: datetime
    direction: str
    verb: str
    channel: str
    object: str | None
    text: str | None
    weight: float | None
    other_id: int | None
    other_name: str | None
    other_identities: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        other = (
            None
            if self.other_id is None
            else PersonRef(self.other_id, self.other_name, self.other_identities).as_json()
        )
        return {
            "activity_id": self.activity_id, "occurred_at": iso(self.occurred_at),
            "direction": self.direction, "verb": self.verb, "channel": self.channel,
            "object": self.object, "text": self.text, "weight": self.weight, "other": other,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class PersonStory:
    ref: PersonRef
    flags: PersonFlags
    counts: ActivityCounts
    first_seen: datetime | None
    last_seen: datetime | None
    timeline: tuple[TimelineItem, ...]  # the newest first
    note: str | None  # which of two people a bare number meant (`people.Found`)
    opt_outs: tuple[str, ...] = ()  # the channels they opted out of (`karmabank optout`)

    def head_json(self) -> dict[str, Any]:
        """Who they are: what a person's JSON starts with (the scores come between)."""
        return {**self.ref.as_json(), "flags": self.flags.as_json(),
                "opt_outs": list(self.opt_outs)}  # fmt: skip

    def tail_json(self) -> dict[str, Any]:
        """What they did: what a person's JSON ends with."""
        return {
            "counts": self.counts.as_json(), "first_seen": iso(self.first_seen),
            "last_seen": iso(self.last_seen), "timeline": [t.as_json() for t in self.timeline],
            **({"note": self.note} if self.note else {}),
        }  # fmt: skip

    def as_json(self) -> dict[str, Any]:
        return {**self.head_json(), **self.tail_json()}


def person_detail(*, store: Store, ref: str, timeline_limit: int = TIMELINE_LIMIT) -> PersonStory:
    """Everything known about one person (not erased) but their scores."""
    with store.sessions() as session:
        return read_story(session, ref=ref, timeline_limit=timeline_limit)


def read_story(session: Session, *, ref: str, timeline_limit: int = TIMELINE_LIMIT) -> PersonStory:
    """`person_detail` inside the caller's session. NotFoundError for an erased person."""
    found = resolve_person(session, ref)
    p = found.person
    if p.erased:
        raise NotFoundError(f"person {ref.strip()!r} ({ID_PREFIX}{p.id}) was erased")
    counts = _counts(session, p.id)
    first, last = _seen(session, p.id)
    timeline = _timeline(session, p.id, timeline_limit)
    return PersonStory(
        ref=PersonRef.of(p),
        flags=PersonFlags(team=p.team, bot=p.bot, do_not_contact=p.do_not_contact,
                          erased=p.erased),  # fmt: skip
        counts=counts, first_seen=first, last_seen=last, timeline=timeline, note=found.note,
        opt_outs=tuple(opt_outs_of(session, p.id)),
    )  # fmt: skip


# What they did, and what others did to them: each half on its own index (an OR of the two
# would walk all 10M activities on a big network).
def activity_halves(pid: int) -> tuple[Any, Any]:
    return Activity.person_id == pid, (Activity.target_id == pid) & (Activity.person_id != pid)


def _counts(session: Session, pid: int) -> ActivityCounts:
    by_direction = dict(
        session.execute(
            select(Activity.direction, func.count())
            .where(Activity.person_id == pid)
            .group_by(Activity.direction)
        ).all()
    )
    received = session.scalar(
        select(func.count()).select_from(Activity).where(Activity.target_id == pid)
    )
    return ActivityCounts(
        in_=by_direction.get(Direction.IN.value, 0), give=by_direction.get(Direction.GIVE.value, 0),
        ask=by_direction.get(Direction.ASK.value, 0),
        peer_out=by_direction.get(Direction.PEER.value, 0), peer_in=int(received or 0),
    )  # fmt: skip


def _seen(session: Session, pid: int) -> tuple[datetime | None, datetime | None]:
    """The first and the last activity they did or that was done to them."""
    spans = [
        session.execute(
            select(func.min(Activity.occurred_at), func.max(Activity.occurred_at)).where(half)
        ).one()
        for half in activity_halves(pid)
    ]
    first = min((f for f, _ in spans if f is not None), default=None)
    last = max((last for _, last in spans if last is not None), default=None)
    return as_time(first), as_time(last)


def _timeline(session: Session, pid: int, limit: int) -> tuple[TimelineItem, ...]:
    """The newest `limit` activities of both halves, the newest first."""
    halves = [
        select(Activity.id, Activity.occurred_at).where(half)
        .order_by(Activity.occurred_at.desc(), Activity.id.desc())
        .limit(limit).subquery()
        for half in activity_halves(pid)
    ]  # fmt: skip
    newest = union_all(*(select(h.c.id, h.c.occurred_at) for h in halves)).subquery()
    ids = select(newest.c.id).order_by(newest.c.occurred_at.desc(), newest.c.id.desc())
    acts = list(
        session.scalars(
            select(Activity)
            .where(Activity.id.in_(ids.limit(limit).scalar_subquery()))
            .order_by(Activity.occurred_at.desc(), Activity.id.desc())
        )
    )
    others = {a.person_id for a in acts} | {a.target_id for a in acts if a.target_id}
    names = queries.names(session, others)
    identities = queries.identities(session, others - {pid})
    return tuple(timeline_item(a, pid, names, identities) for a in acts)


def timeline_item(a: Activity, pid: int, names: dict[int, str | None],
                   identities: dict[int, list[str]]) -> TimelineItem:  # fmt: skip
    incoming_peer = a.direction == Direction.PEER.value and a.target_id == pid
    other = a.person_id if incoming_peer else a.target_id
    return TimelineItem(
        activity_id=a.id, occurred_at=a.occurred_at,
        direction="peer_in" if incoming_peer else a.direction, verb=a.verb, channel=a.channel,
        object=a.object, text=a.text, weight=a.weight, other_id=other,
        other_name=None if other is None else names.get(other),
        other_identities=tuple(identities.get(other, ())) if other is not None else (),
    )  # fmt: skip
