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


def _handle(platform: str, key: str) -> str | None:
    if platform in ("github", "x"):
        return key
    if platform == "email":
        return key.split("@")[0]
    if platform == "mastodon":
        return key.split("@")[1]
    if platform == "bluesky" and key.endswith(".bsky.social"):
        return key.removesuffix(".bsky.social")
    return None


def test_per_platform_world_hands_out_handles_per_namespace() -> None:
    """`per_platform=True`: a key is taken once per platform (and Mastodon instance, mail
    domain), so strangers hold one handle on two platforms; the default world hands each
    handle out once (but for short `first+digits` ones)."""

    def stranger_handles(**kwargs: bool) -> tuple[int, int]:
        world = generate(seed=7, personas=1500, **kwargs)
        keys = [(a.platform, a.key) for a in world.accounts]
        if kwargs:  # taken once in its namespace: one account per identity
            assert len(keys) == len(set(keys))
        owners: dict[str, set[int]] = {}
        for a in world.accounts:
            if (h := _handle(a.platform, a.key)) is not None and not a.bot:
                owners.setdefault(h, set()).add(a.persona)
        return sum(len(p) > 1 for p in owners.values()), len(owners)

    once, _ = stranger_handles()
    shared, handles = stranger_handles(per_platform=True)
    assert 2 * once < shared < handles // 5
