"""The organization and consent at the command line, on both backends: `org name`,
`org identity add|list`, `optout`, `formats`, `import --dry-run`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from karmabank.store.open import open_store
from karmabank.store.tables import Activity, AuditLog, Identity, OrgIdentity
from tests.cli_helpers import run

ROWS = (
    "occurred_at,person,name,verb,direction,channel,target\n"
    "2026-05-01T10:00:00Z,ada@example.org,Ada,comment,in,blog,\n"
    "2026-05-02T10:00:00Z,@us@social.example,Us,reply,peer,mastodon,ada@example.org\n"
    "2026-05-03T10:00:00Z,grace@example.org,Grace,share,peer,mastodon,@us@social.example\n"
    "2026-05-04T10:00:00Z,grace@example.org,Grace,share,sideways,mastodon,\n"
)


@pytest.fixture
def rows(tmp_path: Path) -> Path:
    f = tmp_path / "rows.csv"
    f.write_text(ROWS)
    return f


def test_org_name_and_identities(
    db_url: str, rows: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run(capsys, "org", "identity", "list", "--db", db_url)
    assert r.out == "My organization:\n  no identities yet: `karmabank org identity add ID...`\n"
    r = run(capsys, "org", "name", "River Friends", "--db", db_url)
    assert (r.code, r.out) == (0, "the organization is now River Friends\n")
    r = run(capsys, "org", "identity", "add", "@Us@Social.Example", "--db", db_url)
    assert (r.code, r.out) == (0, "mastodon:@us@social.example: added\n")
    r = run(capsys, "org", "identity", "add", "mastodon:@us@social.example", "bo@example.org",
            "--db", db_url, "--json")  # fmt: skip
    assert json.loads(r.out) == [
        {"identity": "mastodon:@us@social.example", "outcome": "already"},
        {"identity": "email:bo@example.org", "outcome": "added"},
    ]
    r = run(capsys, "org", "identity", "list", "--db", db_url, "--json")
    assert json.loads(r.out) == {
        "name": "River Friends",
        "identities": ["mastodon:@us@social.example", "email:bo@example.org"],
    }
    r = run(capsys, "org", "identity", "list", "--db", db_url)
    assert r.out == "River Friends:\n  mastodon:@us@social.example\n  email:bo@example.org\n"
    # rows of an organization identity are the organization's
    r = run(capsys, "import", "csv", str(rows), "--db", db_url, "--json")
    assert json.loads(r.out)["imported"] == 3
    with open_store(db_url) as store, store.sessions() as s:
        stored = s.execute(
            select(Activity.verb, Activity.direction, Activity.target_id).order_by(Activity.id)
        ).all()
        assert stored == [("comment", "in", None), ("reply", "give", None), ("share", "in", None)]
        assert s.scalar(select(func.count()).where(Identity.key == "@us@social.example")) == 0
        actions = s.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions[:3] == ["org name", "org identity add", "org identity add"]


def test_an_identity_a_person_has_is_refused_unless_taken(
    db_url: str, rows: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "import", "csv", str(rows), "--db", db_url).code == 0
    r = run(capsys, "org", "identity", "add", "new@example.org", "grace@example.org",
            "--db", db_url)  # fmt: skip
    assert r.code == 1
    assert r.err.count("\n") == 1 and r.err.startswith(
        "error: email:grace@example.org is the identity of person id:"
    )
    assert "--take" in r.err
    with open_store(db_url) as store, store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OrgIdentity)) == 0  # not even new@
    r = run(capsys, "org", "identity", "add", "grace@example.org", "--take", "--db", db_url)
    assert r.code == 0 and r.out.startswith("email:grace@example.org: taken from person id:")
    with open_store(db_url) as store, store.sessions() as s:
        assert s.scalar(select(func.count()).where(Identity.key == "grace@example.org")) == 0
        assert s.scalar(select(func.count()).select_from(Activity)) == 3  # theirs stay
    r = run(capsys, "org", "identity", "add", "not an identity", "--db", db_url)
    assert r.code == 1 and r.err.startswith("error: cannot tell the platform")
    r = run(capsys, "org", "name", "   ", "--db", db_url)
    assert r.code == 1 and r.err.startswith("error: the organization's name must be")


def test_optout_at_the_command_line(
    db_url: str, rows: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "import", "csv", str(rows), "--db", db_url).code == 0
    r = run(capsys, "optout", "ada@example.org", "email", "--db", db_url)
    assert (r.code, r.out) == (0, "Ada (id:1) opted out of email\n")
    r = run(capsys, "optout", "ada@example.org", "email", "--db", db_url)
    assert r.out == "Ada (id:1) opted out of email (already)\n"
    r = run(capsys, "person", "ada@example.org", "--db", db_url, "--json")
    assert json.loads(r.out)["opt_outs"] == ["email"]
    r = run(capsys, "person", "ada@example.org", "--db", db_url)
    assert "opted out of: email\n" in r.out
    r = run(capsys, "optout", "ada@example.org", "email", "--off", "--db", db_url)
    assert r.out == "Ada (id:1) opted in to email\n"
    r = run(capsys, "optout", "nobody@example.org", "email", "--db", db_url)
    assert r.code == 1 and r.err.startswith("error: no person with the identity")
    r = run(capsys, "optout", "ada@example.org", "[b]x", "--db", db_url)
    assert r.code == 1 and "is not a channel name" in r.err


def test_formats_lists_each_with_what_it_reads(capsys: pytest.CaptureFixture[str]) -> None:
    r = run(capsys, "formats")
    lines = {line.split()[0]: line for line in r.out.splitlines()}
    assert {"csv", "edgelist"} <= set(lines)
    assert "CSV with a header row" in lines["csv"]
    assert "temporal edge lists" in lines["edgelist"]
    found = json.loads(run(capsys, "formats", "--json").out)
    assert [f["name"] for f in found] == sorted(f["name"] for f in found)
    csv = next(f for f in found if f["name"] == "csv")
    presets = csv.pop("presets")
    assert csv == {
        "name": "csv",
        "description": "CSV with a header row (occurred_at, person, verb, direction, ...)",
        "target": "karmabank.sources.csv_source:CsvSource",
    }
    from karmabank.sources.presets import names

    assert [p["name"] for p in presets] == names()
    assert "eventbrite" in names() and "mailchimp-audience" in names()
    eventbrite = next(p for p in presets if p["name"] == "eventbrite")
    assert eventbrite["description"].startswith("Eventbrite attendee report")
    # the table lists each preset under csv, with the same words
    at = r.out.splitlines().index(lines["csv"])
    shown = [line.split()[1] for line in r.out.splitlines()[at + 1 : at + 1 + len(presets)]]
    assert shown == names() and all(
        line.startswith("  --preset ")
        for line in r.out.splitlines()[at + 1 : at + 1 + len(presets)]
    )


def test_dry_run_stores_nothing_and_says_what_an_import_would(
    db_url: str, rows: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    absent = tmp_path / "none.db"
    r = run(capsys, "import", "csv", str(rows), "--db", str(absent), "--dry-run")
    assert r.code == 0, r.err
    assert not absent.exists()  # no database made
    assert r.out.startswith(
        "dry run, nothing stored: would import 3; 0 already there; 0 skipped; 1 quarantined "
        "(4 rows read)\n"
    )
    assert "(no database yet: nothing is stored already)" in r.out
    assert "  line 2  2026-05-01T10:00:00+00:00  email:ada@example.org  in comment (blog)" in r.out
    assert run(capsys, "org", "identity", "add", "@us@social.example", "--db", db_url).code == 0
    r = run(capsys, "import", "csv", str(rows), "--db", db_url, "--dry-run", "--json")
    preview = json.loads(r.out)
    assert (preview["imported"], preview["quarantined"], preview["dry_run"]) == (3, 1, True)
    assert [(x["line"], x["person"], x["direction"], x["target"])
            for x in preview["first_rows"]] == [
        (2, "email:ada@example.org", "in", None), (3, "email:ada@example.org", "give", None),
        (4, "email:grace@example.org", "in", None),
    ]  # fmt: skip
    assert preview["errors"][0]["line"] == 5
    with open_store(db_url) as store, store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Activity)) == 0
    assert (
        json.loads(run(capsys, "import", "csv", str(rows), "--db", db_url, "--json").out)[
            "imported"
        ]
        == 3
    )
    r = run(capsys, "import", "csv", str(rows), "--db", db_url, "--dry-run")
    assert "would import 0; 3 already there; 0 skipped; 1 quarantined" in r.out
