"""The CLI side of the dashboard for the day's work (issue 19), on SQLite and PostgreSQL:
people without a name shown by their best identity."""

from __future__ import annotations

import csv
import io
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


LONG = "Maximiliana Wolkenstein-Rodenegg von Trostburg"


def test_tables_export_as_csv_and_are_not_cut_in_a_pipe(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _nameless(db_url, capsys)
    for verb in ("comment", "share"):
        r = run(capsys, "record", "in", "email:max@example.org", verb, "--name", LONG,
                "--text", '=HYPERLINK("http://x") river cleanup', "--db", db_url,
                "--now", NOW)  # fmt: skip
        assert r.code == 0, r.err
    assert run(capsys, "issue", "add", "River", "-k", "river", "--db", db_url).code == 0
    people = run(capsys, "people", "--csv", "--db", db_url, "--now", NOW).out.splitlines()
    assert people[0] == "id,name,identities,circle,status,stage,warmth,balance,flags"
    assert any(line.split(",")[1] == "node 1054" for line in people[1:])
    assert any(LONG in line for line in people)
    found = run(capsys, "influencers", "--csv", "--db", db_url, "--now", NOW)
    rows = list(csv.reader(io.StringIO(found.out)))
    assert rows[0][:4] == ["rank", "id", "name", "identities"] and len(rows) == 4, found.out
    # a cell a spreadsheet would read as a formula (=, +, -, @...) is kept as text: '@ann...
    assert {r[2] for r in rows[1:]} == {LONG, "'@ann@host.social", "node 1054"}
    assert [r[7] for r in rows[1:] if r[2] == "node 1054"] == ["unknown"]
    piped = run(capsys, "influencers", "--db", db_url, "--now", NOW, width=80).out
    assert LONG in piped and "…" not in piped  # a pipe: the whole name, whatever the width
    assert run(capsys, "campaign", "new", "Clean", "--action", "share", "--budget", "2",
               "--db", db_url, "--now", NOW).code == 0  # fmt: skip
    assert run(capsys, "campaign", "plan", "Clean", "--db", db_url, "--now", NOW).code == 0
    asks = run(capsys, "campaign", "show", "Clean", "--csv", "--db", db_url, "--now", NOW).out
    lines = list(csv.reader(io.StringIO(asks)))
    assert lines[0][:5] == ["position", "id", "name", "identities", "status"], asks
    assert len(lines) == 1, asks  # nobody is ask-ready here (the page's test has asks)
