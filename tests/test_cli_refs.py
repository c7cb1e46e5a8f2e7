"""Hostile references and non-ASCII names through the real CLI, on SQLite and PostgreSQL: one
line on stderr, exit 1, no traceback; names found and kept unique in any case."""

from __future__ import annotations

import pytest

from tests.cli_helpers import Result, run


def _one_line_error(r: Result, starts: str) -> None:
    assert r.code == 1 and r.err.startswith(f"error: {starts}") and r.err.count("\n") == 1, r.err


def test_person_refs_that_name_nothing_are_one_line(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "record", "in", "email:emile@example.org", "comment", "--name",
               "Émile Zola", "--db", db_url).code == 0  # fmt: skip
    for ref in ("99999999999999999999", str(2**31), "1" * 5000):
        _one_line_error(run(capsys, "person", ref, "--db", db_url), f"no person with id {ref}")
    for ref in ("web:http://[::1", "http://[::1", "web:https://[::1]:99999"):
        _one_line_error(run(capsys, "person", ref, "--db", db_url), "not a URL")
        record = run(capsys, "record", "give", ref, "thank", "--db", db_url)
        _one_line_error(record, "not a URL")
    _one_line_error(run(capsys, "person", "²", "--db", db_url), "no person named '²'")
    # bytes that are not UTF-8 in an argument arrive as a lone surrogate
    _one_line_error(run(capsys, "person", "caf\udce9", "--db", db_url), "'caf\\udce9' is not")
    _one_line_error(run(capsys, "issue", "add", "caf\udce9", "-k", "x", "--db", db_url), "issue")
    found = run(capsys, "person", "ÉMILE zola", "--db", db_url)
    assert found.code == 0 and "Émile Zola" in found.out, found.err


def test_an_issue_named_twice_in_another_case_already_exists(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    first = run(capsys, "issue", "add", "Été propre", "-k", "river", "--db", db_url)
    assert first.code == 0, first.err
    for name in ("Été propre", "ÉTÉ PROPRE"):
        again = run(capsys, "issue", "add", name, "-k", "river", "--db", db_url)
        _one_line_error(again, f"an issue named '{name}' already exists (id 1)")


def test_an_argument_that_is_not_utf8_is_one_line_and_stores_nothing(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run(capsys, "record", "in", "email:a@example.org", "comment", "--text", "caf\udce9",
            "--db", db_url)  # fmt: skip
    _one_line_error(r, "not valid Unicode text: 'caf\\udce9'; nothing was stored")
    assert run(capsys, "person", "email:a@example.org", "--db", db_url).code == 1
