"""Hostile text through every command that prints it, on SQLite and PostgreSQL: Rich markup
(`[/]`, `[bold]`, `[link=...]`) is shown, never read as markup, and terminal controls (ESC
sequences, BEL, C1 controls, bidi overrides) never reach the terminal raw."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from karmabank.cli.render import json_text, plain, quoted, safe
from karmabank.store.open import open_store
from karmabank.store.tables import Activity, Identity
from tests.cli_helpers import Result, run

# A name with markup Rich would choke on or obey, a CSI colour, an OSC 8 hyperlink ended by
# BEL, a C1 CSI (0x9b) and a right-to-left override.
HOSTILE = (
    "Zoë [/] [bold]b[/bold] [link=https://evil.example]l[/link] \x1b[31mred\x1b[0m "
    "\x1b]8;;https://evil.example\x07here\x1b]8;;\x07 \x9b2J \u202eesrever\u202c"
)
# What was stored before verbs and channels were checked (String(32) columns).
OLD_VERB = "like[/]\x1b[2J\u202e"
OLD_CHANNEL = "[/]\x1b]8;;x\x07"
RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\u202c")
NOW = ["--now", "2026-05-10T12:00:00Z"]


def clean(r: Result, code: int = 0) -> Result:
    """The command ended as expected, with no traceback and no raw control character."""
    assert r.code == code, (r.out, r.err)
    assert "Traceback" not in r.err
    for c in RAW:
        assert c not in r.out and c not in r.err, (c, r.out, r.err)
    return r


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["occurred_at", "person", "name", "verb", "direction", "channel", "text", "target"])
    w.writerows(rows)
    return out.getvalue()


def activities(db: str) -> int:
    with open_store(db) as store, store.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Activity)) or 0)


@pytest.fixture
def hostile(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """Zoë (a hostile name, and a hostile comment) to whom we gave enough to be asked; Bob;
    and one activity stored with a hostile verb and channel, as an older version let in."""
    f = tmp_path / "hostile.csv"
    f.write_text(_csv([
        ["2026-05-01T10:00:00Z", "zoe@example.org", HOSTILE, "comment", "in", "blog", HOSTILE, ""],
        ["2026-05-02T10:00:00Z", "zoe@example.org", "", "gift", "give", "email", "", ""],
        ["2026-05-03T10:00:00Z", "zoe@example.org", "", "feature", "give", "email", "", ""],
        ["2026-05-04T10:00:00Z", "bob@example.org", "Bob", "like", "in", "", "", ""],
        ["2026-05-05T10:00:00Z", "bob@example.org", "", "reply", "peer", "forum", HOSTILE,
         "zoe@example.org"],
        ["2026-05-06T10:00:00Z", "bob@example.org", "", OLD_VERB, "in", "", "", ""],
    ]))  # fmt: skip
    r = clean(run(capsys, "import", "csv", str(f), "--db", db_url))
    assert "5 activities" in r.out and "1 quarantined" in r.out
    assert f"{f}:7: unknown verb 'like[/]\\x1b[2j\\u202e'" in r.out  # the reason, shown as is
    with open_store(db_url) as store, store.sessions.begin() as s:
        zoe = s.scalar(select(Identity.person_id).where(Identity.key == "zoe@example.org"))
        assert zoe is not None
        s.add(Activity(source_key="old:1", occurred_at=datetime(2026, 5, 7, tzinfo=UTC),
                       person_id=zoe, verb=OLD_VERB, direction="in", channel=OLD_CHANNEL,
                       text=HOSTILE))  # fmt: skip
    return db_url


def test_people_person_status_and_errors_show_hostile_text(
    hostile: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", hostile, *NOW]
    people = clean(run(capsys, "people", *db))
    assert "Zoë [/] [bold]b[/bold]" in people.out  # markup shown, as typed
    listed = json.loads(clean(run(capsys, "people", *db, "--json")).out)
    assert HOSTILE in [p["name"] for p in listed]  # JSON keeps the value exactly
    shown = clean(run(capsys, "person", "zoe@example.org", *db))
    assert "\\x1b[31mred" in shown.out and "\\u202eesrever" in shown.out  # visible escapes
    assert "like[/]\\x1b[2J\\u202e" in shown.out and "[/]\\x1b]8;;x\\x07" in shown.out
    detail = json.loads(clean(run(capsys, "person", "zoe@example.org", *db, "--json")).out)
    assert detail["name"] == HOSTILE
    assert {(t["verb"], t["channel"]) for t in detail["timeline"]} >= {(OLD_VERB, OLD_CHANNEL)}
    clean(run(capsys, "status", *db))
    clean(run(capsys, "rescore", *db))
    missing = clean(run(capsys, "person", "nobody \x1b[2J[/]", *db), code=1)
    assert missing.err.startswith("error: ") and len(missing.err.splitlines()) == 1
    flagged = clean(run(capsys, "flag", "zoe@example.org", "bot", "--db", hostile))
    assert "bot set for Zoë [/]" in flagged.out


def test_issues_influencers_and_nurture_show_hostile_text(
    hostile: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", hostile, *NOW]
    name = "River [/] \x1b[5mclean\u202e"
    added = clean(run(capsys, "issue", "add", name, "-k", "esrever,k[/]\x1b[2J", "--db", hostile))
    assert "River [/] \\x1b[5mclean\\u202e" in added.out
    listed = clean(run(capsys, "issue", "list", "--db", hostile))
    assert "k[/]\\x1b[2j" in listed.out or "k[/]\\x1b[2J" in listed.out
    assert (
        json.loads(clean(run(capsys, "issue", "list", "--db", hostile, "--json")).out)[0]["name"]
        == name
    )
    clean(run(capsys, "influencers", *db))
    clean(run(capsys, "influencers", "--issue", "1", *db))
    json.loads(clean(run(capsys, "influencers", "--issue", "1", *db, "--json")).out)
    clean(run(capsys, "nurture", *db))
    queue = json.loads(clean(run(capsys, "nurture", *db, "--json")).out)
    assert queue and any(q["person"]["name"] == HOSTILE for q in queue)
    done = clean(run(capsys, "nurture", "done", str(queue[0]["id"]), *db))
    assert done.out.startswith("done: recorded give")


def test_campaign_commands_show_hostile_names(
    hostile: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", hostile, *NOW]
    name = "Spring [/] [link=https://evil.example]x\x1b]8;;https://evil.example\x07"
    new = clean(run(capsys, "campaign", "new", name, "--action", "share", "--budget", "2", *db))
    assert "campaign 1 'Spring [/] [link=https://evil.example]x\\x1b]8;;" in new.out
    plan = clean(run(capsys, "campaign", "plan", name, *db))
    assert "Zoë [/] [bold]b[/bold]" in plan.out  # the ask, with a draft naming her
    planned = json.loads(clean(run(capsys, "campaign", "plan", name, *db, "--json")).out)
    assert planned["campaign"] == name and len(planned["asks"]) == 1
    clean(run(capsys, "campaign", "list", "--db", hostile))
    sent = clean(run(capsys, "campaign", "send", name, *db))
    assert sent.out.startswith("recorded 1 asks of 'Spring [/]")
    acted = clean(run(capsys, "campaign", "respond", name, "zoe@example.org", "acted", *db))
    assert acted.out.startswith("Zoë [/] [bold]b[/bold]")
    shown = clean(run(capsys, "campaign", "show", name, *db))
    assert "Zoë [/] [bold]b[/bold]" in shown.out
    assert (
        json.loads(clean(run(capsys, "campaign", "show", name, *db, "--json")).out)["campaign"][
            "name"
        ]
        == name
    )


def test_record_stores_once_and_refuses_unknown_verbs_and_channels_before_storing(
    hostile: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", hostile, *NOW]
    before = activities(hostile)
    # a hostile name and text are stored and the confirmation prints: one activity, exit 0
    r = clean(run(capsys, "record", "in", "email:eve@example.org", "comment", "--name", HOSTILE,
                  "--text", HOSTILE, "--object", "[/]", *db))  # fmt: skip
    assert r.out.startswith("recorded in comment for person ")
    assert activities(hostile) == before + 1
    # a verb with markup used to be stored, then crash the confirmation (a retry stored it
    # twice): now it is refused with the verbs there are, before anything is written
    for verb in ("x[/]", "like\x1b[2J", "donaet"):
        bad = clean(run(capsys, "record", "in", "zoe@example.org", verb, *db), code=1)
        assert bad.err.startswith("error: unknown verb ") and len(bad.err.splitlines()) == 1
        assert "verbs: accept, act, add, answer, ask, attend," in bad.err
    channel = clean(run(capsys, "record", "in", "zoe@example.org", "like", "--channel",
                        "[/]\x1b]8;;", *db), code=1)  # fmt: skip
    assert channel.err.startswith("error: channel '[/]\\x1b]8;;' is not a channel name")
    assert activities(hostile) == before + 1
    custom = clean(run(capsys, "record", "in", "zoe@example.org", "X-Upvote", "--channel",
                       "Forum", *db))  # fmt: skip
    assert custom.out.startswith("recorded in x-upvote for person ")
    assert activities(hostile) == before + 2


def test_terminal_text_helpers() -> None:
    assert plain("a\x1b[2Jb\x07\x9b\u202e\n\t") == "a\\x1b[2Jb\\x07\\x9b\\u202e\\n\\t"
    assert safe("[/] [bold]x") == "\\[/] \\[bold]x"
    assert safe("ends with a backslash\\") == "ends with a backslash\\\\"
    assert quoted("it's [/]") == '"it\'s \\[/]"'
    value = {"name": "\x1b[2J\u202e\x85\u2028 ok"}
    text = json_text(value)
    assert json.loads(text) == value
    for c in ("\x1b", "\u202e", "\x85", "\u2028"):
        assert c not in text
