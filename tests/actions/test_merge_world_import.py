"""The seeded cross-platform world (`demo_network.identity_world`) imported as a CSV with its
profile links in `also` and its shared mailboxes signed by several names, on SQLite and
PostgreSQL: what the import joins plus the suggestions the rows state are exactly the world's
persons (accounts joined by their links), no suggestion joins two of them, and `merge shared`
lists exactly the world's shared mailboxes."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import text

from karmabank.actions.importing import import_files
from karmabank.actions.shared_identities import shared_identities
from karmabank.demo_network.identity_world import generate
from karmabank.store.open import Store
from tests.conftest import NOW


def test_the_world_imported_with_its_links_and_signatures(store: Store, tmp_path: Path) -> None:
    world = generate(seed=3, personas=400)
    path = tmp_path / "world.csv"
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["occurred_at", "person", "name", "verb", "direction", "also"])
        for i, a in enumerate(world.accounts):
            for j, name in enumerate(a.names or (a.name,)):
                out.writerow([f"2026-05-01T10:{i % 60:02d}:{j:02d}Z", f"{a.platform}:{a.key}",
                              name or "", "comment", "in", " ".join(a.also)])  # fmt: skip
    report = import_files(store=store, fmt="csv", paths=[path], options={}, now=NOW)
    assert report.quarantined == 0
    with store.engine.connect() as conn:
        held = conn.execute(text("SELECT person_id, platform, key FROM identity")).all()
        pairs = conn.execute(
            text("SELECT person_a, person_b, action, source FROM merge_suggestion")
        ).all()
    person_of = {(platform, key): pid for pid, platform, key in held}
    truth = {ident: p.id for p in world.persons for ident in p.identities}
    assert person_of.keys() == truth.keys()
    parent = {pid: pid for pid in person_of.values()}

    def find(p: int) -> int:
        while parent[p] != p:
            p = parent[p]
        return p

    world_of = {person_of[ident]: truth[ident] for ident in person_of}  # one world person each
    for a, b, action, source in pairs:
        assert action == "review" and source is not None
        assert world_of[a] == world_of[b]  # a suggestion never joins two of the world's persons
        parent[find(a)] = find(b)
    groups: dict[int, set[tuple[str, str]]] = {}
    for ident, pid in person_of.items():
        groups.setdefault(find(pid), set()).add(ident)
    assert sorted(map(sorted, groups.values())) == sorted(
        sorted(p.identities) for p in world.persons
    )
    assert len(pairs) > 0 and len(set(person_of.values())) > len(world.persons)  # some stated late
    shared = {s.identity for s in shared_identities(store=store)}
    expected = {f"{platform}:{key}" for p in world.persons if p.shared
                for platform, key in p.identities}  # fmt: skip
    assert shared == expected and len(expected) >= 4
