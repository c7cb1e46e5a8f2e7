"""What the merge review shows (issue 15, item 5): the stored open suggestions with what each
person did and where, and the merges a person was made of, all read without running the
matcher (`merge_suggestions.open_suggestions`; the matcher runs only when asked).

`review_suggestions` is one page of open suggestions, each person with their flags, how many
activities they did, when last and on which channels, and how many open suggestions there are
in all; `merged_into` is the active merges kept by one person, newest first (the first is the
one `unmerge` can undo now: merges are undone newest first); `merge_by_id` one merge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from karmabank.actions.merge_suggestions import SuggestionView, listed, open_suggestions
from karmabank.actions.merging import MergeView
from karmabank.actions.people import as_time, iso
from karmabank.errors import NotFoundError
from karmabank.model import Direction, Flag
from karmabank.store.merges import Merge, MergeSuggestion
from karmabank.store.open import Store
from karmabank.store.tables import Activity, Person


@dataclass(frozen=True, slots=True)
class Seen:
    """A person at a glance, for telling two apart: their flags, how many activities they did
    (`in`), the last one's time, and the channels they did them on (most used first)."""

    flags: tuple[str, ...]
    activities: int
    last_at: datetime | None
    channels: tuple[tuple[str, int], ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "flags": list(self.flags), "activities": self.activities,
            "last_activity_at": iso(self.last_at),
            "channels": [{"channel": c, "activities": n} for c, n in self.channels],
        }  # fmt: skip


NOT_SEEN = Seen((), 0, None, ())


@dataclass(frozen=True, slots=True)
class ReviewPage:
    """One page of open suggestions (most confident first) with each person's `Seen`."""

    suggestions: tuple[SuggestionView, ...]
    seen: dict[int, Seen]
    total: int  # the open suggestions at or above min_confidence, on every page
    offset: int
    limit: int

    def as_json(self) -> dict[str, Any]:
        def person(p: dict[str, Any]) -> dict[str, Any]:
            return {**p, **self.seen.get(p["id"], NOT_SEEN).as_json()}

        return {
            "items": [{**j, "a": person(j["a"]), "b": person(j["b"])}
                      for j in (s.as_json() for s in self.suggestions)],
            "total": self.total, "offset": self.offset, "limit": self.limit,
        }  # fmt: skip


def review_suggestions(
    *, store: Store, limit: int, offset: int = 0, min_confidence: float = 0.0
) -> ReviewPage:
    """The open suggestions from `offset` (at most `limit`) with both persons' `Seen`."""
    found = open_suggestions(store=store, limit=limit, offset=offset,
                             min_confidence=min_confidence)  # fmt: skip
    ids = {p.id for s in found for p in (s.a, s.b)}
    with store.sessions() as session:
        total = session.scalar(
            select(func.count()).select_from(MergeSuggestion).where(*listed(min_confidence))
        )
        seen = _seen(session, ids)
    return ReviewPage(tuple(found), seen, int(total or 0), offset, limit)


def _seen(session: Session, ids: set[int]) -> dict[int, Seen]:
    if not ids:
        return {}
    flags = {
        p.id: tuple(f.value for f in Flag if getattr(p, f.value))
        for p in session.scalars(select(Person).where(Person.id.in_(ids)))
    }
    per: dict[int, list[tuple[str, int, datetime]]] = {}
    for pid, channel, n, last in session.execute(
        select(Activity.person_id, Activity.channel, func.count(), func.max(Activity.occurred_at))
        .where(Activity.person_id.in_(ids), Activity.direction == Direction.IN.value)
        .group_by(Activity.person_id, Activity.channel)
    ):  # fmt: skip
        at = as_time(last)
        assert at is not None  # a group has at least one activity
        per.setdefault(pid, []).append((channel, int(n), at))
    out = {}
    for pid in ids:
        rows = sorted(per.get(pid, []), key=lambda r: (-r[1], r[0]))
        out[pid] = Seen(
            flags=flags.get(pid, ()), activities=sum(n for _, n, _ in rows),
            last_at=max((t for _, _, t in rows), default=None),
            channels=tuple((c, n) for c, n, _ in rows),
        )  # fmt: skip
    return out


def merged_into(*, store: Store, person_id: int) -> list[MergeView]:
    """The active merges that kept `person_id`, newest first: who was merged into them, when,
    by whom, with what evidence. Only the first can be undone now (newest first)."""
    with store.sessions() as session:
        merges = session.scalars(
            select(Merge).where(Merge.kept_id == person_id, Merge.undone_at.is_(None))
            .order_by(Merge.id.desc())
        )  # fmt: skip
        return [MergeView.of(m) for m in merges]


def merge_by_id(*, store: Store, merge_id: int) -> MergeView:
    """One merge (undone or not); NotFoundError when there is none."""
    with store.sessions() as session:
        merge = session.get(Merge, merge_id)
        if merge is None:
            raise NotFoundError(f"no merge with id {merge_id}")
        return MergeView.of(merge)


def kept_for(*, store: Store, person_id: int) -> int | None:
    """The person an absorbed `person_id` is now part of: the kept person of the active merge
    that absorbed them, through later merges of that one; None when they were not absorbed."""
    with store.sessions() as session:
        current, seen = person_id, {person_id}
        while True:
            kept = session.scalar(
                select(Merge.kept_id).where(Merge.absorbed_id == current, Merge.undone_at.is_(None))
                .order_by(Merge.id.desc()).limit(1)
            )  # fmt: skip
            if kept is None or kept in seen:
                return None if current == person_id else current
            current = kept
            seen.add(kept)
