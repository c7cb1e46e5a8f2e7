"""The seeded cross-platform world: one seed, one world; it holds what issue 15 asks for."""

from __future__ import annotations

import hashlib
import json

from karmabank.demo_network.identity_world import generate
from karmabank.identities import normalize_identity


def _digest(seed: int) -> str:
    world = generate(seed=seed, personas=300)
    return hashlib.sha256(json.dumps(world.rows(), sort_keys=True).encode()).hexdigest()


def test_same_seed_same_world() -> None:
    assert _digest(3) == _digest(3)
    assert _digest(3) != _digest(4)


def test_world_has_what_matching_must_face() -> None:
    world = generate(seed=5, personas=800)
    names = [p.name or "" for p in world.persons]
    platforms = {ident[0] for p in world.persons for ident in p.identities}
    assert {"email", "mastodon", "github", "bluesky", "x", "web"} <= platforms
    assert any(n.startswith(("Bob ", "Liz ", "Pepe ")) for n in names)  # nicknames
    assert any(". " in n for n in names)  # initials
    assert any(not n.isascii() for n in names)  # diacritics
    assert any(p.name is None for p in world.persons)  # handle-only accounts
    assert any(len(p.identities) > 1 for p in world.persons)  # profile links joined
    assert any(p.bot for p in world.persons) and any(p.team for p in world.persons)
    assert world.shared_mailboxes()
    by_name: dict[str, set[int]] = {}
    for p in world.persons:
        if p.name and " " in p.name:
            by_name.setdefault(p.name, set()).add(p.persona)
    assert any(len(personas) > 1 for personas in by_name.values())  # strangers, one name
    truth = world.true_pairs()
    assert truth and all(a < b for a, b in truth)
    assert 0 < world.linked_share() < 0.5


def test_identities_are_normalized() -> None:
    for p in generate(seed=6, personas=200).persons:
        for platform, key in p.identities:
            assert normalize_identity(platform, key).key == key
