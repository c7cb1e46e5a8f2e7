"""The streamed people listing through the real store on SQLite and PostgreSQL and the real CLI:
the same people, order and JSON as `list_people`; rows written as they are read; nothing cut
in a pipe; TSV for scripts."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from karmabank.actions.importing import import_files
from karmabank.actions.listing import ListedPerson, stream_people
from karmabank.actions.people import flags_set, person_ref_json, set_flag
from karmabank.actions.relationships import list_people, score_json
from karmabank.cli.people_listing import people_listing
from karmabank.measures.settings import MeasureSettings
from karmabank.model import Flag
from karmabank.store.open import Store
from tests.cli_helpers import run
from tests.conftest import NOW

S = MeasureSettings()
LONG = "Maximiliane Wilhelmina Theodora von Habsburg-Lothringen"  # 55 characters


@pytest.fixture
def listed(store: Store, tmp_path: Path) -> Store:
    rows = ["occurred_at,person,name,verb,direction,channel"]
    for i in range(12):
        for k in range(i + 1):
            rows.append(f"2026-0{1 + k % 9}-1{i % 9}T10:00:00Z,p{i}@example.org,Person {i},"
                        "comment,in,blog")  # fmt: skip
    rows.append(f"2026-05-01T10:00:00Z,long@example.org,{LONG},donate,in,donations")
    rows.append("2026-05-02T10:00:00Z,given@example.org,,thank,give,email")
    f = tmp_path / "people.csv"
    f.write_text("\n".join(rows) + "\n")
    import_files(store=store, fmt="csv", paths=[f], options={}, now=NOW)
    set_flag(store=store, ref="long@example.org", flag=Flag.DO_NOT_CONTACT, on=True, now=NOW,
             actor="test")  # fmt: skip
    set_flag(store=store, ref="p3@example.org", flag=Flag.TEAM, on=True, now=NOW, actor="test")
    return store


def _old_json(store: Store, **options: object) -> list[dict[str, object]]:
    """What `people --json` printed before it streamed: `list_people`, one object a person."""
    return [
        {**person_ref_json(r.person), **score_json(r.score), "activities": r.activities,
         "last_seen": None if r.last_seen is None else r.last_seen.isoformat(),
         "flags": flags_set(r.person)}
        for r in list_people(store=store, now=NOW, settings=S, limit=100, **options)  # type: ignore[arg-type]
    ]  # fmt: skip


@pytest.mark.parametrize("sort", ["warmth", "tenure", "balance", "silence", "recent"])
def test_the_stream_lists_what_list_people_lists(listed: Store, sort: str) -> None:
    chunks = list(stream_people(store=listed, now=NOW, settings=S, limit=100, sort=sort,
                                details=True, chunk=4))  # fmt: skip
    assert len(chunks) == 4 and [len(c) for c in chunks] == [4, 4, 4, 2]  # 14 people, 4 a chunk
    got = [r.as_json() for c in chunks for r in c]
    assert got == _old_json(listed, sort=sort)
    flagged = next(r for r in got if r["name"] == LONG)
    assert flagged["flags"] == ["do_not_contact"]


def test_filters_and_limit_are_the_listings(listed: Store) -> None:
    for options in ({"flag": Flag.TEAM}, {"query": "person 1"}, {"circle": "core"}):
        chunks = stream_people(store=listed, now=NOW, settings=S, limit=100, details=True,
                               **options)  # fmt: skip
        got = [r.as_json() for c in chunks for r in c]
        assert got == _old_json(listed, **options)
    few = list(stream_people(store=listed, now=NOW, settings=S, limit=3))
    assert [len(c) for c in few] == [3]


def test_rows_are_written_as_they_are_read(listed: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each chunk is on stdout before the next one is read from the database."""
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    written_before: list[int] = []

    def watched() -> Iterator[list[ListedPerson]]:
        for chunk in stream_people(store=listed, now=NOW, settings=S, limit=100, chunk=5):
            written_before.append(out.getvalue().count("\n"))
            yield chunk

    assert people_listing(watched(), terminal=False) == 14
    assert written_before == [0, 6, 11]  # header + 5 rows, then 5 more, before each next read
    assert out.getvalue().count("\n") == 15


def test_a_pipe_gets_every_column_whole(listed: Store, capsys: pytest.CaptureFixture[str]) -> None:
    """Piped (not a terminal) at 80 columns: no header or value is cut ("war…", "balan…")."""
    db = listed.url
    r = run(capsys, "people", "--db", db, "--now", NOW.isoformat(), width=80)
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0].split() == ["id", "name", "circle", "status", "warmth", "balance", "stage",
                                "flags"]  # fmt: skip
    long_line = next(line for line in lines if LONG in line)
    assert long_line.endswith("do_not_contact") and len(long_line) > 80
    assert "…" not in r.out
    given = next(line for line in lines if "given@example.org" in line)
    assert given.split()[2:] == ["—", "—", "0.0", "2", "—"]  # we gave 2, they never came


def test_a_terminal_cuts_long_names_only(listed: Store) -> None:
    rows = [r for c in stream_people(store=listed, now=NOW, settings=S, limit=100) for r in c]
    out = io.StringIO()
    real, sys.stdout = sys.stdout, out
    try:
        people_listing(iter([rows]), terminal=True)
    finally:
        sys.stdout = real
    text = out.getvalue()
    assert LONG not in text and LONG[:25] + "…" in text


def test_tsv_and_json_stream(listed: Store, capsys: pytest.CaptureFixture[str]) -> None:
    db, now = listed.url, NOW.isoformat()
    tsv = run(capsys, "people", "--db", db, "--now", now, "--tsv").out.splitlines()
    assert tsv[0] == "id\tname\tcircle\tstatus\twarmth\tbalance\tstage\tflags"
    cells = [line.split("\t") for line in tsv[1:]]
    assert len(cells) == 14 and all(len(c) == 8 for c in cells)
    assert next(c for c in cells if c[1] == LONG)[7] == "do_not_contact"
    given = next(c for c in cells if c[1] == "given@example.org")
    assert given[2:8] == ["", "", "0.0", "2", "", ""]
    shown = run(capsys, "people", "--db", db, "--now", now, "--json").out
    expected = _old_json(listed)
    assert shown == json.dumps(expected, indent=2, ensure_ascii=False) + "\n"
    empty = run(capsys, "people", "--db", db, "--now", now, "--json", "--stage", "leader").out
    assert empty == "[]\n"
    nobody = run(capsys, "people", "--db", db, "--now", now, "--tsv", "--stage", "leader").out
    assert nobody == tsv[0] + "\n"


def _plan(store: Store, statement: object) -> str:
    """The database's plan of `statement`, as text (EXPLAIN QUERY PLAN / EXPLAIN)."""
    from sqlalchemy import text

    with store.engine.connect() as conn:
        sql = str(statement.compile(conn.engine, compile_kwargs={"literal_binds": True}))  # type: ignore[attr-defined]
        if conn.dialect.name == "sqlite":
            return "\n".join(str(r[3]) for r in conn.execute(text("EXPLAIN QUERY PLAN " + sql)))
        conn.execute(text("SET enable_seqscan = off"))  # a few rows: plan as for a million
        conn.execute(text("SET enable_sort = off"))
        return "\n".join(str(r[0]) for r in conn.execute(text("EXPLAIN " + sql)))


def test_the_default_listing_walks_the_warmth_index(listed: Store) -> None:
    """Warmest first with no filter: read off ix_person_score_warmth (migration 0009), no sort
    of every score; the rest (not scored) by id; a filter keeps sorting its few matches."""
    from karmabank.actions.listing import listing_parts, people_select, walks_index
    from karmabank.store.tables import Person, PersonScore

    options = {"query": None, "flag": None, "circle": None, "status": None, "stage": None}
    assert walks_index(**options, sort="warmth")
    assert not walks_index(**{**options, "circle": "core"}, sort="warmth")  # type: ignore[arg-type]
    assert not walks_index(**options, sort="tenure")
    known, _ = listing_parts(limit=10, **options, sort="warmth",
                             columns=(Person.id, PersonScore.warmth))  # fmt: skip
    plan = _plan(listed, known)
    assert "ix_person_score_warmth" in plan
    assert "TEMP B-TREE" not in plan and not any(
        line.strip().startswith(("Sort", "->  Sort")) for line in plan.splitlines()
    )
    filtered = _plan(listed, people_select(limit=10, **{**options, "circle": "core"},  # type: ignore[arg-type]
                                           sort="warmth"))  # fmt: skip
    if listed.engine.dialect.name == "sqlite":
        assert "ix_person_score_warmth" not in filtered


def test_the_rescore_keeps_the_warmth_index(listed: Store) -> None:
    """The rescore drops the index on SQLite before its bulk write and builds it again."""
    from sqlalchemy import inspect

    from karmabank.actions.scoring import rescore

    rescore(store=listed, now=NOW, settings=S)
    with listed.engine.connect() as conn:
        names = {i["name"] for i in inspect(conn).get_indexes("person_score")}
    assert "ix_person_score_warmth" in names
    few = [r.id for c in stream_people(store=listed, now=NOW, settings=S, limit=100) for r in c]
    assert few == [r["id"] for r in _old_json(listed)]


def test_fresh_scores_load_no_rescore_modules(listed: Store) -> None:
    """`people` on fresh scores imports neither Arrow, DuckDB, NumPy nor the measures: the
    freshness check is `actions.freshness`, the rescore's modules load when it runs."""
    import subprocess

    list(stream_people(store=listed, now=NOW, settings=S, limit=1))  # scores now fresh
    code = f"""
import sys
from karmabank.cli import main
try:
    main(["people", "--db", {listed.url!r}, "--now", {NOW.isoformat()!r}, "--limit", "3"])
except SystemExit as e:
    assert not e.code, e.code
heavy = [m for m in ("pyarrow", "duckdb", "numpy", "karmabank.actions.scoring",
                     "karmabank.measures.network") if m in sys.modules]
print("HEAVY", heavy)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout  # fmt: skip
    assert "HEAVY []" in out, out
