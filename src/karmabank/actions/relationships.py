"""Relationships as the scores see them: the people list with circles and rhythm, one person's
scores with their reasons, and the network's status. Stale scores are recomputed first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from karmabank.actions.freshness import ensure_scores
from karmabank.actions.listing import people_select
from karmabank.actions.opt_outs import Consent
from karmabank.actions.people import as_time, find_person, iso
from karmabank.actions.person_story import PersonStory, read_story
from karmabank.frames import ACTIVITY_SCHEMA
from karmabank.measures import explain
from karmabank.measures.ledger import ShareRatio, with_opt_outs
from karmabank.measures.settings import MeasureSettings
from karmabank.measures.warmth import warmth_parts
from karmabank.model import Flag, from_micros, to_micros
from karmabank.store import queries
from karmabank.store.open import Store
from karmabank.store.tables import Activity, Person, PersonScore


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
    """People with their scores, filtered and sorted (warmest first by default), as the ORM's
    rows (`PersonSummary`), for code that needs the stored rows: the demo's tour, the tests.
    The edges list people with `listing.stream_people`, whose `ListedPerson.as_json` is the one
    JSON shape of a listed person."""
    q = people_select(
        limit=limit, query=query, flag=flag, circle=circle, status=status, stage=stage, sort=sort
    )
    ensure_scores(store=store, now=now, settings=settings)
    with store.sessions() as session:
        rows: list[tuple[Person, PersonScore | None]] = [(p, sc) for p, sc in session.execute(q)]
        counts = queries.activity_counts(session, (p.id for p, _ in rows))
        out = []
        for person, score in rows:
            _ = person.identities  # load while the session is open
            n, last = counts.get(person.id, (0, None))
            out.append(PersonSummary(person, score, n, as_time(last)))
        return out


def score_json(score: PersonScore | None) -> dict[str, Any]:
    """The scores a listed person's JSON carries, from the ORM's row (`ListedPerson.as_json`
    builds them from plain columns; `tests/actions/test_listing.py` checks they agree)."""
    if score is None:
        return {"circle": None, "status": None, "stage": None, "warmth": None, "balance": None}
    return {
        "circle": score.circle,
        "status": score.status,
        "stage": score.stage,
        "warmth": round(score.warmth, 3),
        "balance": score.balance,
    }


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


@dataclass(frozen=True, slots=True)
class WarmthPart:
    """One inbound activity's part of the warmth: its weight, decayed by its age."""

    activity_id: int
    verb: str
    channel: str
    occurred_at: datetime
    weight: float
    decay: float
    contribution: float

    def as_json(self) -> dict[str, Any]:
        return {
            "activity_id": self.activity_id, "verb": self.verb, "channel": self.channel,
            "occurred_at": iso(self.occurred_at), "weight": self.weight, "decay": self.decay,
            "contribution": self.contribution,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Reasons:
    """The sentence that explains each score (`measures.explain`)."""

    warmth: str
    rhythm: str
    circle: str
    stage: str
    ledger: str
    tenure: str

    def as_json(self) -> dict[str, str]:
        return {"warmth": self.warmth, "rhythm": self.rhythm, "circle": self.circle,
                "stage": self.stage, "ledger": self.ledger, "tenure": self.tenure}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Scores:
    """A scored person's every score at the last rescore, with its parts and reasons (the
    columns of `person_score` a person's JSON shows)."""

    circle: str | None
    status: str | None
    stage: str | None
    tenure_days: int
    presence: tuple[int, int, int]  # active days of the last 30, 90 and 365
    cadence_days: float | None
    silence_days: int | None
    warmth: float
    multiplexity: float
    channels: int
    parts: tuple[WarmthPart, ...]
    given: float
    asked: float
    balance: float
    balance_decayed: float
    ask_ready: bool
    ask_rule: str | None
    circle_since: datetime | None
    pending_circle: str | None
    pending_since: datetime | None
    why: Reasons

    def as_json(self) -> dict[str, Any]:
        d30, d90, d365 = self.presence
        return {
            "circle": self.circle, "status": self.status, "stage": self.stage,
            "tenure_days": self.tenure_days, "presence": {"d30": d30, "d90": d90, "d365": d365},
            "cadence_days": self.cadence_days, "silence_days": self.silence_days,
            "warmth": {"value": self.warmth, "multiplexity": self.multiplexity,
                       "channels": self.channels, "parts": [p.as_json() for p in self.parts]},
            "ledger": {"given": self.given, "asked": self.asked, "balance": self.balance,
                       "balance_decayed": self.balance_decayed, "ask_ready": self.ask_ready,
                       "rule": self.ask_rule, "why": self.why.ledger},
            "circle_history": {"since": iso(self.circle_since), "pending": self.pending_circle,
                               "pending_since": iso(self.pending_since)},
            "why": self.why.as_json(),
        }  # fmt: skip


_UNSCORED = {
    "circle": None, "status": None, "stage": None, "tenure_days": None, "presence": None,
    "cadence_days": None, "silence_days": None, "warmth": None, "ledger": None,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class PersonScores:
    """One person's story with their scores: what `person --json`, `/api/people/{ref}` and the
    person's page show (`as_json`, one shape: who, the scores, what they did)."""

    story: PersonStory
    scored_at: datetime  # the time the scores answer for
    scores: Scores | None  # None: team, bot, or nothing from them toward us yet
    unscored: str | None = None  # why there are no scores

    @property
    def note(self) -> str | None:
        return self.story.note

    def as_json(self) -> dict[str, Any]:
        if self.scores is None:
            scores = {**_UNSCORED, "why": {"scores": self.unscored}}
        else:
            scores = self.scores.as_json()
        return {**self.story.head_json(), "scored_at": iso(self.scored_at), **scores,
                **self.story.tail_json()}  # fmt: skip


def person_scores(
    *, store: Store, ref: str, now: datetime, settings: MeasureSettings
) -> PersonScores:
    """One person's whole story with every score, its parts and the sentence that explains it.
    The REF is resolved first: a mistyped one is "not found" at once, not after a rescore; the
    story and the scores are then read in one session (one snapshot of the database)."""
    with store.sessions() as session:
        find_person(session, ref)
    state = ensure_scores(store=store, now=now, settings=settings)
    scored_at = state.at
    with store.sessions() as session:
        story = read_story(session, ref=ref)
        score = session.get(PersonScore, story.ref.id)
        if score is None:
            p = session.get(Person, story.ref.id)
            assert p is not None
            excluded = "team member" if p.team else "bot" if p.bot else None
            reason = f"{excluded}: not scored" if excluded else "nothing from them toward us yet"
            return PersonScores(story, scored_at, None, reason)
        acts = _inbound(session, story.ref.id)
    consent = Consent.of(story.ref.identities, story.opt_outs)  # read live, not stored
    scores = _scores(score, acts, scored_at, state.summary_json(), settings, consent)
    return PersonScores(story, scored_at, scores)


def _scores(
    score: PersonScore, acts: pa.Table, scored_at: datetime, summary: dict[str, Any],
    settings: MeasureSettings, consent: Consent,
) -> Scores:  # fmt: skip
    """The view of a person's stored scores, with the warmth's parts and every reason; the
    ask rule with their opt-outs applied (`ledger.with_opt_outs`)."""
    s = {c.name: getattr(score, c.name) for c in PersonScore.__table__.columns}
    s["ask_rule"] = with_opt_outs(s["ask_rule"], channels_left=len(consent.channels))
    ledger = explain.ledger_sentence(s, settings, scored_at)
    if s["ask_rule"] is None and consent.opted_out:  # "...; opted out of email: ask on x"
        ledger += f"; {consent.note(consent.channels[0], 'ask')}"
    parts = warmth_parts(acts, scored_at, settings).to_pylist()
    why = Reasons(
        warmth=explain.warmth_sentence(
            score.warmth, score.multiplexity, score.channels, parts, scored_at
        ),
        rhythm=explain.rhythm_sentence(s, summary["network_cadence_days"]),
        circle=explain.circle_sentence(s, summary, settings),
        stage=explain.stage_sentence(s),
        ledger=ledger,
        tenure=explain.tenure_sentence(s),
    )  # fmt: skip
    return Scores(
        circle=score.circle, status=score.status, stage=score.stage,
        tenure_days=score.tenure_days,
        presence=(score.presence_30, score.presence_90, score.presence_365),
        cadence_days=score.cadence_days, silence_days=score.silence_days,
        warmth=score.warmth, multiplexity=score.multiplexity, channels=score.channels,
        parts=tuple(
            WarmthPart(activity_id=x["activity_id"], verb=x["verb"], channel=x["channel"],
                       occurred_at=from_micros(x["occurred_at"]), weight=x["weight"],
                       decay=x["decay"], contribution=x["contribution"])
            for x in parts
        ),
        given=score.given, asked=score.asked, balance=score.balance,
        balance_decayed=score.balance_decayed, ask_ready=s["ask_rule"] is None,
        ask_rule=s["ask_rule"], circle_since=as_time(score.circle_since),
        pending_circle=score.pending_circle, pending_since=as_time(score.pending_since), why=why,
    )  # fmt: skip


def network_status(*, store: Store, now: datetime, settings: MeasureSettings) -> dict[str, Any]:
    """The organization's share ratio and its people per circle, rhythm status and stage."""
    state = ensure_scores(store=store, now=now, settings=settings)
    summary = state.summary_json()
    sr = summary["share_ratio"]
    share = ShareRatio(sr["days"], sr["gives"], sr["asks"], sr["target"])
    with store.sessions() as session:
        people = queries.people_count(session)
    return {
        "scored_at": iso(state.at),
        "people": people,
        "scored": sum(summary["circles"].values()),
        "share_ratio": {**share.as_json(), "why": explain.share_sentence(share)},
        "circles": summary["circles"],
        "statuses": summary["statuses"],
        "stages": summary["stages"],
        "ranked": summary["ranked"],
        "circle_cuts": summary["circle_cuts"],
        "network_cadence_days": summary["network_cadence_days"],
    }
