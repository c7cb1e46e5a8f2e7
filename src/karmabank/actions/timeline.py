"""A person's whole timeline, a page at a time: what they did first (toward us, our gives and
asks to them, what they did to others), what others did to them when asked for, filtered by
direction and channel, the newest first. Each half is read on its own index (`person_id`,
`target_id`), as `person_story` reads them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select, union_all

from karmabank.actions.people import find_person
from karmabank.actions.person_story import TimelineItem, activity_halves, timeline_item
from karmabank.errors import ConfigError
from karmabank.model import Direction
from karmabank.store import queries
from karmabank.store.open import Store
from karmabank.store.tables import Activity

MAX_PAGE = 200
# Whose activity: theirs (the default: toward us, our gives and asks, theirs to others),
# others' toward them, or both; or one direction of theirs.
WHOSE = ("theirs", "others", "all")
DIRECTIONS = ("in", "give", "ask", "peer")


@dataclass(frozen=True)
class TimelinePage:
    person_id: int
    whose: str
    direction: str | None
    channel: str | None
    offset: int
    items: tuple[TimelineItem, ...]
    more: bool  # a next page exists
    channels: tuple[str, ...]  # every channel of the person's timeline, for a filter
    total: int | None = None  # every activity the filters keep (when counted)

    def as_json(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id, "whose": self.whose, "direction": self.direction,
            "channel": self.channel, "offset": self.offset, "more": self.more,
            "total": self.total, "channels": list(self.channels),
            "items": [i.as_json() for i in self.items],
        }  # fmt: skip


def person_timeline(
    *, store: Store, ref: str, whose: str = "theirs", direction: str | None = None,
    channel: str | None = None, offset: int = 0, limit: int = 50, count: bool = False,
) -> TimelinePage:  # fmt: skip
    """One page of a person's timeline: `whose` activity (`WHOSE`), one `direction` of
    theirs (`DIRECTIONS`, or None for all), one `channel` (or None), from `offset`; with
    `count`, how many activities the filters keep in all (`total`: one count per half, on the
    same indexes)."""
    if whose not in WHOSE:
        raise ConfigError(f"whose activity: one of {', '.join(WHOSE)}, not {whose!r}")
    if direction is not None and direction not in DIRECTIONS:
        raise ConfigError(f"direction: one of {', '.join(DIRECTIONS)}, not {direction!r}")
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise ConfigError(f"a page holds 1 to {MAX_PAGE} activities from an offset of 0 or more")
    with store.sessions() as session:
        pid = find_person(session, ref).id
        theirs, others = activity_halves(pid)
        halves: list[ColumnElement[bool]] = []
        if whose in ("theirs", "all"):
            halves.append(
                theirs if direction is None else theirs & (Activity.direction == direction)
            )
        if whose in ("others", "all") and direction in (None, Direction.PEER.value):
            halves.append(others)
        if channel is not None:
            halves = [h & (Activity.channel == channel) for h in halves]
        acts = _page(session, halves, offset, limit + 1) if halves else []
        shown = acts[:limit]
        people = {a.person_id for a in shown} | {a.target_id for a in shown if a.target_id}
        names = queries.names(session, people)
        identities = queries.identities(session, people - {pid})
        channels = sorted({c for half in activity_halves(pid) for c in session.scalars(
            select(Activity.channel).where(half).distinct()) if c})  # fmt: skip
        items = tuple(timeline_item(a, pid, names, identities) for a in shown)
        total = None
        if count:
            total = sum(
                int(session.scalar(select(func.count()).select_from(Activity).where(h)) or 0)
                for h in halves
            )
    return TimelinePage(pid, whose, direction, channel, offset, items, len(acts) > limit,
                        tuple(channels), total)  # fmt: skip


def _page(session: Any, halves: list[ColumnElement[bool]], offset: int, n: int) -> list[Activity]:
    """Activities `offset` to `offset + n` of the halves together, the newest first."""
    parts = [
        select(Activity.id, Activity.occurred_at).where(half)
        .order_by(Activity.occurred_at.desc(), Activity.id.desc())
        .limit(offset + n).subquery()
        for half in halves
    ]  # fmt: skip
    both = union_all(*(select(p.c.id, p.c.occurred_at) for p in parts)).subquery()
    ids = (
        select(both.c.id)
        .order_by(both.c.occurred_at.desc(), both.c.id.desc())
        .offset(offset)
        .limit(n)
    )
    return list(
        session.scalars(
            select(Activity)
            .where(Activity.id.in_(ids.scalar_subquery()))
            .order_by(Activity.occurred_at.desc(), Activity.id.desc())
        )
    )
