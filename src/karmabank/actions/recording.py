"""Recording one activity by hand: something a person did, or something we gave or asked."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from karmabank.actions.organization import ensure_organization, write_audit
from karmabank.actions.people import find_person, iso, looks_like_identity, person_by_identity
from karmabank.bounds import check_instant, check_weight
from karmabank.errors import ConfigError, ContactRefused, IdentityError, OptionError, OutOfRange
from karmabank.identities import parse_identity
from karmabank.model import VERBS, Direction, check_channel, check_verb
from karmabank.store.open import Store
from karmabank.store.tables import Activity, Identity, Person

RECORDABLE = (Direction.IN, Direction.GIVE, Direction.ASK)


@dataclass(frozen=True, slots=True)
class ActivityView:
    """One stored activity, as `record` prints it and the API returns it (`as_json`)."""

    id: int
    person_id: int
    direction: str
    verb: str
    channel: str
    occurred_at: datetime
    object: str | None
    text: str | None
    weight: float | None

    @classmethod
    def of(cls, act: Activity) -> ActivityView:
        return cls(
            id=act.id, person_id=act.person_id, direction=act.direction, verb=act.verb,
            channel=act.channel, occurred_at=act.occurred_at, object=act.object, text=act.text,
            weight=act.weight,
        )  # fmt: skip

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "person_id": self.person_id, "direction": self.direction,
            "verb": self.verb, "channel": self.channel, "occurred_at": iso(self.occurred_at),
            "object": self.object, "text": self.text, "weight": self.weight,
        }  # fmt: skip


def record_activity(
    *,
    store: Store,
    direction: Direction,
    ref: str,
    verb: str,
    at: datetime,
    now: datetime,
    channel: str | None = None,
    text: str | None = None,
    object_: str | None = None,
    weight: float | None = None,
    name: str | None = None,
    actor: str = "cli",
) -> ActivityView:
    """Record one activity, audited, in one transaction. A new identity creates its person
    (with `name`)."""
    with store.sessions.begin() as session:
        return ActivityView.of(record_in(
            session, direction=direction, ref=ref, verb=verb, at=at, now=now, channel=channel,
            text=text, object_=object_, weight=weight, name=name, actor=actor,
        ))  # fmt: skip


def record_in(
    session: Session,
    *,
    direction: Direction,
    ref: str,
    verb: str,
    at: datetime,
    now: datetime,
    channel: str | None = None,
    text: str | None = None,
    object_: str | None = None,
    weight: float | None = None,
    name: str | None = None,
    actor: str = "cli",
) -> Activity:
    """`record_activity` inside the caller's transaction (`nurture done` records its give and
    closes its item in one), which commits or rolls back both."""
    if direction not in RECORDABLE:
        raise ConfigError("record takes in, give or ask (peer activities come from imports)")
    v, where = _vocabulary(verb, channel)
    for option, check in (
        ("at", lambda: check_instant(at, at.isoformat(), "at")),
        ("weight", lambda: weight is None or check_weight(weight, repr(weight), "weight")),
    ):
        try:
            check()
        except OutOfRange as e:
            raise OptionError(option, str(e).removeprefix(f"{option} ")) from None
    if at > now:
        raise OptionError("at", f"{at.isoformat()} is in the future")
    ensure_organization(session, now=now)
    person = _find_or_create(session, ref, name, now)
    if direction is not Direction.IN and (person.do_not_contact or person.erased):
        why = "was erased" if person.erased else "asked not to be contacted (do_not_contact)"
        raise ContactRefused(f"{person.name or person.id} {why}: nothing recorded")
    platform = person.identities[0].platform if person.identities else "other"
    act = Activity(
        source_key=f"manual:{uuid.uuid4().hex}",
        occurred_at=at,
        person_id=person.id,
        verb=v,
        direction=direction.value,
        channel=where or platform,
        object=object_,
        text=text,
        weight=weight,
    )
    session.add(act)
    session.flush()
    write_audit(
        session, now=now, actor=actor, action="record", subject=f"person:{person.id}",
        details={"activity_id": act.id, "direction": direction.value, "verb": v},
    )  # fmt: skip
    return act


def _vocabulary(verb: str, channel: str | None) -> tuple[str, str | None]:
    """The verb and channel checked against the vocabulary (`model.check_verb`,
    `check_channel`; no channel: the person's platform); an unknown verb is refused with the
    verbs there are."""
    try:
        v = check_verb(verb)
    except ValueError as e:
        raise ConfigError(f"{e}; verbs: {', '.join(sorted(VERBS))}") from None
    try:
        return v, check_channel(channel) if channel and channel.strip() else None
    except ValueError as e:
        raise ConfigError(str(e)) from None


def _find_or_create(session: Session, ref: str, name: str | None, now: datetime) -> Person:
    if looks_like_identity(ref) and not ref.strip().isdigit():
        try:
            key = parse_identity(ref)
        except IdentityError as e:
            raise ConfigError(str(e)) from None
        p = person_by_identity(session, key)
        if p is not None:
            return p
        p = Person(name=name, name_manual=name is not None, created_at=now)
        p.identities.append(Identity(platform=key.platform, key=key.key))
        session.add(p)
        session.flush()
        return p
    return find_person(session, ref)
