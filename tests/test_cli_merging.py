"""`karmabank merge A B`, `merge list`, `merge never`, `unmerge` through the real CLI on SQLite
and PostgreSQL: the group takes two persons directly, refusals are one line with exit 1 and
change nothing."""

from __future__ import annotations

import json

import pytest

from karmabank.store.open import open_store
from tests.actions.merge_world import dump
from tests.cli_helpers import Result, run
from tests.conftest import NOW

AT = NOW.isoformat()


def _one_line_error(r: Result, starts: str) -> None:
    assert r.code == 1 and r.err.startswith(f"error: {starts}") and r.err.count("\n") == 1, r.err


@pytest.fixture
def people(db_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    for ref, name in (("email:ada@example.org", "Ada"), ("github:ada", "Ada L."),
                      ("x:bot", "A bot")):  # fmt: skip
        r = run(capsys, "record", "in", ref, "comment", "--name", name, "--at", AT, "--now", AT,
                "--db", db_url)  # fmt: skip
        assert r.code == 0, r.err
    assert run(capsys, "flag", "x:bot", "bot", "--db", db_url).code == 0
    return db_url


def test_merge_help_shows_the_pair_form_and_the_subcommands(
    capsys: pytest.CaptureFixture[str],
) -> None:
    r = run(capsys, "merge", "--help")
    assert r.code == 0 and "karmabank merge A B [--why TEXT]" in r.out
    for command in ("pair", "list", "never"):
        assert f"  {command} " in r.out, r.out
    pair = run(capsys, "merge", "someone", "--help")
    assert pair.code == 0 and "Usage: karmabank merge pair [OPTIONS] {PERSON} {PERSON}" in pair.out
    assert "--why" in pair.out
    assert run(capsys, "unmerge", "--help").out.startswith("Usage: karmabank unmerge")


def test_merge_list_and_unmerge(people: str, capsys: pytest.CaptureFixture[str]) -> None:
    db = people
    with open_store(db) as store:
        before = dump(store)
    r = run(capsys, "merge", "ada@example.org", "github:ada", "--why", "same Ada", "--db", db,
            "--now", AT)  # fmt: skip
    assert r.code == 0, r.err
    assert (
        r.out.strip() == "merge 1: Ada (id:1) merged into Ada L. (id:2) (undo: karmabank unmerge 1)"
    )
    listed = run(capsys, "merge", "list", "--json", "--db", db)
    [m] = json.loads(listed.out)
    assert m["persons"]["absorbed"] == {"id": 1, "name": "Ada",
                                        "identities": ["email:ada@example.org"]}  # fmt: skip
    assert (m["decided_by"], m["why"], m["undone_at"]) == ("cli", "same Ada", None)
    assert (m["confidence"], m["evidence"]) == (None, {})  # no suggestion lent its word
    text = run(capsys, "merge", "list", "--db", db)
    assert (
        text.out.startswith("1  ") and "Ada (id:1) into Ada L. (id:2) by cli: same Ada" in text.out
    )
    _one_line_error(run(capsys, "unmerge", "7", "--db", db), "no merge with id '7'")
    undone = run(capsys, "unmerge", "1", "--db", db, "--now", AT)
    assert (
        undone.code == 0 and undone.out.strip() == "unmerged 1: Ada L. (id:2) and Ada (id:1) again"
    )
    _one_line_error(run(capsys, "unmerge", "1", "--db", db), "merge 1 was already undone")
    with open_store(db) as store:
        assert dump(store) == before


def test_refusals_are_one_line_and_change_nothing(
    people: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = people
    with open_store(db) as store:
        before = dump(store)
    _one_line_error(run(capsys, "merge", "id:1", "x:bot", "--db", db), "A bot (id:3) is a bot")
    _one_line_error(run(capsys, "merge", "id:1", "Ada", "--db", db), "Ada (id:1) and Ada (id:1)")
    _one_line_error(run(capsys, "merge", "id:1", "id:9", "--db", db), "no person with id 9")
    with open_store(db) as store:
        assert dump(store) == before
    never = run(capsys, "merge", "never", "id:1", "id:2", "--why", "siblings", "--db", db)
    assert never.code == 0 and never.out.strip() == "never merged: Ada (id:1) and Ada L. (id:2)"
    _one_line_error(run(capsys, "merge", "id:2", "id:1", "--db", db), "Ada L. (id:2) and Ada")
    assert json.loads(run(capsys, "merge", "list", "--json", "--db", db).out) == []


def test_more_refusals_are_one_line_and_change_nothing(
    people: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = people
    r = run(capsys, "record", "in", "email:tess@org.example", "comment", "--name", "Tess",
            "--at", AT, "--now", AT, "--db", db)  # fmt: skip
    assert r.code == 0, r.err
    assert run(capsys, "flag", "email:tess@org.example", "team", "--db", db).code == 0
    with open_store(db) as store:
        before = dump(store)
    _one_line_error(run(capsys, "merge", "id:1", "email:tess@org.example", "--db", db),
                    "Tess (id:4) is a team member and Ada (id:1) is not")  # fmt: skip
    _one_line_error(run(capsys, "merge", "nobody@example.org", "id:1", "--db", db),
                    "no person with the identity")  # fmt: skip
    _one_line_error(run(capsys, "merge", "never", "id:1", "Ada", "--db", db), "'id:1' and 'Ada'")
    _one_line_error(run(capsys, "merge", "never", "id:1", "id:42", "--db", db), "no person")
    _one_line_error(run(capsys, "unmerge", "x", "--db", db), "no merge with id 'x'")
    _one_line_error(run(capsys, "merge", "auto", "--min-confidence", "-1", "--db", db), "")
    with open_store(db) as store:
        assert dump(store) == before
    auto = run(capsys, "merge", "auto", "--db", db)  # nothing suggested: nothing to do
    assert auto.code == 0 and auto.out.strip() == (
        "merged 0, skipped 0 of the open auto suggestions at confidence >= 0.99"
    )
    with open_store(db) as store:
        assert dump(store) == before
