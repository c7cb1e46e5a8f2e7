"""Identities seen with several people's names (issue 15 item 6, `merge shared`) on SQLite and
PostgreSQL: an import keeps the distinct names per identity (bounded), one name written
differently is one name, and the listing names the identity, its person and the names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from karmabank.actions.importing import import_files
from karmabank.actions.merging import merge_people, unmerge
from karmabank.actions.shared_identities import shared_identities
from karmabank.store.identity_names import MAX_NAMES_PER_IDENTITY
from karmabank.store.open import Store
from tests.cli_helpers import run
from tests.conftest import NOW

ROWS = (
    ("family@example.org", "Jane Doe"),
    ("family@example.org", "John Doe"),
    ("family@example.org", "jane  DOE"),  # the same name, written differently
    ("family@example.org", "Fred Bloggs"),
    ("family@example.org", "J. Doe"),  # an initial: Jane's or John's, not a third person
    ("ada@example.org", "Ada Lovelace"),
    ("ada@example.org", "Ada L."),
    ("ada@example.org", "Ada Lovelace"),
    ("github:ada", "Ada King"),
)


def _import(store: Store, path: Path, rows: tuple[tuple[str, str], ...], batch_size: int) -> None:
    lines = ["occurred_at,person,name,verb,direction"]
    lines += [f"2026-05-0{1 + i % 9}T10:00:0{i % 10}Z,{p},{n},comment,in"
              for i, (p, n) in enumerate(rows)]  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    import_files(store=store, fmt="csv", paths=[path], options={}, now=NOW, batch_size=batch_size)


@pytest.mark.parametrize("batch_size", [2, 50_000])
def test_an_identity_signed_by_several_people_is_listed(
    store: Store, tmp_path: Path, batch_size: int
) -> None:
    _import(store, tmp_path / "a.csv", ROWS, batch_size)
    [found] = shared_identities(store=store)
    assert found.identity == "email:family@example.org"
    assert found.names == ("Fred Bloggs", "Jane Doe", "John Doe")
    assert found.person.name == "J. Doe"  # the person keeps the last name seen
    with store.engine.connect() as conn:
        kept = conn.execute(text("SELECT count(*) FROM identity_name")).scalar()
    assert kept == 7  # family: 4 name keys (jane doe once); ada: 2; github:ada: 1
    _import(store, tmp_path / "a.csv", ROWS, batch_size)  # a re-run keeps nothing twice
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM identity_name")).scalar() == kept


def test_names_are_bounded_and_follow_their_identity_through_merges(
    store: Store, tmp_path: Path
) -> None:
    many = tuple(("crowd@example.org", f"Person{i} Surname{i}") for i in range(12))
    _import(store, tmp_path / "b.csv", (*many, ("github:crowd", "Ann Other")), 50_000)
    [found] = shared_identities(store=store)
    assert len(found.names) == MAX_NAMES_PER_IDENTITY
    m = merge_people(store=store, a="crowd@example.org", b="github:crowd", now=NOW,
                     decided_by="cli")  # fmt: skip
    [merged] = shared_identities(store=store)
    assert merged.identity == "email:crowd@example.org" and merged.person.id == m.kept["id"]
    unmerge(store=store, merge_id=m.id, now=NOW, decided_by="cli")
    assert shared_identities(store=store)[0].person.id == 1


def test_cli(store: Store, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "merge", "shared", "--db", db_url).out.strip() == (
        "no identity seen with several people's names"
    )
    _import(store, tmp_path / "c.csv", ROWS, 50_000)
    out = run(capsys, "merge", "shared", "--db", db_url)
    assert out.code == 0 and out.out.strip() == (
        "email:family@example.org of J. Doe (id:2): Fred Bloggs, Jane Doe, John Doe"
    )
    [item] = json.loads(run(capsys, "merge", "shared", "--json", "--db", db_url).out)
    assert item == {
        "identity": "email:family@example.org",
        "person": {"id": 2, "name": "J. Doe", "identities": ["email:family@example.org"]},
        "names": ["Fred Bloggs", "Jane Doe", "John Doe"],
    }
    bad = run(capsys, "merge", "shared", "--limit", "0", "--db", db_url)
    assert bad.code == 1 and bad.err.count("\n") == 1
