"""Everything karmabank holds about one person, for them to read (`karmabank export`,
`/api/export/{ref}`): a versioned JSON layout (`FORMAT`, `VERSION`; docs/privacy.md draws it)
or the same as one CSV of `section,item,field,value` rows.

What is theirs: their row and flags, identities (with every name each was seen with), opt-outs,
every activity they did or that names them as its target, their scores with the parts and
sentences that explain them, ladder moves, asks, nurture suggestions, merges and `merge never`
decisions, and every audit entry about them. Other people appear by number only (the other
side of an activity, a merge, a pair): never their names or identities.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from karmabank.actions.audit import entries_about
from karmabank.actions.people import as_time, iso
from karmabank.actions.relationships import person_scores
from karmabank.errors import ConfigError
from karmabank.measures.settings import MeasureSettings
from karmabank.store.identity_names import IdentityName
from karmabank.store.merges import Merge, MergeNever
from karmabank.store.open import Store
from karmabank.store.org_tables import OptOut
from karmabank.store.tables import (
    Activity,
    Ask,
    Campaign,
    Identity,
    LadderTransition,
    Person,
    Suggestion,
)

FORMAT = "karmabank.person-export"
VERSION = 1
FORMATS = ("json", "csv")
CSV_HEADER = ("section", "item", "field", "value")
# A spreadsheet runs a cell that starts with one of these as a formula: such a text value is
# written with a leading apostrophe in the CSV (the JSON keeps it exactly).
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class PersonExport:
    """One person's export: `as_json` is the whole document, `csv_text` the same as CSV."""

    document: dict[str, Any]

    @property
    def person_id(self) -> int:
        return int(self.document["person"]["id"])

    def as_json(self) -> dict[str, Any]:
        return self.document

    def csv_rows(self) -> Iterator[tuple[str, str, str, Any]]:
        """(section, item, field, value): `item` numbers a list's entries from 1 ("" for a
        section that is one object); a nested object's fields are dotted (`why.warmth`), a
        list of plain values is one JSON value."""
        for section, value in self.document.items():
            if isinstance(value, list):
                for n, item in enumerate(value, 1):
                    for field, v in _flat(item):
                        yield section, str(n), field, v
            elif isinstance(value, dict):
                for field, v in _flat(value):
                    yield section, "", field, v
            else:
                yield section, "", "", value

    def csv_text(self) -> str:
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\r\n")
        w.writerow(CSV_HEADER)
        for row in self.csv_rows():
            w.writerow([*row[:3], csv_cell(row[3])])
        return out.getvalue()


def csv_cell(value: Any) -> str:
    """A value as a CSV cell: None empty, booleans `true`/`false`, lists JSON, text that a
    spreadsheet would run as a formula behind an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return str(value)


def _flat(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if not isinstance(value, dict):
        yield prefix, value
        return
    for k, v in value.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict) and v:
            yield from _flat(v, key)
        else:
            yield key, v


def check_format(fmt: str) -> str:
    f = fmt.strip().lower()
    if f not in FORMATS:
        raise ConfigError(f"export format {fmt!r}: choose json or csv")
    return f


def export_person(
    *, store: Store, ref: str, now: datetime, settings: MeasureSettings
) -> PersonExport:
    """Everything about the person `ref` names (NotFoundError when none, or erased). The scores
    are as of the last rescore, rescored first when stale (as `karmabank person` does)."""
    scored = person_scores(store=store, ref=ref, now=now, settings=settings)
    pid = scored.story.ref.id
    with store.sessions() as session:
        p = session.get(Person, pid)
        assert p is not None
        doc: dict[str, Any] = {
            "format": FORMAT, "version": VERSION, "exported_at": iso(now),
            "person": _person(p), "identities": _identities(session, pid),
            "opt_outs": _opt_outs(session, pid),
            "scores": {"scored_at": iso(scored.scored_at),
                       **(scored.scores.as_json() if scored.scores is not None
                          else {"why": {"scores": scored.unscored}})},
            "ladder": _ladder(session, pid), "activities": _activities(session, pid),
            "asks": _asks(session, pid), "suggestions": _suggestions(session, pid),
            "merges": _merges(session, pid), "merge_never": _never(session, pid),
            "audit": [e.as_json() for e in entries_about(session, pid)],
        }  # fmt: skip
    return PersonExport(doc)


def _person(p: Person) -> dict[str, Any]:
    return {
        "id": p.id, "name": p.name, "name_typed_by_hand": p.name_manual,
        "created_at": iso(p.created_at), "followers": p.followers,
        "flags": {"team": p.team, "bot": p.bot, "do_not_contact": p.do_not_contact},
    }  # fmt: skip


def _identities(session: Session, pid: int) -> list[dict[str, Any]]:
    rows = session.scalars(select(Identity).where(Identity.person_id == pid).order_by(Identity.id))
    out = []
    for i in rows:
        names = session.scalars(
            select(IdentityName.name).where(IdentityName.identity_id == i.id)
            .order_by(IdentityName.name_key)
        )  # fmt: skip
        out.append({"identity": f"{i.platform}:{i.key}", "platform": i.platform, "key": i.key,
                    "label": i.label, "names_seen": list(names)})  # fmt: skip
    return out


def _opt_outs(session: Session, pid: int) -> list[dict[str, Any]]:
    rows = session.scalars(select(OptOut).where(OptOut.person_id == pid).order_by(OptOut.channel))
    return [{"channel": o.channel, "since": iso(o.created_at), "source": o.source} for o in rows]


def _ladder(session: Session, pid: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(LadderTransition).where(LadderTransition.person_id == pid)
        .order_by(LadderTransition.at, LadderTransition.id)
    )  # fmt: skip
    return [{"at": iso(as_time(t.at)), "from": t.from_stage, "to": t.to_stage} for t in rows]


def _activities(session: Session, pid: int) -> list[dict[str, Any]]:
    """What they did and what others did to them, the oldest first."""
    rows = session.scalars(
        select(Activity).where(or_(Activity.person_id == pid, Activity.target_id == pid))
        .order_by(Activity.occurred_at, Activity.id)
    )  # fmt: skip
    out = []
    for a in rows:
        theirs = a.person_id == pid
        other = a.target_id if theirs else a.person_id
        out.append({
            "id": a.id, "occurred_at": iso(a.occurred_at), "by": "them" if theirs else "other",
            "direction": a.direction, "verb": a.verb, "channel": a.channel, "object": a.object,
            "text": a.text, "weight": a.weight,
            "other_person_id": None if other == pid else other, "import_run": a.import_run_id,
        })  # fmt: skip
    return out


def _asks(session: Session, pid: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Ask, Campaign.name).join(Campaign, Campaign.id == Ask.campaign_id)
        .where(Ask.person_id == pid).order_by(Ask.planned_at, Ask.id)
    )  # fmt: skip
    return [
        {"campaign": name, "status": a.status, "response": a.response,
         "planned_at": iso(a.planned_at), "sent_at": iso(a.sent_at),
         "responded_at": iso(a.responded_at), "acted_at": iso(a.acted_at),
         "thanked_at": iso(a.thanked_at), "likelihood": a.likelihood,
         "marginal_reach": a.marginal_reach, "reason": a.reason, "draft": a.draft,
         "activity_id": a.activity_id}
        for a, name in rows
    ]  # fmt: skip


def _suggestions(session: Session, pid: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Suggestion).where(Suggestion.person_id == pid).order_by(Suggestion.id)
    )
    return [
        {"kind": x.kind, "status": x.status, "reason": x.reason, "created_at": iso(x.created_at),
         "snoozed_until": iso(x.snoozed_until), "done_at": iso(x.done_at), "channel": x.channel,
         "next_step": x.next_step, "draft": x.draft, "activity_id": x.activity_id}
        for x in rows
    ]  # fmt: skip


def _merges(session: Session, pid: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Merge).where(or_(Merge.kept_id == pid, Merge.absorbed_id == pid))
        .order_by(Merge.id)
    )  # fmt: skip
    return [
        {"id": m.id, "kept_person_id": m.kept_id, "absorbed_person_id": m.absorbed_id,
         "decided_at": iso(m.decided_at), "decided_by": m.decided_by, "why": m.why,
         "confidence": m.confidence, "undone_at": iso(m.undone_at), "undone_by": m.undone_by}
        for m in rows
    ]  # fmt: skip


def _never(session: Session, pid: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(MergeNever).where(or_(MergeNever.person_a == pid, MergeNever.person_b == pid))
        .order_by(MergeNever.person_a, MergeNever.person_b)
    )  # fmt: skip
    return [
        {"other_person_id": n.person_b if n.person_a == pid else n.person_a,
         "decided_at": iso(n.decided_at), "decided_by": n.decided_by, "why": n.why}
        for n in rows
    ]  # fmt: skip
