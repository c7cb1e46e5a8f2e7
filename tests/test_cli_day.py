"""The CLI side of the dashboard for the day's work (issue 19), on SQLite and PostgreSQL:
people without a name shown by their best identity."""

from __future__ import annotations

import json

import pytest

from tests.cli_helpers import run

NOW = "2026-11-22T00:00:00Z"


def _nameless(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    for kind, ref, verb in (("in", "@ann@host.social", "comment"), ("in", "other:1054", "like")):
        r = run(capsys, "record", kind, ref, verb, "--db", db_url, "--now", NOW)
        assert r.code == 0, r.err


def test_people_without_a_name_are_shown_by_their_best_identity(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _nameless(db_url, capsys)
    listing = run(capsys, "people", "--db", db_url, "--now", NOW).out
    assert "@ann@host.social" in listing and "node 1054" in listing
    person = run(capsys, "person", "1054", "--db", db_url, "--now", NOW)
    assert person.out.startswith("node 1054  person "), person.out
    flagged = run(capsys, "flag", "other:1054", "bot", "--db", db_url)
    assert flagged.out.startswith("bot set for node 1054 ("), flagged.out
    shown = json.loads(run(capsys, "person", "1054", "--json", "--db", db_url, "--now", NOW).out)
    assert shown["name"] is None and shown["identities"] == ["other:1054"]  # JSON unchanged
