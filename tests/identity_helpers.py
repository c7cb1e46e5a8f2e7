"""The seeded identity world written into a store, for the tests of `merge suggestions`."""

from __future__ import annotations

from karmabank.demo_network.identity_world import generate
from karmabank.store.open import Store
from karmabank.store.tables import Identity, Organization, Person
from tests.conftest import NOW


def store_identity_world(store: Store, *, seed: int = 21, personas: int = 150) -> Store:
    """The seeded identity world's persons (a small one), written through the ORM."""
    with store.sessions.begin() as s:
        s.add(Organization(id=1, name="Org", created_at=NOW))
        for p in generate(seed=seed, personas=personas).persons:
            s.add(Person(id=p.id, name=p.name, bot=p.bot, team=p.team, created_at=NOW))
            for platform, key in p.identities:
                s.add(Identity(person_id=p.id, platform=platform, key=key))
    return store
