"""Finding people by a reference (an id, an identity, a bare number or a name), who they are
(`PersonRef`, the fields every person object carries in any JSON output), and their flags."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from karmabank.actions.organization import write_audit
from karmabank.errors import AmbiguousError, ConfigError, IdentityError, NotFoundError
from karmabank.identities import PLATFORMS, display_name, normalize_identity, parse_identity
from karmabank.model import Flag, IdentityKey
from karmabank.names import is_text, name_key
from karmabank.store import queries
from karmabank.store.open import Store
from karmabank.store.tables import Identity, Person, stored_id


@dataclass(frozen=True, slots=True)
class PersonRef:
    """Who a person is: their id, name and identities (`platform:key`, in the order added)."""

    id: int
    name: str | None
    identities: tuple[str, ...]

    @classmethod
    def of(cls, person: Person) -> PersonRef:
        identities = tuple(f"{i.platform}:{i.key}" for i in person.identities)
        return cls(person.id, person.name, identities)

    @property
    def shown(self) -> str:
        """What they are called: the name, else the best identity (`display_name`)."""
        return display_name(self.name, self.identities, self.id)

    def as_json(self) -> dict[str, Any]:
        """The fields every person object carries in any JSON output."""
        return {"id": self.id, "name": self.name, "identities": list(self.identities)}


def flags_set(person: Person) -> list[str]:
    """The names of the flags a person carries, in the vocabulary's order."""
    return [f.value for f in Flag if getattr(person, f.value)]


def person_ref_json(person: Person) -> dict[str, Any]:
    """`PersonRef.as_json` of a person read through the ORM."""
    return PersonRef.of(person).as_json()


def person_refs(store: Store, ids: list[int]) -> dict[int, dict[str, Any]]:
    """`person_ref_json` of many people at once: two set-wise queries per 20,000 people, no ORM
    objects (a plan can leave out hundreds of thousands of people)."""
    with store.sessions() as session:
        names = queries.names(session, ids)
        identities = queries.identities(session, names)
    return {
        pid: PersonRef(pid, name, tuple(identities.get(pid, ()))).as_json()
        for pid, name in names.items()
    }


ID_PREFIX = "id:"  # `id:42`: the person with the database id 42 (what listings show)


def is_database_id(ref: str) -> bool:
    """`id:N`: a database id, not an identity."""
    return ref.strip()[: len(ID_PREFIX)].lower() == ID_PREFIX


def looks_like_identity(ref: str) -> bool:
    return (":" in ref or "@" in ref) and not is_database_id(ref)


@dataclass(frozen=True)
class Found:
    """The person a reference names, and a note when it could have meant someone else (a bare
    number that is both an identity's key and another person's database id)."""

    person: Person
    note: str | None = None


def find_person(session: Session, ref: str) -> Person:
    """A person by database id (`id:42`), identity (`platform:key`, a bare email...), a bare
    number (an identity's key first, e.g. node 42 of an edge list, else the database id) or
    unique name."""
    return resolve_person(session, ref).person


def resolve_person(session: Session, ref: str) -> Found:
    """`find_person`, with the note that says which of two people a bare number meant."""
    r = ref.strip()
    if not r:
        raise NotFoundError("empty person reference")
    if not is_text(r):
        raise ConfigError(f"{r!r} is not valid Unicode text")
    if is_database_id(r):
        digits = r[len(ID_PREFIX) :].strip()
        if not (digits.isascii() and digits.isdigit()):
            raise ConfigError(f"person {r!r}: id: takes a database id, a number (e.g. id:42)")
        p = _by_id(session, digits)
        if p is None:
            raise NotFoundError(f"no person with id {digits}")
        return Found(p)
    if r.isascii() and r.isdigit():
        return _by_number(session, r)
    if looks_like_identity(r):
        key = _identity_or_error(r)
        p = person_by_identity(session, key)
        if p is None:
            raise NotFoundError(f"no person with the identity {key}")
        return Found(p)
    matches = list(
        session.scalars(
            select(Person).where(Person.name_key == name_key(r)).order_by(Person.id).limit(6)
        )
    )
    if not matches:
        raise NotFoundError(
            f"no person named {r!r} (use an identity platform:key, a database id id:N or the "
            "exact name)"
        )
    if len(matches) > 1:
        ids = ", ".join(f"{ID_PREFIX}{m.id}" for m in matches[:5])
        raise AmbiguousError(f"{r!r} names more than one person: use an id ({ids}) or an identity")
    return Found(matches[0])


def _by_id(session: Session, digits: str) -> Person | None:
    pid = stored_id(digits)
    return session.get(Person, pid) if pid is not None else None


def _by_number(session: Session, r: str) -> Found:
    """A bare number: the identity with that key on any platform (edge lists' node ids live
    under `other`), else the person with that database id."""
    keys = []
    for platform in sorted(PLATFORMS):
        try:
            keys.append(normalize_identity(platform, r))
        except IdentityError:
            continue
    owners = session.execute(
        select(Identity.person_id, Identity.platform, Identity.key)
        .where(or_(*(and_(Identity.platform == k.platform, Identity.key == k.key) for k in keys)))
        .order_by(Identity.person_id)
    ).all()
    by_id = _by_id(session, r)
    people = sorted({pid for pid, _, _ in owners})
    if len(people) > 1:
        shown = ", ".join(f"{platform}:{key}" for _, platform, key in owners[:5])
        also = f", or {ID_PREFIX}{r} for the person with that database id" if by_id else ""
        raise AmbiguousError(
            f"{r} is an identity of more than one person ({shown}): write the one you mean{also}"
        )
    if people:
        p = session.get(Person, people[0])
        assert p is not None
        _, platform, key = owners[0]
        note = None
        if by_id is not None and by_id.id != p.id:
            note = (
                f"{r} is taken as the identity {platform}:{key} ({_who(p)}); the person with "
                f"the database id {r} is {_who(by_id)}: write {ID_PREFIX}{r} for them"
            )
        return Found(p, note)
    if by_id is not None:
        return Found(by_id)
    raise NotFoundError(f"no person with id {r}")  # nor an identity with that key


def _who(p: Person) -> str:
    return f"{p.name}, {ID_PREFIX}{p.id}" if p.name else f"{ID_PREFIX}{p.id}"


def _identity_or_error(text: str) -> IdentityKey:
    try:
        return parse_identity(text)
    except IdentityError as e:
        raise ConfigError(str(e)) from None


def person_by_identity(session: Session, key: IdentityKey) -> Person | None:
    return session.scalar(
        select(Person)
        .join(Identity, Identity.person_id == Person.id)
        .where(Identity.platform == key.platform, Identity.key == key.key)
    )


def as_time(value: Any) -> datetime | None:
    """A stored time (a datetime, or UTC microseconds) as an aware datetime."""
    from karmabank.model import from_micros

    if value is None or isinstance(value, datetime):
        return value
    return from_micros(int(value))


def iso(dt: datetime | None) -> str | None:
    """ISO-8601 with a Z, as every JSON output shows times."""
    return None if dt is None else dt.isoformat().replace("+00:00", "Z")


def set_flag(
    *, store: Store, ref: str, flag: Flag, on: bool, now: datetime, actor: str
) -> PersonRef:
    """Set or clear a flag, audited, in one transaction; a person's flag is never changed by
    an import. The person flagged."""
    with store.sessions.begin() as session:
        p = find_person(session, ref)
        setattr(p, flag.value, on)
        write_audit(
            session, now=now, actor=actor, action="flag", subject=f"person:{p.id}",
            details={"flag": flag.value, "on": on},
        )  # fmt: skip
        return PersonRef.of(p)
