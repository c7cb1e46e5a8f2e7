"""The rows a merge moves, and putting them back: what `actions/merging.py` records in
`merge.moved` (JSON) so that `unmerge` restores each person exactly.

Every row that names a person goes to the kept one: identities, activities (as the actor and as
the peer target), asks, nurture suggestions and ladder transitions are moved (their ids kept);
an ask of the absorbed person in a campaign the kept one also has an ask in cannot move (one ask
per person and campaign) and is removed whole; the absorbed person's score row is removed and the
kept one's circle and stage history become the higher of the two, so a merge never demotes.
The absorbed person's row itself is removed (so no lookup, listing or name search meets an empty
person) and comes back with its id. All of it is set-wise SQL on indexed columns: one pair at a
million persons is a few statements per table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import Session

from karmabank.model import Circle, Stage, to_micros
from karmabank.store.org_tables import OptOut
from karmabank.store.tables import (
    Activity,
    Ask,
    Identity,
    LadderTransition,
    Organization,
    Person,
    PersonScore,
    Suggestion,
)

# (key in `moved`, table, column): the references a merge moves to the kept person
MOVES: tuple[tuple[str, Table, str], ...] = (
    ("identity", Identity.__table__, "person_id"),
    ("activity", Activity.__table__, "person_id"),
    ("activity_target", Activity.__table__, "target_id"),
    ("ask", Ask.__table__, "person_id"),
    ("suggestion", Suggestion.__table__, "person_id"),
    ("ladder_transition", LadderTransition.__table__, "person_id"),
    ("opt_out", OptOut.__table__, "person_id"),
)  # type: ignore[assignment]
# the person columns a merge may change on the kept person
COMBINED = ("name", "name_key", "name_manual", "do_not_contact", "followers", "created_at")
CHUNK = 10_000  # ids per IN (...) list
PERSON_TABLE: Table = Person.__table__  # type: ignore[assignment]
_SCORE: Table = PersonScore.__table__  # type: ignore[assignment]
_ASK: Table = Ask.__table__  # type: ignore[assignment]
_OPT_OUT: Table = OptOut.__table__  # type: ignore[assignment]


def plain(row: Any) -> dict[str, Any]:
    """A row as JSON values: times as UTC microseconds (what `UtcTimestamp` binds back)."""
    return {k: to_micros(v) if isinstance(v, datetime) else v for k, v in row._mapping.items()}


def row_of(session: Session, table: Table, **where: Any) -> dict[str, Any] | None:
    query = select(table).where(*(table.c[k] == v for k, v in where.items()))
    found = session.execute(query).first()
    return None if found is None else plain(found)


def combined_person(kept: dict[str, Any], absorbed: dict[str, Any]) -> dict[str, Any]:
    """The kept person's columns after the merge: do_not_contact if either asked for it, a name
    typed by hand wins (the kept one's first), else the kept name or, lacking one, the other's;
    the larger audience; the earlier creation."""
    out = dict(kept)
    out["do_not_contact"] = bool(kept["do_not_contact"] or absorbed["do_not_contact"])
    if not kept["name_manual"] and (absorbed["name_manual"] or kept["name"] is None):
        if absorbed["name"] is not None:
            for column in ("name", "name_key", "name_manual"):
                out[column] = absorbed[column]
    audiences = [f for f in (kept["followers"], absorbed["followers"]) if f is not None]
    out["followers"] = max(audiences) if audiences else None
    out["created_at"] = min(kept["created_at"], absorbed["created_at"])
    return {c: out[c] for c in COMBINED}


def move_rows(session: Session, *, kept: int, absorbed: int) -> dict[str, Any]:
    """Move everything of `absorbed` to `kept`; what moved, by key of `MOVES`, plus the asks
    and the per-channel opt-outs removed whole (`asks_removed`, `opt_outs_removed`: one per
    person and campaign, or channel, and the kept person has one already)."""
    moved: dict[str, Any] = {
        "asks_removed": _remove_clashing(session, _ASK, "campaign_id", kept, absorbed),
        "opt_outs_removed": _remove_clashing(session, _OPT_OUT, "channel", kept, absorbed),
    }
    for key, table, column in MOVES:
        ids = list(session.scalars(select(table.c.id).where(table.c[column] == absorbed)))
        for chunk in _chunks(ids):
            session.execute(
                update(table).where(table.c.id.in_(chunk)).values({column: kept}),
                execution_options={"synchronize_session": False},
            )
        moved[key] = ids
    if moved["activity"] or moved["activity_target"]:  # changed, not appended: the columnar
        session.execute(  # copy is rebuilt at the next rescore
            update(Organization).values(activity_epoch=Organization.activity_epoch + 1)
        )
    return moved


def _remove_clashing(
    session: Session, table: Table, unique: str, kept: int, absorbed: int
) -> list[dict[str, Any]]:
    """Remove (and return) the absorbed person's rows whose `unique` value the kept person
    has a row with already."""
    kept_values = select(table.c[unique]).where(table.c.person_id == kept)
    clashing = select(table).where(table.c.person_id == absorbed, table.c[unique].in_(kept_values))
    removed = [plain(r) for r in session.execute(clashing)]
    if removed:
        session.execute(delete(table).where(table.c.id.in_([r["id"] for r in removed])))
    return removed


def restore_rows(session: Session, *, moved: dict[str, Any], absorbed: int) -> None:
    """Put back what `move_rows` moved (by id, wherever the rows are now) and the asks and
    opt-outs it removed (a merge recorded before opt-outs moved has none)."""
    for key, table, column in MOVES:
        for chunk in _chunks(moved.get(key, [])):
            session.execute(
                update(table).where(table.c.id.in_(chunk)).values({column: absorbed}),
                execution_options={"synchronize_session": False},
            )
    if moved["asks_removed"]:
        session.execute(insert(_ASK), moved["asks_removed"])
    if moved.get("opt_outs_removed"):
        session.execute(insert(_OPT_OUT), moved["opt_outs_removed"])
    if moved["activity"] or moved["activity_target"]:
        session.execute(update(Organization).values(activity_epoch=Organization.activity_epoch + 1))


def combine_scores(session: Session, *, kept: int, absorbed: int) -> dict[str, Any]:
    """Remove the absorbed person's score row and give the kept one the higher circle (with its
    since and pending) and the higher stage of the two; the rows as they were."""
    before = {
        "kept": row_of(session, _SCORE, person_id=kept),
        "absorbed": row_of(session, _SCORE, person_id=absorbed),
    }
    theirs = before["absorbed"]
    if theirs is None:
        return before
    session.execute(delete(_SCORE).where(_SCORE.c.person_id == absorbed))
    mine = before["kept"]
    if mine is None:
        session.execute(insert(_SCORE), [{**theirs, "person_id": kept}])
        return before
    history: dict[str, Any] = {}
    if _circle_rank(theirs["circle"]) < _circle_rank(mine["circle"]):
        history |= {c: theirs[c] for c in ("circle", "circle_since", "pending_circle",
                                           "pending_since")}  # fmt: skip
    if _stage_rank(theirs["stage"]) > _stage_rank(mine["stage"]):
        history |= {c: theirs[c] for c in ("stage", "stage_at")}
    if history:
        session.execute(update(_SCORE).where(_SCORE.c.person_id == kept).values(history))
    return before


def restore_scores(session: Session, *, before: dict[str, Any], kept: int) -> None:
    """The two score rows as they were before the merge (the kept one's replaced)."""
    if before["absorbed"] is None:
        return
    session.execute(delete(_SCORE).where(_SCORE.c.person_id == kept))
    rows = [r for r in (before["kept"], before["absorbed"]) if r is not None]
    session.execute(insert(_SCORE), rows)


def _circle_rank(circle: str | None) -> int:
    """Closest first (`Circle`'s order); no circle is farthest."""
    order = list(Circle)
    return order.index(Circle(circle)) if circle in order else len(order)


def _stage_rank(stage: str | None) -> int:
    order = list(Stage)
    return order.index(Stage(stage)) if stage in order else -1


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]
