"""Relationships as the scores see them: the people list with circles and rhythm, one person's
scores with their reasons, and the network's status. Stale scores are recomputed first."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from karmabank.actions.freshness import ensure_scores
from karmabank.actions.listing import people_select
from karmabank.actions.people import as_time, find_person, iso, person_detail
from karmabank.frames import ACTIVITY_SCHEMA
from karmabank.measures import explain
from karmabank.measures.ledger import ShareRatio
from karmabank.measures.settings import MeasureSettings
from karmabank.measures.warmth import warmth_parts
from karmabank.model import Flag, from_micros, to_micros
from karmabank.store.open import Store
from karmabank.store.tables import Activity, Person, PersonScore, ScoreState


@dataclass(frozen=True)
class PersonSummary:
    person: Person
    score: PersonScore | None  # None: team, bot, or never active
    activities: int
    last_seen: datetime | None


def list_people(
    *, store: Store, now: datetime, settings: MeasureSettings, limit: int = 50,
    query: str | None = None, flag: Flag | None = None, circle: str | None = None,
    status: str | None = None, stage: str | None = None, sort: str = "warmth",
) -> list[PersonSummary]:  # fmt: skip
    """People with their scores, filtered and sorted (warmest first by default)."""
    q = people_select(
        limit=limit, query=query, flag=flag, circle=circle, status=status, stage=stage, sort=sort
    )
    ensure_scores(store=store, now=now, settings=settings)
    with store.sessions() as session:
        rows: list[tuple[Person, PersonScore | None]] = [(p, sc) for p, sc in session.execute(q)]
        ids = [p.id for p, _ in rows]
        counts: dict[int, tuple[int, Any]] = {
            pid: (int(n), last)
            for pid, n, last in session.execute(
                select(Activity.person_id, func.count(), func.max(Activity.occurred_at))
                .where(Activity.person_id.in_(ids))
                .group_by(Activity.person_id)
            )
        }
        out = []
        for person, score in rows:
            _ = person.identities  # load while the session is open
            n, last = counts.get(person.id, (0, None))
            out.append(PersonSummary(person, score, n, as_time(last)))
        return out


def score_json(score: PersonScore | None) -> dict[str, Any]:
    """The scores every person listing carries."""
    if score is None:
        return {"circle": None, "status": None, "stage": None, "warmth": None, "balance": None}
    return {
        "circle": score.circle,
        "status": score.status,
        "stage": score.stage,
        "warmth": round(score.warmth, 3),
        "balance": score.balance,
    }


def _row(score: PersonScore) -> dict[str, Any]:
    return {c.name: getattr(score, c.name) for c in PersonScore.__table__.columns}


def _inbound(session: Session, person_id: int) -> pa.Table:
    """The person's inbound activities as ACTIVITY_SCHEMA (columns, not ORM objects: someone
    active for years has thousands)."""
    rows = session.execute(
        select(*(getattr(Activity, n) for n in ACTIVITY_SCHEMA.names)).where(
            Activity.person_id == person_id, Activity.direction == "in"
        )
    ).all()
    names = ACTIVITY_SCHEMA.names
    columns = [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in names]
    data = dict(zip(names, columns, strict=True))
    data["occurred_at"] = [to_micros(t) for t in data["occurred_at"]]
    return pa.table(data, schema=ACTIVITY_SCHEMA)


def person_scores(
    *, store: Store, ref: str, now: datetime, settings: MeasureSettings
) -> dict[str, Any]:
    """One person's whole story with every score, its parts and the sentence that explains it.
    The REF is resolved first: a mistyped one is "not found" at once, not after a rescore."""
    with store.sessions() as session:
        find_person(session, ref)
    state = ensure_scores(store=store, now=now, settings=settings)
    detail = person_detail(store=store, ref=ref)
    scored_at = from_micros(state.scored_at)
    summary = json.loads(state.summary)
    with store.sessions() as session:
        p = session.get(Person, detail["id"])  # found once, by `person_detail`
        assert p is not None
        score = session.get(PersonScore, p.id)
        acts = _inbound(session, p.id) if score is not None else None
        excluded = "team member" if p.team else "bot" if p.bot else None
    base = {k: detail[k] for k in ("id", "name", "identities", "flags")}
    rest = {k: v for k, v in detail.items() if k not in base}
    if score is None:
        reason = f"{excluded}: not scored" if excluded else "nothing from them toward us yet"
        return {
            **base, "scored_at": iso(scored_at), "circle": None, "status": None, "stage": None,
            "tenure_days": None, "presence": None, "cadence_days": None, "silence_days": None,
            "warmth": None, "ledger": None, "why": {"scores": reason}, **rest,
        }  # fmt: skip
    assert acts is not None
    s = _row(score)
    parts = warmth_parts(acts, scored_at, settings).to_pylist()
    ledger_why = explain.ledger_sentence(s, settings, scored_at)
    return {
        **base,
        "scored_at": iso(scored_at),
        "circle": score.circle,
        "status": score.status,
        "stage": score.stage,
        "tenure_days": score.tenure_days,
        "presence": {
            "d30": score.presence_30,
            "d90": score.presence_90,
            "d365": score.presence_365,
        },  # fmt: skip
        "cadence_days": score.cadence_days,
        "silence_days": score.silence_days,
        "warmth": {
            "value": score.warmth,
            "multiplexity": score.multiplexity,
            "channels": score.channels,
            "parts": [
                {
                    "activity_id": x["activity_id"],
                    "verb": x["verb"],
                    "channel": x["channel"],
                    "occurred_at": iso(from_micros(x["occurred_at"])),
                    "weight": x["weight"],
                    "decay": x["decay"],
                    "contribution": x["contribution"],
                }
                for x in parts
            ],
        },
        "ledger": {
            "given": score.given,
            "asked": score.asked,
            "balance": score.balance,
            "balance_decayed": score.balance_decayed,
            "ask_ready": score.ask_ready,
            "rule": score.ask_rule,
            "why": ledger_why,
        },
        "circle_history": {
            "since": iso(as_time(score.circle_since)),
            "pending": score.pending_circle,
            "pending_since": iso(as_time(score.pending_since)),
        },
        "why": {
            "warmth": explain.warmth_sentence(
                score.warmth, score.multiplexity, score.channels, parts, scored_at
            ),
            "rhythm": explain.rhythm_sentence(s, summary["network_cadence_days"]),
            "circle": explain.circle_sentence(s, summary, settings),
            "stage": explain.stage_sentence(s),
            "ledger": ledger_why,
            "tenure": explain.tenure_sentence(s),
        },
        **rest,
    }


def network_status(*, store: Store, now: datetime, settings: MeasureSettings) -> dict[str, Any]:
    """The organization's share ratio and its people per circle, rhythm status and stage."""
    state: ScoreState = ensure_scores(store=store, now=now, settings=settings)
    summary = json.loads(state.summary)
    sr = summary["share_ratio"]
    share = ShareRatio(sr["days"], sr["gives"], sr["asks"], sr["target"])
    with store.sessions() as session:
        people = session.scalar(select(func.count()).select_from(Person).where(~Person.erased))
    return {
        "scored_at": iso(from_micros(state.scored_at)),
        "people": int(people or 0),
        "scored": sum(summary["circles"].values()),
        "share_ratio": {**share.as_json(), "why": explain.share_sentence(share)},
        "circles": summary["circles"],
        "statuses": summary["statuses"],
        "stages": summary["stages"],
        "ranked": summary["ranked"],
        "circle_cuts": summary["circle_cuts"],
        "network_cadence_days": summary["network_cadence_days"],
    }
