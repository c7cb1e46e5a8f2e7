"""`karmabank erase PERSON [--yes]` through the real CLI on SQLite and PostgreSQL: it asks at a
terminal (no answer, nothing erased), refuses a non-terminal without --yes, an unknown person
is exit 1 with one line, and a re-import of the same file reads `skipped 1: erased`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tests.cli_helpers import run

CSV = (
    "occurred_at,person,name,verb,direction,target,text\n"
    "2026-05-01T10:00:00Z,ada@example.org,Ada Lovelace,comment,in,,Rivers need friends\n"
    "2026-05-02T10:00:00Z,bob@example.org,Bob Stone,comment,in,,Ada Lovelace is right\n"
)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def loaded(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, Path]:
    f = tmp_path / "a.csv"
    f.write_text(CSV)
    assert run(capsys, "import", "csv", str(f), "--db", db_url).code == 0
    return db_url, f


def _names(capsys: pytest.CaptureFixture[str], db: str) -> list[str]:
    return sorted(p["name"] for p in json.loads(run(capsys, "people", "--db", db, "--json").out))


def test_erase_asks_first_and_refuses_without_a_terminal(
    loaded: tuple[str, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _ = loaded
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    r = run(capsys, "erase", "ada@example.org", "--db", db)
    assert r.code == 1 and r.out == ""
    assert r.err == "error: erase asks for confirmation at a terminal: pass --yes to erase\n"
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    r = run(capsys, "erase", "ada@example.org", "--db", db)
    assert r.code == 1 and r.err.endswith("error: not erased (answer y to erase)\n")
    assert "Erase Ada Lovelace (id:1): 1 identity, 1 activity and every mention" in r.err
    assert _names(capsys, db) == ["Ada Lovelace", "Bob Stone"]
    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    r = run(capsys, "erase", "ada@example.org", "--db", db)
    assert r.code == 0, r.err
    assert _names(capsys, db) == ["Bob Stone"]


def test_erase_yes_then_a_reimport_says_erased(
    loaded: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    db, f = loaded
    r = run(capsys, "erase", "Ada Lovelace", "--yes", "--db", db)
    assert r.code == 0, r.err
    assert r.out.splitlines() == [
        "Erased Ada Lovelace (id:1): 1 identity, 1 activity, 1 mention elsewhere",
        "1 tombstone keeps them from coming back",
        "scores recomputed",
    ]
    r = run(capsys, "import", "csv", str(f), "--db", db)
    assert r.code == 0, r.err
    assert r.out.splitlines()[1:] == ["  skipped 1: erased"]
    assert r.out.startswith("imported 0 activities; 1 already there; 1 skipped; 0 quarantined")
    person = json.loads(run(capsys, "person", "bob@example.org", "--db", db, "--json").out)
    assert [a["text"] for a in person["timeline"]] == ["[erased] is right"]
    again = run(capsys, "erase", "ada@example.org", "--yes", "--db", db)
    assert (again.code, again.out) == (1, "")
    assert again.err == "error: no person with the identity email:ada@example.org\n"


def test_erasing_an_unknown_person_is_exit_1(
    loaded: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    db, _ = loaded
    for ref in ("nobody@example.org", "id:99", "Nobody At All"):
        r = run(capsys, "erase", ref, "--yes", "--db", db)
        assert r.code == 1 and r.out == "" and len(r.err.splitlines()) == 1, (ref, r.err)
        assert r.err.startswith("error: no person"), r.err
    assert _names(capsys, db) == ["Ada Lovelace", "Bob Stone"]
