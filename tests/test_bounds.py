"""One supported range for times and numbers, at every entry point (issue 13, item 1):
importers quarantine rows outside it (file and line), the CLI answers one line and exit 1,
the API a 400/422; nothing out of range is stored, nothing crashes later."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import ClassVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from karmabank.actions.accounts import Role, add_user, new_token
from karmabank.actions.importing import import_files
from karmabank.bounds import EARLIEST, EARLIEST_US, LATEST, LATEST_US, MAX_FOLLOWERS, MAX_WEIGHT
from karmabank.errors import ConfigError
from karmabank.model import IdentityKey, from_micros
from karmabank.settings import load_settings, parse_instant
from karmabank.sources import registry
from karmabank.sources.base import InputFile, ParsedRow, SourceItem, parse_time
from karmabank.store.open import Store, open_store
from karmabank.store.tables import Activity, Person
from karmabank.web import WebSettings, create_app
from tests.cli_helpers import run
from tests.conftest import NOW

# The values issue 13 named: digits past the year 9999, a 20-digit time, year 1 east of UTC.
OUT_OF_RANGE_TIMES = [
    "999999999999",
    "253402300800",  # 10000-01-01 in unix seconds
    "99999999999999999999",
    "9" * 5000,
    "0001-01-01T00:00:00+01:00",
    "0001-01-02T00:00:00Z",
    "9999-12-31T23:59:59",
    "1899-12-31T23:59:59Z",
    "2200-01-01T00:00:00Z",
    "-1e300",
    "1e300",
    "nan",
    "inf",
]


@pytest.mark.parametrize("text", OUT_OF_RANGE_TIMES, ids=lambda t: t[:30])
def test_parse_time_refuses_times_outside_the_range(text: str) -> None:
    with pytest.raises(ValueError, match=r"time out of range: .*1900-01-01 to 2200-01-01 UTC"):
        parse_time(text)


@pytest.mark.parametrize("text", OUT_OF_RANGE_TIMES[4:9], ids=lambda t: t[:30])
def test_parse_instant_refuses_times_outside_the_range(text: str) -> None:
    with pytest.raises(ConfigError, match=r"^--now out of range: .*\(supported: 1900-01-01"):
        parse_instant(text, "--now")


def test_the_range_ends_are_exact_and_every_time_in_it_can_be_shown() -> None:
    assert parse_time("1900-01-01T00:00:00Z") == EARLIEST_US
    assert parse_time("-2208988800") == EARLIEST_US
    assert parse_time("2199-12-31T23:59:59.999999Z") == LATEST_US - 1
    assert parse_instant("1900-01-01") == EARLIEST
    assert parse_instant("2199-12-31T23:59:59.999999") < LATEST
    # the longest window or snooze either side never leaves what datetimes hold
    assert from_micros(EARLIEST_US - 10_000 * 86_400 * 10**6).year >= 1
    assert from_micros(LATEST_US + 10_000 * 86_400 * 10**6).year <= 9999


def test_a_time_in_milliseconds_gets_a_hint() -> None:
    with pytest.raises(ValueError, match=r"is it in milliseconds\?"):
        parse_time("1777000000000")


def test_karmabank_now_out_of_range_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="out of range"):
        load_settings(environ={"KARMABANK_NOW": "0001-01-01T00:00:00+01:00"})


CSV_HEADER = "occurred_at,person,verb,direction,weight,followers\n"
GOOD_CSV_ROW = "2026-05-01T10:00:00Z,ada@example.org,comment,in,,120\n"
BAD_CSV_ROWS = [
    ("999999999999,bad1@example.org,like,in,,\n", "time out of range: '999999999999'"),
    ("99999999999999999999,bad2@example.org,like,in,,\n", "time out of range"),
    ("0001-01-01T00:00:00+01:00,bad3@example.org,like,in,,\n", "time out of range"),
    ("2026-05-02,bad4@example.org,like,in,,9223372036854775808\n", "followers out of range"),
    (f"2026-05-02,bad5@example.org,like,in,,{MAX_FOLLOWERS + 1}\n", "followers out of range"),
    ("2026-05-02,bad6@example.org,like,in,1e7,\n", "weight out of range: '1e7'"),
    ("2026-05-02,bad7@example.org,like,in,-inf,\n", "weight is not a finite number"),
]


def _import(capsys: pytest.CaptureFixture[str], fmt: str, path: Path, db: str,
            *extra: str) -> dict[str, object]:  # fmt: skip
    r = run(capsys, "import", fmt, str(path), "--db", db, "--json", *extra)
    assert r.code == 0, r.err
    result: dict[str, object] = json.loads(r.out)
    return result


def _people_and_person_work(capsys: pytest.CaptureFixture[str], db: str, ref: str) -> None:
    people = run(capsys, "people", "--db", db, "--json", "--now", "2026-06-01")
    assert people.code == 0, people.err
    assert json.loads(people.out)
    person = run(capsys, "person", ref, "--db", db, "--json", "--now", "2026-06-01")
    assert person.code == 0, person.err
    assert json.loads(person.out)["timeline"]


def test_csv_rows_out_of_range_are_quarantined_and_the_rest_imported(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "times.csv"
    f.write_text(CSV_HEADER + GOOD_CSV_ROW + "".join(row for row, _ in BAD_CSV_ROWS))
    out = _import(capsys, "csv", f, db_url)
    assert (out["imported"], out["quarantined"]) == (1, len(BAD_CSV_ROWS))
    errors = out["errors"]
    assert isinstance(errors, list)
    assert [(e["file"], e["line"]) for e in errors] == [
        (str(f), line) for line in range(3, 3 + len(BAD_CSV_ROWS))
    ]
    for error, (_, reason) in zip(errors, BAD_CSV_ROWS, strict=True):
        assert reason in error["reason"]
    again = _import(capsys, "csv", f, db_url)
    assert (again["imported"], again["duplicates"]) == (0, 1)
    with open_store(db_url) as store, store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Activity)) == 1
        assert s.scalar(select(func.max(Person.followers))) == 120
    _people_and_person_work(capsys, db_url, "ada@example.org")


def test_edge_list_rows_out_of_range_are_quarantined_and_the_rest_imported(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "edges.txt"
    f.write_text(
        "1 2 1 1777000000\n"
        "1 3 1 999999999999\n"
        "1 4 1 99999999999999999999\n"
        f"1 5 {MAX_WEIGHT * 10:.0f} 1777000000\n"
        "1 6 1e400 1777000000\n"
        "2 1 2 1777000100\n"
    )
    out = _import(capsys, "edgelist", f, db_url, "--org", "1")
    assert (out["imported"], out["quarantined"]) == (2, 4)
    errors = out["errors"]
    assert isinstance(errors, list)
    assert [(e["line"], e["reason"].split(":")[0]) for e in errors] == [
        (2, "time out of range"), (3, "time out of range"),
        (4, "weight out of range"), (5, "weight is not a finite number"),
    ]  # fmt: skip
    _people_and_person_work(capsys, db_url, "other:2")


def test_record_at_out_of_range_is_one_line_and_stores_nothing(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for args in (
        ["--at", "0001-01-01T00:00:00+01:00"],
        ["--at", "1800-01-01"],
        ["--now", "9999-12-31T23:59:59"],
        ["--weight", "inf"],
        ["--weight", "1e9"],
    ):
        r = run(capsys, "record", "in", "ada@example.org", "comment", "--db", db_url, *args)
        assert r.code == 1, (args, r.out)
        assert "out of range" in r.err or "not a finite number" in r.err, r.err
        assert "Traceback" not in r.err and len(r.err.strip().splitlines()) == 1
    with open_store(db_url) as store, store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Activity)) == 0


def test_now_out_of_range_on_commands_and_in_the_environment(
    sqlite_store: object, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    db = str(tmp_path / "karmabank.db")
    for command in (["people"], ["status"], ["nurture"], ["rescore"]):
        r = run(capsys, *command, "--db", db, "--now", "0001-01-02T00:00:00Z")
        assert r.code == 1 and r.err.startswith("error: --now out of range"), (command, r.err)
    monkeypatch.setenv("KARMABANK_NOW", "99999-01-01")
    r = run(capsys, "people", "--db", db)
    assert r.code == 1 and r.err.startswith("error: --now: '99999-01-01' is not an ISO-8601")
    monkeypatch.setenv("KARMABANK_NOW", "2200-01-01T00:00:00Z")
    r = run(capsys, "people", "--db", db)
    assert r.code == 1 and r.err.startswith("error: --now out of range"), r.err


def test_snooze_days_past_the_bound_is_one_line(
    sqlite_store: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "karmabank.db")
    for days in ("3651", str(10**20), "0"):
        r = run(capsys, "nurture", "snooze", "1", "--days", days, "--db", db)
        assert r.code == 1, r.out
        assert r.err.strip() == f"error: --days must be from 1 to 3650, not {days}"


@pytest.fixture
def client(db_url: str) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with open_store(db_url) as store:
        add_user(store=store, email="org@example.org", role=Role.ORGANIZER.value, now=NOW,
                 password="correct horse battery staple", actor="test")  # fmt: skip
        token = new_token(store=store, email="org@example.org", now=NOW)[1]
    app = create_app(WebSettings(db=db_url, now=NOW))
    with TestClient(app, follow_redirects=False) as c:
        yield c, {"Authorization": f"Bearer {token}"}


def test_api_times_and_snooze_days_out_of_range_are_4xx(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    c, auth = client
    for value in ("0001-01-02T00:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31", "1899-01-01"):
        r = c.get("/api/people", params={"now": value}, headers=auth)
        assert r.status_code == 400, (value, r.text)
        assert r.json()["detail"].startswith("now out of range: "), r.text
        body = {"direction": "in", "person": "ada@example.org", "verb": "comment", "at": value}
        r = c.post("/api/activities", json=body, headers=auth)
        assert r.status_code == 400 and "at out of range" in r.json()["detail"], r.text
    r = c.post("/api/nurture/1/snooze", params={"days": 10**20}, headers=auth)
    assert r.status_code == 422, r.text
    r = c.post("/api/nurture/1/snooze", params={"days": 3651}, headers=auth)
    assert r.status_code == 422, r.text
    assert c.get("/api/people", headers=auth).json()["items"] == []


def test_a_snooze_from_the_last_supported_day_is_stored_and_shown(
    client: tuple[TestClient, dict[str, str]], db_url: str
) -> None:
    c, auth = client
    late = "2199-12-31T00:00:00Z"
    body = {"direction": "in", "person": "ada@example.org", "verb": "comment", "at": late}
    assert c.post("/api/activities", json=body, headers=auth,
                  params={"now": late}).status_code == 201  # fmt: skip
    queue = c.get("/api/nurture", params={"now": late}, headers=auth)
    assert queue.status_code == 200, queue.text
    (item,) = queue.json()
    r = c.post(f"/api/nurture/{item['id']}/snooze", params={"days": 3650, "now": late},
               headers=auth)  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["snoozed_until"].startswith("2209-12-")
    assert c.get("/api/people/ada@example.org", params={"now": late},
                 headers=auth).status_code == 200  # fmt: skip


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("KARMABANK_RHYTHM_DORMANT_DAYS", "1000000000", "rhythm.dormant_days must be from 0 to"),
        ("KARMABANK_NURTURE_SHARE_WINDOW_DAYS", "-1", "nurture.share_window_days must be from"),
        ("KARMABANK_WARMTH_DECAY_DAYS", "nan", "warmth.decay_days must be a finite number"),
        ("KARMABANK_RESCORE_STALE_AFTER_MINUTES", "inf", "must be a finite number"),
        ("KARMABANK_WARMTH_WEIGHTS", '{"like": 1e300}', "warmth.weights: weights must be within"),
    ],
)
def test_measure_settings_windows_and_numbers_are_bounded(
    sqlite_store: object, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, reason: str,
) -> None:  # fmt: skip
    """A window of a billion days made `now - window` overflow (a traceback), NaN reached SQL."""
    monkeypatch.setenv(name, value)
    r = run(capsys, "people", "--db", str(tmp_path / "karmabank.db"), "--now", "2026-06-01")
    assert r.code == 1 and r.err.startswith("error: measure settings: ") and reason in r.err
    assert len(r.err.strip().splitlines()) == 1, r.err


def test_backtest_horizon_past_a_century_is_one_line(
    sqlite_store: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--horizon 100000000000` overflowed `cutoff + horizon` with a traceback."""
    db = str(tmp_path / "karmabank.db")
    f = tmp_path / "a.csv"
    f.write_text(CSV_HEADER + GOOD_CSV_ROW + "2026-07-03T10:00:00Z,bo@example.org,like,in,,\n")
    assert run(capsys, "import", "csv", str(f), "--db", db).code == 0
    r = run(capsys, "backtest", "--db", db, "--cutoff", "2026-06-01", "--horizon", "100000000000")
    assert r.code == 1, r.out
    assert r.err.strip() == "error: backtest: --horizon must be at most 36,525 days"


class _ThirdPartySource:
    """An importer that builds its rows itself (no `parse_time`): the rule holds for it too."""

    name: ClassVar[str] = "thirdparty"
    description: ClassVar[str] = "rows with raw microseconds"
    option_names: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, options: Mapping[str, str]) -> None:
        pass

    def organization_identities(self) -> list[IdentityKey]:
        return []

    def read(self, file: InputFile) -> Iterator[SourceItem]:
        ok = 1_777_000_000 * 10**6
        for line, (at, weight, followers) in enumerate([
            (ok, 2.0, 10), (LATEST_US, None, None), (EARLIEST_US - 1, None, None),
            (2**62, None, None), (ok + 1, math.inf, None), (ok + 2, None, 2**63),
        ], start=2):  # fmt: skip
            who = IdentityKey("email", f"p{line}@example.org")
            yield ParsedRow(line, f"tp:{line}", at, who, "comment", "in", "email",
                            weight=weight, followers=followers)  # fmt: skip


def test_rows_of_any_source_outside_the_bounds_are_quarantined(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "load", lambda name, options: _ThirdPartySource(options))
    f = tmp_path / "rows.txt"
    f.write_text("header\n" + "row\n" * 6)
    report = import_files(store=store, fmt="thirdparty", paths=[f], options={}, now=NOW)
    assert (report.imported, report.quarantined) == (1, 5)
    assert [(e.line, e.reason.split(":")[0]) for e in report.errors] == [
        (3, "occurred_at (microseconds) out of range"),
        (4, "occurred_at (microseconds) out of range"),
        (5, "occurred_at (microseconds) out of range"),
        (6, "weight is not a finite number"),
        (7, "followers out of range"),
    ]
    with store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Activity)) == 1
        assert s.scalar(select(func.max(Person.followers))) == 10


def test_a_time_stored_before_the_checks_is_one_line_not_a_traceback(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A database filled by an older karmabank can hold year 9999+ times: every read that
    meets one says so in one line (CLI exit 1, API 400) instead of an OverflowError."""
    f = tmp_path / "a.csv"
    f.write_text(CSV_HEADER + GOOD_CSV_ROW)
    _import(capsys, "csv", f, db_url)
    with open_store(db_url) as store, store.sessions.begin() as s:
        s.execute(text("UPDATE activity SET occurred_at = 300000000000000000"))
    for command in (["people"], ["person", "ada@example.org"], ["status"]):
        r = run(capsys, *command, "--db", db_url, "--now", "2026-06-01")
        assert r.code == 1, (command, r.out)
        assert r.err.startswith("error: the database holds a time no calendar can show"), r.err
        assert len(r.err.strip().splitlines()) == 1, r.err
    with open_store(db_url) as store:
        add_user(store=store, email="org@example.org", role=Role.ORGANIZER.value, now=NOW,
                 password="correct horse battery staple", actor="test")  # fmt: skip
        token = new_token(store=store, email="org@example.org", now=NOW)[1]
    with TestClient(create_app(WebSettings(db=db_url, now=NOW))) as c:
        answer = c.get("/api/people", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 400, answer.text
        assert answer.json()["detail"].startswith("the database holds a time no calendar")
