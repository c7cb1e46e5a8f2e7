"""The first commands, end to end through the real CLI on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command

from karmabank.store import migrate
from karmabank.store.engine import make_engine
from tests.cli_helpers import run

CSV = (
    "occurred_at,person,name,verb,direction,channel,text,target\n"
    "2026-05-01T10:00:00Z,ada@example.org,Ada Lovelace,comment,in,blog,<script>alert(1)</script>,\n"
    "2026-05-03T10:00:00Z,mastodon:@bob@social.example,Bob,reply,peer,mastodon,hi Ada,ada@example.org\n"
    "2026-05-04T10:00:00Z,bob,,like,in,,,\n"
)


@pytest.fixture
def loaded(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    f = tmp_path / "a.csv"
    f.write_text(CSV)
    r = run(capsys, "import", "csv", str(f), "--db", db_url, "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["imported"] == 2
    return db_url


def test_import_json_counts_add_up(
    loaded: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "a.csv"
    r = run(capsys, "import", "csv", str(f), "--db", loaded, "--json")
    out = json.loads(r.out)
    assert out == {
        "imported": 0, "duplicates": 2, "skipped": 0, "quarantined": 1,
        "errors": [{"file": str(f), "line": 4, "reason": out["errors"][0]["reason"]}],
    }  # fmt: skip
    assert "cannot tell the platform of 'bob'" in out["errors"][0]["reason"]


def test_people_and_person_json(loaded: str, capsys: pytest.CaptureFixture[str]) -> None:
    people = json.loads(run(capsys, "people", "--db", loaded, "--json").out)
    # warmest first: Ada's comment (4) outweighs Bob's like (1)
    assert [p["name"] for p in people] == ["Ada Lovelace", "Bob"]
    for p in people:
        assert {"id", "name", "identities", "circle", "status", "warmth", "stage"} <= p.keys()
    recent = json.loads(run(capsys, "people", "--sort", "recent", "--db", loaded, "--json").out)
    assert [p["name"] for p in recent] == ["Bob", "Ada Lovelace"]
    ada = json.loads(run(capsys, "person", "ada@example.org", "--db", loaded, "--json").out)
    assert ada["identities"] == ["email:ada@example.org"]
    assert ada["counts"] == {"in": 1, "give": 0, "ask": 0, "peer_out": 0, "peer_in": 1}
    assert [t["direction"] for t in ada["timeline"]] == ["in"]  # theirs first, as on the page
    assert ada["timeline"][0]["text"] == "<script>alert(1)</script>"
    both = run(capsys, "person", "ada@example.org", "--whose", "all", "--db", loaded, "--json")
    assert [t["direction"] for t in json.loads(both.out)["timeline"]] == ["peer_in", "in"]
    by_name = json.loads(run(capsys, "person", "ada lovelace", "--db", loaded, "--json").out)
    by_id = json.loads(run(capsys, "person", str(ada["id"]), "--db", loaded, "--json").out)
    assert by_name["id"] == by_id["id"] == ada["id"]
    text = run(capsys, "person", "Ada Lovelace", "--db", loaded)
    assert text.code == 0 and "<script>alert(1)</script>" in text.out


def test_record_and_flag(loaded: str, capsys: pytest.CaptureFixture[str]) -> None:
    r = run(capsys, "record", "give", "ada@example.org", "thank", "--text", "Thank you!",
            "--at", "2026-05-02T09:00", "--db", loaded)  # fmt: skip
    assert r.code == 0, r.err
    assert "recorded give thank" in r.out
    ada = json.loads(run(capsys, "person", "ada@example.org", "--db", loaded, "--json").out)
    assert ada["counts"]["give"] == 1
    assert run(capsys, "flag", "ada@example.org", "do_not_contact", "--db", loaded).code == 0
    refused = run(capsys, "record", "ask", "ada@example.org", "ask", "--db", loaded)
    assert refused.code == 1
    assert refused.err.strip() == (
        "error: Ada Lovelace asked not to be contacted (do_not_contact): nothing recorded"
    )
    flagged = json.loads(
        run(capsys, "people", "--flag", "do_not_contact", "--db", loaded, "--json").out
    )
    assert [p["name"] for p in flagged] == ["Ada Lovelace"]
    assert (
        run(capsys, "flag", "ada@example.org", "do_not_contact", "--off", "--db", loaded).code == 0
    )
    assert (
        json.loads(run(capsys, "people", "--flag", "do_not_contact", "--db", loaded, "--json").out)
        == []
    )
    # a new identity creates its person
    new = run(
        capsys,
        "record",
        "in",
        "mastodon:@Cy@Town.Example",
        "follow",
        "--name",
        "Cy",
        "--db",
        loaded,
    )
    assert new.code == 0
    cy = json.loads(run(capsys, "person", "@cy@town.example", "--db", loaded, "--json").out)
    assert (cy["name"], cy["identities"]) == ("Cy", ["mastodon:@cy@town.example"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["person", "nobody@example.org"],
            "error: no person with the identity email:nobody@example.org",
        ),
        (["person", "9999"], "error: no person with id 9999"),
        (["import", "nope", "x.csv"], "error: unknown import format 'nope' (known: "
         "activitystreams, bluesky-repo, csv, edgelist, feed, mastodon-archive, wxr)"),
        (["import", "csv", "/no/such/file.csv"], "error: no such file: /no/such/file.csv"),
        (["import", "csv", "a.csv", "--org", "1"], "error: the csv format does not take --org"),
        (
            ["record", "in", "ada@example.org", "like", "--at", "soon"],
            "error: --at: 'soon' is not an ISO-8601 time (e.g. 2026-05-01T12:00)",
        ),
    ],
)
def test_user_errors_are_one_line_exit_1(
    loaded: str, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run(capsys, *args, "--db", loaded)
    assert (r.code, r.err.strip()) == (1, message)


def test_ambiguous_name(loaded: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(
        capsys, "record", "in", "ada2@example.org", "like", "--name", "Ada Lovelace", "--db", loaded
    )
    r = run(capsys, "person", "Ada Lovelace", "--db", loaded)
    assert r.code == 1 and "names more than one person" in r.err


def test_missing_database_and_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "none.db"
    r = run(capsys, "people", "--db", str(db))
    assert (r.code, r.err.strip()) == (
        1,
        f"error: no database at {db}: run `karmabank init --db {db}` first",
    )
    assert not db.exists()
    assert run(capsys, "people", "--no-such-option").code == 2
    assert run(capsys, "flag", "x", "vip").code == 2


def test_init_creates_then_reports_current(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "k.db")
    head = migrate.head_revision()
    assert f"schema empty -> {head}" in run(capsys, "init", "--db", db).out
    assert f"already at schema {head}" in run(capsys, "init", "--db", db).out


def test_init_upgrades_an_older_schema_keeping_its_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "old.db")
    engine = make_engine(db)
    command.upgrade(migrate.alembic_config(engine), "0001")
    engine.dispose()
    assert "older schema" in run(capsys, "people", "--db", db).err
    assert f"schema 0001 -> {migrate.head_revision()}" in run(capsys, "init", "--db", db).out
    assert run(capsys, "record", "in", "email:a@example.org", "comment", "--db", db).code == 0


def test_env_database_and_python_dash_m(tmp_path: Path) -> None:
    """A real process: `python -m karmabank`, $KARMABANK_DB, and no traceback on errors."""
    env = {"KARMABANK_DB": str(tmp_path / "env.db"), "PATH": "/usr/bin:/bin"}
    ok = subprocess.run(
        [sys.executable, "-m", "karmabank", "init"], env=env, capture_output=True, text=True
    )
    assert ok.returncode == 0 and (tmp_path / "env.db").exists()
    bad = subprocess.run(
        [sys.executable, "-m", "karmabank", "person", "nobody@example.org"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert bad.returncode == 1
    assert bad.stderr == "error: no person with the identity email:nobody@example.org\n"
    assert "Traceback" not in bad.stderr


def test_unreachable_postgres_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    r = run(capsys, "people", "--db", "postgresql://nobody@127.0.0.1:1/none")
    assert r.code == 1
    assert r.err.startswith("error: ") and r.err.count("\n") == 1


def test_scores_through_the_cli(loaded: str, capsys: pytest.CaptureFixture[str]) -> None:
    now = ["--now", "2026-05-10T12:00:00Z"]
    r = run(capsys, "rescore", "--db", loaded, *now, "--json")
    assert r.code == 0, r.err
    report = json.loads(r.out)
    assert report["people"] == 2 and report["activities"] == 2
    assert report["circles"] == {"newcomers": 1}  # Ada (Bob has no inbound activity)
    ada = json.loads(run(capsys, "person", "ada@example.org", "--db", loaded, *now, "--json").out)
    assert (ada["circle"], ada["status"], ada["stage"]) == ("newcomers", "active", "engaged")
    # 4 x 0.9^(9.0833/30): the comment of May 1, 10:00, seen on May 10, 12:00
    assert ada["warmth"]["value"] == pytest.approx(4 * 0.9 ** ((9 + 2 / 24) / 30))
    assert ada["ledger"]["why"].startswith("gave 0, asked 0")
    shown = run(capsys, "people", "--db", loaded, *now, "--circle", "newcomers")
    assert "Ada Lovelace" in shown.out and "Bob" not in shown.out
    nobody = run(capsys, "people", "--db", loaded, *now, "--stage", "leader")
    assert "no one matches" in nobody.out
    status = json.loads(run(capsys, "status", "--db", loaded, *now, "--json").out)
    assert status["people"] == 2 and status["share_ratio"]["verdict"] == "quiet: no gives, no asks"
    text = run(capsys, "status", "--db", loaded, *now).out
    assert "share ratio: 0 gives and 0 asks in 90 days" in text


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--circle", "vip", "error: unknown circle 'vip' (one of: core, allies, friends"),
        ("--status", "asleep", "error: unknown status 'asleep' (one of: active, resting"),
        ("--stage", "hero", "error: unknown stage 'hero' (one of: aware, engaged"),
        ("--sort", "age", "error: unknown sort 'age' (one of: warmth, tenure, balance"),
        ("--now", "tomorrow", "error: --now: 'tomorrow' is not an ISO-8601 time"),
    ],
)
def test_people_options_are_checked(
    loaded: str, capsys: pytest.CaptureFixture[str], option: str, value: str, message: str
) -> None:
    r = run(capsys, "people", "--db", loaded, option, value)
    assert r.code == 1 and r.err.startswith(message) and len(r.err.splitlines()) == 1


def test_a_bad_setting_is_one_clear_line(
    loaded: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KARMABANK_WARMTH_DECAY", "fast")
    r = run(capsys, "status", "--db", loaded)
    assert r.code == 1 and r.err == "error: KARMABANK_WARMTH_DECAY: 'fast' is not a valid float\n"


def test_issues_influencers_and_nurture_through_the_cli(
    loaded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    now = ["--now", "2026-05-05T12:00:00Z"]
    added = run(capsys, "issue", "add", "Open source", "--keywords", "alert,script", "--db", loaded)
    assert added.code == 0 and added.out.startswith("issue 1: Open source (alert, script)")
    assert json.loads(run(capsys, "issue", "list", "--db", loaded, "--json").out)[0]["keywords"] == [
        "alert", "script",
    ]  # fmt: skip
    dup = run(capsys, "issue", "add", "open source", "-k", "x", "--db", loaded)
    assert dup.code == 1 and "an issue named 'open source' already exists (id 1)" in dup.err
    found = json.loads(run(capsys, "influencers", "--db", loaded, *now, "--json").out)
    assert found and {"person", "influence", "warmth_pct", "reach_pct", "affinity", "why"} <= (
        found[0].keys()
    )
    ada = next(f for f in found if f["person"]["name"] == "Ada Lovelace")
    assert ada["affinity"] == 1.0 and "alert" in ada["why"]  # her comment: <script>alert(1)...
    queue = json.loads(run(capsys, "nurture", "--db", loaded, *now, "--json").out)
    assert [q["kind"] for q in queue] == ["reply"]  # Ada's comment of May 1, unanswered
    item = queue[0]
    assert {"id", "kind", "person", "reason", "priority", "next_step", "draft"} <= item.keys()
    assert item["next_step"] == 'answer: "<script>alert(1)</script>"'
    done = run(capsys, "nurture", "done", str(item["id"]), "--db", loaded, *now)
    assert done.code == 0 and "recorded give reply" in done.out
    after = json.loads(run(capsys, "nurture", "--db", loaded, *now, "--json").out)
    assert [q["kind"] for q in after] == ["welcome"]  # answered; still a newcomer to welcome
    missing = run(capsys, "nurture", "skip", "999", "--db", loaded, *now)
    assert (
        missing.code == 1
        and missing.err == "error: no nurture item 999 (see `karmabank nurture`)\n"
    )


def test_campaign_commands_end_to_end(loaded: str, capsys: pytest.CaptureFixture[str]) -> None:
    now = ["--now", "2026-05-10T12:00:00Z"]
    empty = run(capsys, "campaign", "list", "--db", loaded)
    assert empty.code == 0 and empty.out.startswith("no campaigns yet")
    assert json.loads(run(capsys, "campaign", "list", "--db", loaded, "--json").out) == []
    new = run(capsys, "campaign", "new", "Spring", "--action", "share", "--budget", "2",
              "--db", loaded, "--json", *now)  # fmt: skip
    assert new.code == 0, new.err
    assert json.loads(new.out)["budget"] == 2
    plan = run(capsys, "campaign", "plan", "Spring", "--db", loaded, "--json", *now)
    assert plan.code == 0, plan.err
    data = json.loads(plan.out)
    assert data["asks"] == []  # nobody was given anything: nobody may be asked
    assert {e["rule"] for e in data["excluded"]} == {"balance"}
    shown = run(capsys, "campaign", "plan", "Spring", "--db", loaded, *now)
    assert "left out: 2 (balance 2)" in shown.out
    run(capsys, "campaign", "new", "Later <b>", "--action", "sign", "--budget", "3", "--db", loaded,
        "--now", "2026-05-11T12:00:00Z")  # fmt: skip
    listed = json.loads(run(capsys, "campaign", "list", "--db", loaded, "--json").out)
    assert [(c["name"], c["status"], c["budget"]) for c in listed] == [
        ("Later <b>", "new", 3), ("Spring", "planned", 2),
    ]  # fmt: skip
    assert listed[1]["funnel"] == {"planned": 0, "sent": 0, "yes": 0, "no": 0, "acted": 0,
                                   "thanked": 0}  # fmt: skip
    table = run(capsys, "campaign", "list", "--db", loaded)
    assert table.code == 0, table.err
    lines = table.out.splitlines()
    assert lines[0].split() == ["id", "name", "action", "issue", "budget", "deadline", "status",
                                "sent", "yes", "acted"]  # fmt: skip
    assert lines[1].split() == ["2", "Later", "<b>", "sign", "—", "3", "—", "new", "0", "0", "0"]
    assert lines[2].split()[:2] == ["1", "Spring"] and "planned" in lines[2]
    for argv, message in (
        (["campaign", "plan", "Nope"], "error: no campaign 'Nope'"),
        (["campaign", "send", "Spring"], "error: campaign 'Spring' has no planned asks"),
        (["campaign", "new", "X", "--action", "dance", "--budget", "1"], "error: unknown action"),
        (["campaign", "respond", "Spring", "ada@example.org", "maybe"], "error: unknown response"),
    ):
        r = run(capsys, *argv, "--db", loaded, *now)
        assert r.code == 1 and r.err.startswith(message) and len(r.err.splitlines()) == 1, r.err


def test_column_wise_database_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error of the ADBC driver (the rescore's column-wise reads and writes) is one line,
    though `main` never imports the driver itself; any other unexpected error still raises."""
    import adbc_driver_sqlite.dbapi as sqlite_adbc

    def failing(**_: object) -> None:
        with sqlite_adbc.connect(str(tmp_path / "x.db")) as conn, conn.cursor() as cur:
            cur.execute("SELECT x FROM nowhere")

    monkeypatch.setattr("karmabank.cli._app", lambda: failing)
    r = run(capsys, "rescore")
    assert r.code == 1
    assert r.err.startswith("error: database: ") and "nowhere" in r.err
    assert len(r.err.strip().splitlines()) == 1

    def broken(**_: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("karmabank.cli._app", lambda: broken)
    with pytest.raises(RuntimeError, match="a bug"):
        run(capsys, "rescore")


def test_version_is_the_installed_packages(capsys: pytest.CaptureFixture[str]) -> None:
    import tomllib
    from importlib.metadata import version

    import karmabank

    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    r = run(capsys, "--version")
    assert r.code == 0 and r.err == ""
    assert r.out == f"karmabank {version('karmabank')}\n"
    assert version("karmabank") == karmabank.__version__ == pyproject["project"]["version"]


def _users(db: str) -> list[str]:
    from sqlalchemy import select

    from karmabank.store.open import open_store
    from karmabank.store.tables import UserAccount

    with open_store(db) as store, store.sessions() as session:
        return list(session.scalars(select(UserAccount.email)))


def test_demo_never_overwrites_a_database_without_force(
    loaded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real import and its users survive `karmabank demo --db` on it (SQLite and PostgreSQL):
    one clear line, exit 1, nothing deleted; --keep keeps it too."""
    added = run(capsys, "user", "add", "me@example.org", "--role", "owner", "--generate",
                "--db", loaded)  # fmt: skip
    assert added.code == 0, added.err
    r = run(capsys, "demo", "--db", loaded, "--people", "30")
    assert r.code == 1 and r.out == ""
    assert r.err == (
        f"error: {loaded} already exists: add --force to replace it (everything in it is "
        "deleted), or --keep to keep it and see the tour\n"
    )
    kept = run(capsys, "demo", "--db", loaded, "--keep")
    assert kept.code == 0, kept.err
    assert kept.out.startswith(f"Demo database kept as it was: {loaded}\n")
    assert "2 people, 2 activities, as of" in kept.out
    assert _users(loaded) == ["me@example.org"]
    people = json.loads(run(capsys, "people", "--db", loaded, "--json").out)
    assert [p["name"] for p in people] == ["Ada Lovelace", "Bob"]


def test_demo_keep_rerun_keeps_users_and_force_rebuilds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `make demo` runs (`demo --keep`): built when missing, kept with its users when
    there; --force rebuilds it from scratch (SQLite: the file, its WAL and columnar copy)."""
    monkeypatch.delenv("KARMABANK_NOW", raising=False)
    db = str(tmp_path / "demo.db")
    first = run(capsys, "demo", "--db", db, "--people", "30", "--keep")
    assert first.code == 0, first.err
    assert first.out.startswith(f"Demo database ready: {db}\n")
    assert "Its time is fixed at 2026-11-26 12:00 UTC: commands on it compute as of then" in (
        first.out
    )
    assert run(capsys, "user", "add", "you@example.org", "--role", "owner", "--generate",
               "--db", db).code == 0  # fmt: skip
    again = run(capsys, "demo", "--db", db, "--people", "30", "--keep")
    assert again.code == 0, again.err
    assert again.out.startswith(f"Demo database kept as it was: {db}\n")
    assert "(its users and issues too; `karmabank demo --force` rebuilds it)" in again.out
    assert "as of 2026-11-26\n" in again.out
    assert _users(db) == ["you@example.org"]
    assert run(capsys, "demo", "--db", db, "--force", "--keep").code == 2  # choose one
    rebuilt = run(capsys, "demo", "--db", db, "--people", "30", "--force")
    assert rebuilt.code == 0, rebuilt.err
    assert rebuilt.out.startswith(f"Demo database ready: {db}\n")
    assert "The database it replaced was backed up first to " in rebuilt.out
    assert _users(db) == []


def test_the_demo_database_keeps_its_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built without --now, the demo is as of 2026-11-26 12:00 UTC whatever the clock says, and
    every command on it computes as of then, unless --now or $KARMABANK_NOW says otherwise."""
    monkeypatch.delenv("KARMABANK_NOW", raising=False)
    db = str(tmp_path / "demo.db")
    assert run(capsys, "demo", "--db", db, "--people", "40").code == 0
    status = json.loads(run(capsys, "status", "--db", db, "--json").out)
    assert status["scored_at"] == "2026-11-26T12:00:00Z"
    people = json.loads(run(capsys, "people", "--db", db, "--json", "--limit", "500").out)
    same = json.loads(run(capsys, "people", "--db", db, "--json", "--limit", "500",
                          "--now", "2026-11-26T12:00:00Z").out)  # fmt: skip
    assert people == same
    rec = run(capsys, "record", "give", str(people[0]["id"]), "thank", "--db", db)
    assert rec.code == 0 and " at 2026-11-26T12:00:00+00:00 " in rec.out
    later = json.loads(run(capsys, "status", "--db", db, "--json", "--now", "2027-01-01").out)
    assert later["scored_at"] == "2027-01-01T00:00:00Z"
    monkeypatch.setenv("KARMABANK_NOW", "2026-12-24T00:00:00Z")
    env = json.loads(run(capsys, "status", "--db", db, "--json").out)
    assert env["scored_at"] == "2026-12-24T00:00:00Z"
    monkeypatch.delenv("KARMABANK_NOW")
    other = str(tmp_path / "june.db")
    assert run(capsys, "demo", "--db", other, "--people", "40", "--now", "2026-06-01").code == 0
    june = json.loads(run(capsys, "status", "--db", other, "--json").out)
    assert june["scored_at"] == "2026-06-01T00:00:00Z"
    # a database that was not built by the demo follows the clock
    plain = str(tmp_path / "plain.db")
    assert run(capsys, "record", "in", "ada@example.org", "comment", "--db", plain).code == 0
    scored = json.loads(run(capsys, "status", "--db", plain, "--json").out)["scored_at"]
    assert scored != "2026-11-26T12:00:00Z"


OLD = (
    "occurred_at,person,name,verb,direction,channel\n"
    "2009-06-01T10:00:00Z,ada@example.org,Ada Lovelace,comment,in,blog\n"
    "2009-10-01T10:00:00Z,ada@example.org,Ada Lovelace,comment,in,blog\n"
    "2009-10-29T10:00:00Z,bob@example.org,Bob,comment,in,blog\n"
    "2026-11-20T10:00:00Z,bob@example.org,Bob,thank,give,blog\n"
)
HINT = (
    "note: the newest activity is from 2009-10-29, 17 years ago: add --now 2009-10-30 to see "
    "the network as it was then\n"
)


@pytest.fixture
def historical(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    f = tmp_path / "old.csv"
    f.write_text(OLD)
    r = run(capsys, "import", "csv", str(f), "--db", db_url)
    assert r.code == 0, r.err
    return db_url


@pytest.mark.parametrize("command", [["status"], ["people"], ["nurture"]])
def test_long_past_activity_says_how_to_see_it_as_it_was(
    historical: str, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Everyone looks dormant when the newest activity is years old: one line on stderr says
    when it was and which --now shows the network alive (our own give of last week does not
    count: it is not activity from anyone); the output itself is untouched (JSON stays JSON)."""
    late = run(capsys, *command, "--db", historical, "--now", "2026-11-26T12:00:00Z")
    assert late.code == 0, late.err
    assert late.err == HINT
    as_json = run(capsys, *command, "--db", historical, "--now", "2026-11-26T12:00:00Z", "--json")
    assert as_json.err == HINT
    json.loads(as_json.out)
    then = run(capsys, *command, "--db", historical, "--now", "2009-10-30", "--json")
    assert then.code == 0 and then.err == ""
    soon = run(capsys, *command, "--db", historical, "--now", "2010-01-27T09:00:00Z")
    assert soon.code == 0 and soon.err == ""  # 89 days and 23 hours: not far enough to say
    months = run(capsys, *command, "--db", historical, "--now", "2010-03-01T00:00:00Z")
    assert months.err == HINT.replace("17 years", "122 days")


def test_the_hint_points_at_a_network_that_is_alive(
    historical: str, capsys: pytest.CaptureFixture[str]
) -> None:
    dead = json.loads(run(capsys, "status", "--db", historical, "--now", "2026-11-26", "--json").out)
    assert dead["statuses"].get("active", 0) == 0
    alive = json.loads(run(capsys, "status", "--db", historical, "--now", "2009-10-30", "--json").out)
    assert alive["statuses"].get("active", 0) >= 1


def test_a_mistyped_person_is_not_found_before_any_rescore(
    loaded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Resolving the REF comes first: "not found" must not wait for a rescore of everyone."""
    from karmabank.store.open import open_store
    from karmabank.store.tables import ScoreState

    assert run(capsys, "rescore", "--db", loaded, "--now", "2026-05-10T12:00:00Z").code == 0

    def scored_at() -> int:
        with open_store(loaded) as store, store.sessions() as session:
            state = session.get(ScoreState, 1)
            assert state is not None
            return state.scored_at

    before = scored_at()
    for ref in ("nobody@example.org", "Ada Lovelase", "9999"):
        r = run(capsys, "person", ref, "--db", loaded, "--now", "2026-07-01T12:00:00Z")
        assert r.code == 1 and r.err.startswith("error: no person"), r.err
        assert scored_at() == before, ref  # stale for July 1, yet not rescored
    found = run(capsys, "person", "Ada Lovelace", "--db", loaded, "--now", "2026-07-01T12:00:00Z")
    assert found.code == 0 and scored_at() != before


def test_demo_builds_into_an_empty_database_and_deletes_nothing(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """An empty PostgreSQL database is filled (nothing to lose there); an existing SQLite file,
    even an empty one, is only replaced with --force."""
    monkeypatch.delenv("KARMABANK_NOW", raising=False)
    if db_url.startswith("postgresql"):
        r = run(capsys, "demo", "--db", db_url, "--people", "30")
        assert r.code == 0, r.err
        assert r.out.startswith(f"Demo database ready: {db_url}\n")
        status = json.loads(run(capsys, "status", "--db", db_url, "--json").out)
        assert status["scored_at"] == "2026-11-26T12:00:00Z" and status["people"] > 30
        (here := tmp_path / "here").mkdir()
        monkeypatch.chdir(here)
        again = run(capsys, "demo", "--db", db_url, "--people", "30", "--force")
        assert again.code == 1 and "already holds people: the demo needs an empty database" in (
            again.err
        )
        assert list(here.iterdir()) == []  # refused before anything was written
    else:
        r = run(capsys, "demo", "--db", db_url, "--people", "30")
        assert r.code == 1 and "already exists: add --force" in r.err
        assert run(capsys, "demo", "--db", db_url, "--people", "30", "--force").code == 0
