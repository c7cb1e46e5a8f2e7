"""The people listing, streamed: rows come out in chunks as the database returns them, as plain
columns (no ORM objects, no query per person), so `people --limit 100000` holds one chunk at a
time instead of every row and its identities.

The order is `people_select`'s (the sort key descending, people without one last, then by id),
read in two parts so that neither sorts a million scores: the people whose sort key is known,
walking that key's index on `person_score` (`ix_person_score_<key>`, migration 0009), then, only
if the limit is not reached, the rest (not scored, or scored without that key) by id. This
module imports SQLAlchemy and the tables only: the rescore's modules load when it runs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from karmabank.actions.freshness import ensure_scores
from karmabank.actions.people import as_time
from karmabank.errors import ConfigError, OptionError
from karmabank.identities import display_name
from karmabank.measures.settings import MeasureSettings
from karmabank.model import Circle, Flag, RhythmStatus, Stage
from karmabank.names import like_pattern, name_key
from karmabank.store import queries
from karmabank.store.open import Store
from karmabank.store.tables import Identity, Person, PersonScore

CHUNK = 1000
SORTS = ("warmth", "tenure", "balance", "silence", "recent")
if TYPE_CHECKING:
    AnySelect = Select[*tuple[Any, ...]]
    # the listing's query, and the query of the rest when the first one stops short of the limit
    Parts = tuple[AnySelect, Callable[[int], AnySelect] | None]
_Q = TypeVar("_Q", bound="Select[*tuple[Any, ...]]")


def _sort_key(sort: str) -> InstrumentedAttribute[Any]:
    keys: dict[str, InstrumentedAttribute[Any]] = {
        "warmth": PersonScore.warmth, "tenure": PersonScore.tenure_days,
        "balance": PersonScore.balance, "silence": PersonScore.silence_days,
        "recent": PersonScore.last_at,
    }  # fmt: skip
    return keys[sort]


def _check(value: str | None, allowed: tuple[str, ...], what: str) -> None:
    if value is not None and value not in allowed:
        raise ConfigError(f"unknown {what} {value!r} (one of: {', '.join(allowed)})")


def _filtered(
    q: _Q, *, query: str | None, flag: Flag | None, circle: str | None,
    status: str | None, stage: str | None,
) -> _Q:  # fmt: skip
    """`q` (person joined to person_score) restricted to the listing's people and filters."""
    q = q.where(~Person.erased)
    for column, value in (
        (PersonScore.circle, circle), (PersonScore.status, status), (PersonScore.stage, stage),
    ):  # fmt: skip
        if value is not None:
            q = q.where(column == value)
    if flag is not None:
        q = q.where(getattr(Person, flag.value))
    if query and query.strip():
        named, keyed = like_pattern(name_key(query) or ""), like_pattern(query.strip().lower())
        q = q.where(
            or_(
                Person.name_key.like(named, escape="\\"),
                Person.id.in_(
                    select(Identity.person_id).where(Identity.key.like(keyed, escape="\\"))
                ),
            )
        )
    return q


def _checked(limit: int, circle: str | None, status: str | None, stage: str | None,
             sort: str) -> None:  # fmt: skip
    if limit < 1:
        raise OptionError("limit", "must be at least 1")
    _check(circle, tuple(Circle), "circle")
    _check(status, tuple(RhythmStatus), "status")
    _check(stage, tuple(Stage), "stage")
    _check(sort, SORTS, "sort")


def people_select(
    *, limit: int, query: str | None, flag: Flag | None, circle: str | None,
    status: str | None, stage: str | None, sort: str,
) -> Select[Person, PersonScore]:  # fmt: skip
    """The listing's query as one statement: people (not erased) with their scores, filtered,
    sorted (the key descending, NULLs last, then by id), limited. It sorts every match, so
    `stream_people` reads the same rows in two index walks instead (`listing_parts`).
    ConfigError for an unknown circle, status, stage or sort, or a limit below 1."""
    _checked(limit, circle, status, stage, sort)
    q = select(Person, PersonScore).outerjoin(PersonScore, PersonScore.person_id == Person.id)
    q = _filtered(q, query=query, flag=flag, circle=circle, status=status, stage=stage)
    key: ColumnElement[Any] = _sort_key(sort).expression
    if sort == "warmth":
        # `+ 0` keeps SQLite off the warmth index here: with a filter it would walk the whole
        # index (2.8 s for `--circle core` on a million people, against 0.16 s sorting the few
        # matches); the order is the same
        key = key + 0
    return q.order_by(key.desc().nulls_last(), Person.id).limit(limit)


def walks_index(
    *, query: str | None, flag: Flag | None, circle: str | None, status: str | None,
    stage: str | None, sort: str,
) -> bool:  # fmt: skip
    """Whether the listing reads its rows in two parts off the warmth index (`listing_parts`):
    the default order with no filter. A filter may match few people spread over the whole
    index, and the other sorts have no index: those sort their matches (`people_select`)."""
    return sort == "warmth" and not (query and query.strip()) and (flag, circle, status,
                                                                     stage) == (None,) * 4


def listing_parts(
    *, limit: int, query: str | None, flag: Flag | None, circle: str | None,
    status: str | None, stage: str | None, sort: str,
    columns: tuple[InstrumentedAttribute[Any], ...],
) -> tuple[AnySelect, Callable[[int], AnySelect]]:  # fmt: skip
    """`people_select`'s rows as two queries of `columns`, read one after the other: the
    people whose sort key is known in key order (descending, then by id: the order of the
    key's index, so the database walks it and stops at the limit instead of sorting), and a
    function giving the first `n` of the others (no score, or no value for the key) by id."""
    _checked(limit, circle, status, stage, sort)
    key = _sort_key(sort)
    def filtered(q: AnySelect) -> AnySelect:
        return _filtered(q, query=query, flag=flag, circle=circle, status=status, stage=stage)

    known = filtered(
        select(*columns).select_from(PersonScore).join(Person, Person.id == PersonScore.person_id)
    ).where(key.is_not(None))
    known = known.order_by(key.desc(), PersonScore.person_id).limit(limit)
    unknown = filtered(
        select(*columns).select_from(Person)
        .outerjoin(PersonScore, PersonScore.person_id == Person.id)
    ).where(or_(PersonScore.person_id.is_(None), key.is_(None)))  # fmt: skip
    return known, lambda n: unknown.order_by(Person.id).limit(n)


@dataclass(frozen=True, slots=True)
class ListedPerson:
    """One row of the listing: the person, their scores (None: not scored) and flags.
    `activities` and `last_seen` are read only when asked for (`details`). The one view of a
    listed person: `people` (table, TSV, `--json`), `/api/people` and the `/people` page all
    show these rows."""

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
        """The name, else the best identity (`identities.display_name`)."""
        return display_name(self.name, self.identities, self.id)

    def as_json(self) -> dict[str, Any]:
        """The listing's JSON object, the one shape of a listed person (`people --json`,
        `/api/people` and the `/people` page's template)."""
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
    columns = (
        Person.id, Person.name, Person.team, Person.bot, Person.do_not_contact,
        PersonScore.person_id, PersonScore.circle, PersonScore.status, PersonScore.stage,
        PersonScore.warmth, PersonScore.balance,
    )  # fmt: skip
    parts: Parts
    if walks_index(query=query, flag=flag, circle=circle, status=status, stage=stage, sort=sort):
        parts = listing_parts(limit=limit, query=query, flag=flag, circle=circle, status=status,
                              stage=stage, sort=sort, columns=columns)  # fmt: skip
    else:
        parts = (
            people_select(limit=limit, query=query, flag=flag, circle=circle, status=status,
                          stage=stage, sort=sort).with_only_columns(*columns),
            None,
        )  # fmt: skip
    ensure_scores(store=store, now=now, settings=settings)
    return _chunks(store, parts, limit, details, chunk)


_FLAGS = tuple(f.value for f in Flag)  # team, bot, do_not_contact: the columns' order


def _rows(
    session: Session, parts: Parts, limit: int,
    chunk: int,
) -> Iterator[Any]:  # fmt: skip
    """The rows of both parts, as the database returns them (plain Core rows: the ORM's
    loading adds nothing to columns)."""
    known, unknown = parts
    conn = session.connection()
    shown = 0
    for rows in conn.execute(known.execution_options(yield_per=chunk)).partitions(chunk):
        shown += len(rows)
        yield from rows
    if unknown is not None and shown < limit:
        yield from conn.execute(unknown(limit - shown).execution_options(yield_per=chunk))


def _chunks(
    store: Store, parts: Parts, limit: int,
    details: bool, chunk: int,
) -> Iterator[list[ListedPerson]]:  # fmt: skip
    with store.sessions() as session:
        rows_read = _rows(session, parts, limit, chunk)
        while rows := list(islice(rows_read, chunk)):
            ids = [r[0] for r in rows]
            idents = queries.identities(session, ids)
            counts = queries.activity_counts(session, ids) if details else {}
            out = []
            for pid, name, team, bot, dnc, scored, circle, status, stage, warmth, balance in rows:
                flags = [f for f, on in zip(_FLAGS, (team, bot, dnc), strict=True) if on]
                n, last = counts.get(pid, (0, None))
                out.append(ListedPerson(
                    pid, name, idents.get(pid, []), circle, status, stage,
                    None if scored is None else warmth, None if scored is None else balance,
                    flags, n if details else None, as_time(last),
                ))  # fmt: skip
            yield out
