"""Fuzzed imports (issue 13, item 1): random CSV and edge-list rows, with random times, counts,
weights and text, imported on a real SQLite file through the real command line. No row may
raise an unexpected exception (a bad row is quarantined, a bad file is one line and exit 1),
a re-run imports nothing twice, nothing outside `karmabank.bounds` is stored, and afterwards
`people --json`, `person`, the API's /api/people and the person's page all work.

Deterministic (`derandomize=True`) so CI is stable; about 20 s of CPU each (20 examples)."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from karmabank.actions.accounts import add_user, new_token
from karmabank.bounds import EARLIEST_US, LATEST_US, MAX_FOLLOWERS, MAX_WEIGHT
from karmabank.store.open import open_store
from karmabank.web import WebSettings, create_app
from tests.cli_helpers import run
from tests.conftest import NOW

PASSWORD = "correct horse battery staple"
NOW_ARG = NOW.isoformat()
FUZZ = settings(
    max_examples=20, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip

# -- what a row may hold -------------------------------------------------------------------

_EDGES = [
    "0", "-0", "1", "999999999999", "253402300800", "1" + "0" * 19, "9" * 20, "9" * 400,
    "-2208988800", "-2208988801", "7258118399", "7258118400", "1777000000", "1777000000000",
    "1e300", "-1e300", "nan", "inf", "-inf", "1e-300", "0x10", "1_777_000_000",
]  # fmt: skip
_ISO_EDGES = [
    "0001-01-01T00:00:00+01:00", "0001-01-02T00:00:00Z", "9999-12-31T23:59:59-01:00",
    "9999-12-31T23:59:59.999999", "1899-12-31T23:59:59.999999Z", "1900-01-01T00:00:00Z",
    "2199-12-31T23:59:59.999999Z", "2200-01-01T00:00:00Z", "2026-05-01", "2026-05-01T10:00:00",
    "2026-W18-5", "10000-01-01", "2026-02-30",
]  # fmt: skip
_ZONES = [UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12, minutes=-30))]

numeric_words = st.one_of(
    st.sampled_from(_EDGES),
    st.integers(-(10**25), 10**25).map(str),
    st.integers(EARLIEST_US // 10**6 - 100, LATEST_US // 10**6 + 100).map(str),
    st.floats().map(repr),
    st.floats(-1e12, 1e12).map(str),
)
_edge_times = st.sampled_from(_EDGES + _ISO_EDGES)
times = st.one_of(
    _edge_times,
    _edge_times,
    numeric_words,
    st.integers(253402300800, 2**63 // 10**6 + 10).map(str),  # past 9999, within int64 or just not
    st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59),
                 timezones=st.none() | st.sampled_from(_ZONES)).map(datetime.isoformat),
    st.text(max_size=20),
)  # fmt: skip
any_text = st.text(st.characters(codec="utf-8"), max_size=40)
_empty = st.just("")
counts = st.one_of(
    _empty, _empty, st.integers(-5, 2**80).map(str), numeric_words, st.text(max_size=12)
)
weights = st.one_of(_empty, _empty, numeric_words, st.floats(-1e7, 1e7).map(repr),
                    st.text(max_size=12))  # fmt: skip
channels = st.one_of(_empty, _empty, st.sampled_from(["blog", "forum", "email"]), any_text)
_people = st.integers(0, 12).map(lambda n: f"p{n}@example.org")
people = st.one_of(
    _people, _people, st.sampled_from(["mastodon:@ann@social.example", "other:42", "x:someone", "nobody"])
)
# mostly well-formed, so that most rows reach the store and the times and numbers decide
_verbs = st.sampled_from(["comment", "like", "share", "reply", "donate", "Create"])
verbs = st.one_of(_verbs, _verbs, _verbs, st.text(max_size=12))
_directions = st.sampled_from(["in", "give", "ask", "peer", "IN"])
directions = st.one_of(_directions, _directions, _directions, st.text(max_size=5))


@st.composite
def csv_rows(draw: st.DrawFn) -> list[str]:
    person = draw(people)
    direction = draw(directions)
    target = draw(people) if direction == "peer" or draw(st.booleans()) else ""
    return [
        draw(times), person, draw(any_text), draw(verbs), direction, draw(channels),
        draw(any_text), target, draw(weights), draw(counts),
    ]  # fmt: skip


CSV_HEADER = [
    "occurred_at", "person", "name", "verb", "direction", "channel", "text", "target",
    "weight", "followers",
]  # fmt: skip


def csv_file(rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(rows)
    return out.getvalue()


def _word(s: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A field of an edge list: no whitespace in it (fields split on whitespace)."""
    return s.map(lambda w: re.sub(r"\s+", "", w) or "0")


edge_lines = st.lists(
    st.tuples(st.integers(0, 8).map(str), st.integers(0, 8).map(str),
              _word(weights), _word(times)).map(" ".join),
    min_size=3, max_size=30,
)  # fmt: skip


# -- the site the fuzzed data is imported into ---------------------------------------------


@dataclass
class Site:
    db: str
    folder: Path
    client: TestClient
    bearer: dict[str, str]
    files: int = 0

    def write(self, content: str) -> Path:
        self.files += 1
        path = self.folder / f"fuzz-{self.files}.txt"
        path.write_text(content, encoding="utf-8")
        return path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("fuzz")
    db = str(folder / "fuzz.db")
    with open_store(db, create=True) as store:
        add_user(store=store, email="viewer@example.org", role="viewer", now=NOW,
                 password=PASSWORD, actor="test")  # fmt: skip
        token = new_token(store=store, email="viewer@example.org", now=NOW)[1]
    # The app runs (its lifespan entered) only while it answers: an app holding the SQLite
    # file open in this process while the CLI imports into it in the same process is not
    # how karmabank runs (serve and import are two processes), and fails with "disk I/O".
    client = TestClient(create_app(WebSettings(db=db, now=NOW)), follow_redirects=False)
    with client:
        login = client.get("/login")
        csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', login.text)
        assert csrf is not None
        r = client.post("/login", data={"email": "viewer@example.org", "password": PASSWORD,
                                        "csrf_token": csrf.group(1), "next": "/"})  # fmt: skip
        assert r.status_code == 303, r.text
    yield Site(db, folder, client, {"Authorization": f"Bearer {token}"})


def import_and_check(site: Site, capsys: pytest.CaptureFixture[str], path: Path,
                     fmt: str, *options: str) -> None:  # fmt: skip
    args = ("import", fmt, str(path), "--db", site.db, "--json", *options)
    first = run(capsys, *args)
    if first.code != 0:  # a file refused as a whole: one line, nothing imported
        assert first.code == 1 and first.err.startswith("error: "), first.err
        assert len(first.err.strip().splitlines()) == 1, first.err
        return
    report = json.loads(first.out)
    for error in report["errors"]:
        assert error["file"] == str(path) and error["line"] >= 1 and error["reason"]
    again = run(capsys, *args)
    assert again.code == 0, again.err
    assert json.loads(again.out)["imported"] == 0  # a re-run imports nothing twice
    check_stored_values(site.db)
    check_reads(site, capsys)


def check_stored_values(db: str) -> None:
    with open_store(db) as store, store.sessions() as s:
        low, high = s.execute(text("SELECT min(occurred_at), max(occurred_at) FROM activity")).one()
        if low is not None:
            assert EARLIEST_US <= low and high < LATEST_US
        for (w,) in s.execute(text("SELECT weight FROM activity WHERE weight IS NOT NULL")):
            assert math.isfinite(w) and abs(w) <= MAX_WEIGHT
        top = s.execute(text("SELECT max(followers) FROM person")).scalar()
        assert top is None or 0 <= top <= MAX_FOLLOWERS


def check_reads(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    listing = run(capsys, "people", "--db", site.db, "--json", "--now", NOW_ARG)
    assert listing.code == 0, listing.err
    recent = run(capsys, "people", "--db", site.db, "--json", "--now", NOW_ARG,
                 "--sort", "recent", "--limit", "2")  # fmt: skip
    assert recent.code == 0, recent.err
    for row in json.loads(recent.out):  # the latest times are the likeliest to break a page
        ref = row["identities"][0] if row["identities"] else str(row["id"])
        person = run(capsys, "person", ref, "--db", site.db, "--json", "--now", NOW_ARG)
        assert person.code == 0, person.err
        assert json.loads(person.out)["id"] == row["id"]
    with site.client as web:
        api = web.get("/api/people", headers=site.bearer)
        assert api.status_code == 200, api.text
        for row in json.loads(recent.out):
            page = web.get(f"/people/{row['id']}")
            assert page.status_code == 200, page.text[:300]
            assert web.get(f"/api/people/{row['id']}", headers=site.bearer).status_code == 200


@pytest.mark.slow
@FUZZ
@given(rows=st.lists(csv_rows(), min_size=3, max_size=30))
def test_fuzzed_csv_imports_never_crash_or_store_out_of_range(
    site: Site, capsys: pytest.CaptureFixture[str], rows: list[list[str]]
) -> None:
    import_and_check(site, capsys, site.write(csv_file(rows)), "csv")


@pytest.mark.slow
@FUZZ
@given(lines=edge_lines, columns=st.sampled_from(["", "src,dst,weight,time"]))
def test_fuzzed_edge_lists_never_crash_or_store_out_of_range(
    site: Site, capsys: pytest.CaptureFixture[str], lines: list[str], columns: str
) -> None:
    options = ["--org", "0"] + (["--columns", columns] if columns else [])
    import_and_check(site, capsys, site.write("\n".join(lines) + "\n"), "edgelist", *options)
