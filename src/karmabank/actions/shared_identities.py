"""Identities that may be several people (issue 15 item 6): `karmabank merge shared`.

An import keeps the distinct names each identity was seen with (`store/identity_names.py`). An
identity signed by names that are not one name written differently, such as a family's shared
mailbox with comments signed "Jane Doe", "John Doe" and "Fred Bloggs", is listed for a person to
review: its person may be several people. Nothing is changed; erased persons are left out.

Two names are one person's when each part agrees or is missing: the first names the same once
folded and nicknames resolved (`Bob`/`Robert`) or one is the other's initial, the surnames the
same or one the other's initial (`Ada L.`). The most complete names are taken first, so
`J. Doe` beside "Jane Doe" and "John Doe" is neither a third person nor what joins them: the
outcome does not depend on the order the names were seen in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from karmabank.actions.people import PersonRef
from karmabank.measures.identity.names import NameParts
from karmabank.store.identity_names import IdentityName
from karmabank.store.open import Store
from karmabank.store.tables import Identity, Person


@dataclass(frozen=True, slots=True)
class SharedIdentity:
    """One identity seen with names of several people, and the person who holds it."""

    identity: str
    person: PersonRef
    names: tuple[str, ...]  # the distinct names (one written form each, the first seen)

    def as_json(self) -> dict[str, Any]:
        return {"identity": self.identity, "person": self.person.as_json(),
                "names": list(self.names)}  # fmt: skip


def shared_identities(*, store: Store, limit: int | None = None) -> list[SharedIdentity]:
    """The identities seen with several people's names, most names first (then by identity),
    at most `limit`."""
    with store.sessions() as session:
        several = (
            select(IdentityName.identity_id)
            .group_by(IdentityName.identity_id)
            .having(func.count() > 1)
            .subquery()
        )
        rows = session.execute(
            select(Identity.id, Identity.platform, Identity.key, Identity.person_id,
                   IdentityName.name)
            .join(several, several.c.identity_id == Identity.id)
            .join(IdentityName, IdentityName.identity_id == Identity.id)
            .join(Person, Person.id == Identity.person_id)
            .where(Person.erased.is_(False))
            .order_by(Identity.id, IdentityName.name_key)
        ).all()  # fmt: skip
        names: dict[int, list[str]] = {}
        held: dict[int, tuple[str, int]] = {}
        for iid, platform, key, pid, name in rows:
            names.setdefault(iid, []).append(name)
            held[iid] = (f"{platform}:{key}", pid)
        people_names = ((iid, distinct_people(seen)) for iid, seen in names.items())
        found = sorted(((iid, d) for iid, d in people_names if len(d) > 1),
                       key=lambda f: (-len(f[1]), held[f[0]][0]))  # fmt: skip
        found = found[:limit] if limit is not None else found
        people = {
            p.id: PersonRef.of(p)
            for p in session.scalars(
                select(Person).where(Person.id.in_({held[iid][1] for iid, _ in found}))
            )
        }
        return [
            SharedIdentity(held[iid][0], people[held[iid][1]], tuple(distinct))
            for iid, distinct in found
        ]


def distinct_people(names: list[str]) -> list[str]:
    """The names that are not one person's name written differently: one written form each,
    the most complete first taken (then alphabetical), in alphabetical order."""
    parts = [(n, NameParts(n)) for n in names]
    ranked = sorted(parts, key=lambda p: (-_completeness(p[1]), p[0].casefold(), p[0]))
    kept: list[tuple[str, NameParts]] = []
    for name, part in ranked:
        if part.first is None:
            continue
        if not any(_one_name(part, other) for _, other in kept):
            kept.append((name, part))
    return sorted((n for n, _ in kept), key=lambda n: (n.casefold(), n))


def _completeness(p: NameParts) -> int:
    return (len(p.given or "") > 1) * 2 + (len(p.last or "") > 1) * 2 + (p.last is not None)


def _one_name(x: NameParts, y: NameParts) -> bool:
    return _agree(x.first, y.first, x.initial, y.initial) and _agree(
        x.last, y.last, (x.last or "")[:1] or None, (y.last or "")[:1] or None
    )


def _agree(a: str | None, b: str | None, a0: str | None, b0: str | None) -> bool:
    """Two parts of names agree: the same, one missing, or one an initial of the other."""
    if a is None or b is None or a == b:
        return True
    return (len(a) == 1 or len(b) == 1) and a0 == b0
