"""Files that break importers, on a real SQLite file and a real PostgreSQL: damaged gzip,
wrong encodings, unbalanced quotes, NUL bytes, non-finite weights, huge values. Each keeps
the good rows, quarantines the bad one with file, line and a clear reason, and re-runs
import nothing twice."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from karmabank.actions.importing import ImportReport, import_files
from karmabank.errors import ConfigError, InputFileError
from karmabank.sources.limits import MAX_IDENTITY_BYTES, MAX_NAME, MAX_RAW, MAX_TEXT
from karmabank.store.open import Store
from karmabank.store.tables import Activity, Identity, ImportRun, Person, Quarantine
from tests.cli_helpers import run
from tests.conftest import NOW

HEADER = "occurred_at,person,name,verb,direction,text\n"


def load(store: Store, path: Path, fmt: str = "csv", **options: str) -> ImportReport:
    encoding = options.pop("encoding", None)
    return import_files(
        store=store, fmt=fmt, paths=[path], options=options, now=NOW, encoding=encoding
    )


def quarantined(store: Store) -> list[tuple[int, str, str]]:
    with store.sessions() as s:
        rows = s.execute(select(Quarantine.line, Quarantine.raw, Quarantine.reason)
                         .order_by(Quarantine.line)).all()  # fmt: skip
        return [(line, raw, reason) for line, raw, reason in rows]


def count(store: Store, model: type) -> int:
    with store.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def names(store: Store) -> list[str]:
    with store.sessions() as s:
        return sorted(n for n in s.scalars(select(Person.name)) if n is not None)


def csv_rows(n: int) -> str:
    return HEADER + "".join(f"{1_300_000_000 + i},other:{i % 97},,like,in,\n" for i in range(n))


def edge_rows(n: int) -> str:
    return "".join(f"{i % 97 + 1} {i % 89 + 200} {1_300_000_000 + i}\n" for i in range(n))


def assert_run_consistent(store: Store, report: ImportReport) -> None:
    with store.sessions() as s:
        run_ = s.get(ImportRun, report.run_id)
        assert run_ is not None and run_.status == "done"
        assert (run_.rows_read, run_.imported, run_.quarantined) == (
            report.rows_read, report.imported, report.quarantined,
        )  # fmt: skip


# --- damaged gzip ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "edgelist"])
def test_a_truncated_gzip_keeps_every_row_before_the_damage(
    store: Store, tmp_path: Path, fmt: str
) -> None:
    text = csv_rows(20_000) if fmt == "csv" else edge_rows(20_000)
    packed = gzip.compress(text.encode())
    f = tmp_path / f"cut.{fmt}.gz"
    f.write_bytes(packed[: len(packed) - 300])  # the end of the compressed data is lost
    report = load(store, f, fmt)
    ((line, raw, reason),) = quarantined(store)
    assert reason == "the file ends in the middle of its compressed data (a truncated gzip)"
    assert raw == ""
    header = 1 if fmt == "csv" else 0
    # every complete line before the one where reading broke was imported
    assert report.imported == line - 1 - header and report.imported > 19_000
    assert report.errors[0].file == str(f) and report.errors[0].line == line
    assert count(store, Activity) == report.imported
    assert_run_consistent(store, report)
    again = load(store, f, fmt)
    assert (again.imported, again.duplicates) == (0, report.imported)
    assert count(store, Quarantine) == 1


@pytest.mark.parametrize("fmt", ["csv", "edgelist"])
def test_a_bad_crc_keeps_the_rows_and_says_the_file_is_damaged(
    store: Store, tmp_path: Path, fmt: str
) -> None:
    text = csv_rows(20_002) if fmt == "csv" else edge_rows(20_002)
    packed = bytearray(gzip.compress(text.encode()))
    packed[-8] ^= 0xFF  # the CRC of the trailer
    f = tmp_path / f"crc.{fmt}.gz"
    f.write_bytes(bytes(packed))
    report = load(store, f, fmt)
    assert report.imported == 20_002 and count(store, Activity) == 20_002
    ((line, _, reason),) = quarantined(store)
    assert line == text.count("\n") + 1
    assert reason.startswith("the gzip checksum does not match (CRC check failed")
    assert_run_consistent(store, report)


def test_the_cli_names_the_damaged_file_and_line_in_one_line(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    packed = gzip.compress(csv_rows(20_000).encode())
    f = tmp_path / "cut.csv.gz"
    f.write_bytes(packed[:-300])
    r = run(capsys, "import", "csv", str(f), "--db", db_url)
    assert r.code == 0 and r.err == "" and "Aborted" not in r.out
    summary, damage = r.out.splitlines()
    assert summary.endswith("1 quarantined (" + summary.split("(")[1])
    line = int(damage.split(":")[1])
    assert damage == (
        f"  {f}:{line}: the file ends in the middle of its compressed data (a truncated gzip)"
    )


def test_the_damage_is_said_after_many_bad_rows_and_in_json(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = HEADER + "yesterday,ada@example.org,,like,in,\n" * 30 + csv_rows(20_000)[len(HEADER) :]
    packed = gzip.compress(text.encode())
    f = tmp_path / "cut.csv.gz"
    f.write_bytes(packed[:-300])
    shown = run(capsys, "import", "csv", str(f), "--db", db_url).out.splitlines()
    assert shown[-2] == "  ... 11 more in quarantine"
    assert shown[-1].startswith(f"  {f}:") and shown[-1].endswith("(a truncated gzip)")
    report = json.loads(run(capsys, "import", "csv", str(f), "--db", db_url, "--json").out)
    (damaged,) = report["damaged"]
    assert damaged["file"] == str(f) and damaged["reason"].endswith("(a truncated gzip)")
    assert report["quarantined"] == 31 and report["imported"] == 0


def test_a_gzip_cut_inside_its_header_is_damaged_at_line_1(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "stub.csv.gz"
    f.write_bytes(gzip.compress(csv_rows(10).encode())[:5])
    report = load(store, f)
    assert (report.imported, report.quarantined) == (0, 1)
    assert [(e.line, e.reason) for e in report.damaged] == [
        (1, "the file ends in the middle of its compressed data (a truncated gzip)")
    ]


# --- encodings ------------------------------------------------------------------------------


def test_latin1_is_quarantined_with_a_hint_then_read_with_encoding(
    store: Store, tmp_path: Path
) -> None:
    f = tmp_path / "latin1.csv"
    f.write_bytes(
        (HEADER + "2026-05-01,ada@example.org,Renée,like,in,\n"
         "2026-05-02,bob@example.org,Bob,like,in,Très bien\n"
         "2026-05-03,carol@example.org,Carol,like,in,\n").encode("latin-1")
    )  # fmt: skip
    report = load(store, f)
    assert report.imported == 1 and names(store) == ["Carol"]
    assert [(e.line, e.reason) for e in report.errors] == [
        (2, "name holds the byte 0xE9 (at character 4), which is not valid UTF-8: if the file is "
            "Latin-1 or Windows-1252, import it with --encoding cp1252 (or the file's encoding)"),
        (3, "text holds the byte 0xE8 (at character 3), which is not valid UTF-8: if the file is "
            "Latin-1 or Windows-1252, import it with --encoding cp1252 (or the file's encoding)"),
    ]  # fmt: skip
    assert [raw for _, raw, _ in quarantined(store)] == [
        "2026-05-01,ada@example.org,Ren\\xe9e,like,in,",
        "2026-05-02,bob@example.org,Bob,like,in,Tr\\xe8s bien",
    ]
    with store.sessions() as s:  # nothing stored with a replacement character
        assert not any("\ufffd" in (n or "") for n in s.scalars(select(Person.name)))
    fixed = load(store, f, encoding="cp1252")
    assert (fixed.imported, fixed.duplicates, fixed.quarantined) == (2, 1, 0)
    assert names(store) == ["Bob", "Carol", "Renée"]
    with store.sessions() as s:
        assert "Très bien" in s.scalars(select(Activity.text)).all()


def test_edge_list_node_ids_in_another_encoding_are_quarantined(
    store: Store, tmp_path: Path
) -> None:
    f = tmp_path / "e.txt"
    f.write_bytes(b"1 2 1300000000\nJos\xe9 2 1300000001\n3 2 1300000002\n")
    report = load(store, f, "edgelist")
    assert report.imported == 2
    assert [(e.line, e.reason.split(",")[0]) for e in report.errors] == [
        (2, "person holds the byte 0xE9 (at character 4)")
    ]
    assert quarantined(store)[0][1] == "Jos\\xe9 2 1300000001"


def test_utf16_and_utf8_with_a_byte_order_mark_are_decoded(store: Store, tmp_path: Path) -> None:
    rows = HEADER + "2026-05-01,ada@example.org,Zoë,like,in,\n"
    sixteen, eight = tmp_path / "u16.csv", tmp_path / "bom.csv"
    sixteen.write_bytes(rows.encode("utf-16"))  # with its byte-order mark
    eight.write_bytes(rows.replace("ada@", "bea@").encode("utf-8-sig"))
    assert load(store, sixteen).imported == 1
    assert load(store, eight).imported == 1
    assert names(store) == ["Zoë", "Zoë"] and count(store, Quarantine) == 0
    edges = tmp_path / "e16.txt"  # a mark is read as a mark, with or without --encoding
    edges.write_bytes("1 2 1300000000\n".encode("utf-16"))
    again = tmp_path / "e16-again.txt"
    again.write_bytes("1 3 1300000001\n".encode("utf-16"))
    assert load(store, edges, "edgelist").imported == 1
    assert load(store, again, "edgelist", encoding="utf-16-le").imported == 1
    with store.sessions() as s:
        assert sorted(s.scalars(select(Identity.key).where(Identity.platform == "other"))) == [
            "1", "2", "3",
        ]  # fmt: skip


def test_utf16_without_a_mark_is_refused_naming_the_encoding(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "u16le.csv"
    f.write_bytes((HEADER + "2026-05-01,ada@example.org,Zoë,like,in,\n").encode("utf-16-le"))
    with pytest.raises(InputFileError, match=r"looks like UTF-16-LE without a byte-order mark"):
        load(store, f)
    assert count(store, ImportRun) == 0
    r = run(capsys, "import", "csv", str(f), "--db", str(tmp_path / "k.db"))
    assert (r.code, r.out) == (1, "")
    assert r.err == (
        f"error: {f}: looks like UTF-16-LE without a byte-order mark (every other byte is NUL); "
        "import it with --encoding utf-16-le\n"
    )
    assert load(store, f, encoding="utf-16-le").imported == 1 and names(store) == ["Zoë"]


def test_an_unknown_encoding_or_a_contradicting_mark_is_one_clear_error(
    store: Store, tmp_path: Path
) -> None:
    f = tmp_path / "bom.csv"
    f.write_bytes((HEADER + "2026-05-01,ada@example.org,Zoë,like,in,\n").encode("utf-8-sig"))
    with pytest.raises(ConfigError, match="--encoding: unknown text encoding 'klingon'"):
        load(store, f, encoding="klingon")
    with pytest.raises(InputFileError, match="UTF-8 byte-order mark, so it is UTF-8, not cp1252"):
        load(store, f, encoding="cp1252")
    assert count(store, ImportRun) == 0


# --- unbalanced quotes ----------------------------------------------------------------------


def test_an_unbalanced_quote_quarantines_only_its_line(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "quote.csv"
    f.write_text(
        HEADER
        + '2026-05-01,ada@example.org,Ada,comment,in,"hello\n'  # never closed
        + "".join(f"2026-05-0{i},p{i}@example.org,P{i},like,in,\n" for i in range(2, 6))
        + '2026-05-06,bob@example.org,"Bob ""B"" Jones",comment,in,"two\nlines, quoted"\n'
        + '2026-05-07,cy@example.org,"Cy,like,in,\n'  # opened mid-row, swallows to the end
        + "2026-05-08,dee@example.org,Dee,like,in,\n"
        + "2026-05-09,eve@example.org,Eve,like,in,\n"
    )
    report = load(store, f)
    bad = [(e.line, e.reason) for e in report.errors]
    assert [line for line, _ in bad] == [2, 9]
    assert all(reason.startswith("unbalanced quote: a quoted field opened on this line")
               for _, reason in bad)  # fmt: skip
    assert quarantined(store)[0][1] == '2026-05-01,ada@example.org,Ada,comment,in,"hello'
    assert names(store) == ['Bob "B" Jones', "Dee", "Eve", "P2", "P3", "P4", "P5"]
    with store.sessions() as s:  # a quoted field over two lines is still one field
        assert "two\nlines, quoted" in s.scalars(select(Activity.text)).all()
    assert report.imported == 7 and report.rows_read == 9


# --- NUL bytes ------------------------------------------------------------------------------


def test_nul_bytes_are_quarantined_the_same_on_both_backends(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "nul.csv"
    f.write_text(
        HEADER + "2026-05-01,ada@example.org,A\x00da,like,in,\n"
        "2026-05-02,bob@example.org,Bob,like,in,hi\x00\n"
        "2026-05-03,carol@example.org,Carol,like,in,\n"
    )
    e = tmp_path / "nul.txt"
    e.write_text("1 2 1300000000\n3\x00 2 1300000001\n")
    report = load(store, f)
    assert report.imported == 1 and names(store) == ["Carol"]
    assert [(x.line, x.reason) for x in report.errors] == [
        (2, "name contains a NUL character (\\x00) at character 2: text never holds one "
            "(is this a binary or UTF-16 file?)"),
        (3, "text contains a NUL character (\\x00) at character 3: text never holds one "
            "(is this a binary or UTF-16 file?)"),
    ]  # fmt: skip
    edges = load(store, e, "edgelist")
    assert (edges.imported, edges.quarantined) == (1, 1)
    assert [raw for _, raw, _ in quarantined(store)] == [
        "2026-05-01,ada@example.org,A\\x00da,like,in,",
        "3\\x00 2 1300000001",
        "2026-05-02,bob@example.org,Bob,like,in,hi\\x00",
    ]


# --- numbers and sizes ----------------------------------------------------------------------


def test_edge_list_weights_must_be_finite_like_csv(
    store: Store, tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "w.txt"
    f.write_text(
        "2 1 1 1300000000\n3 1 nan 1300000001\n4 1 inf 1300000002\n5 1 -Infinity 1300000003\n"
        "6 1 2.5 1300000004\n"
    )
    r = run(capsys, "import", "edgelist", str(f), "--org", "1", "--db", db_url, "--json")
    report = json.loads(r.out)
    assert (r.code, report["imported"], report["quarantined"]) == (0, 2, 3)
    assert [e["line"] for e in report["errors"]] == [2, 3, 4]
    assert all("weight is not a finite number" in e["reason"] for e in report["errors"])
    with store.sessions() as s:
        assert sorted(w or 0 for w in s.scalars(select(Activity.weight))) == [1.0, 2.5]
    people = run(capsys, "people", "--db", db_url, "--json", "--now", "2011-06-01T00:00:00Z")
    assert people.code == 0 and "Infinity" not in people.out and "NaN" not in people.out
    warmth = {p["identities"][0]: p["warmth"] for p in json.loads(people.out)}
    assert warmth.keys() == {"other:2", "other:6"} and all(0 < w < 100 for w in warmth.values())


def test_values_longer_than_their_maximum_are_quarantined(store: Store, tmp_path: Path) -> None:
    huge = "7" * 5_000_000  # a 5 MB node id
    e = tmp_path / "huge.txt"
    e.write_text(f"1 2 1300000000\n{huge} 2 1300000001\n3 2 1300000002\n")
    report = load(store, e, "edgelist")
    assert report.imported == 2
    (error,) = report.errors
    assert (error.line, error.reason) == (
        2, f"person identity is too long: 5,000,000 bytes of UTF-8 (at most 2,048): '{huge[:20]}…'",
    )  # fmt: skip
    raw = quarantined(store)[0][1]
    assert raw.startswith("7777") and len(raw) < MAX_RAW + 100
    with store.sessions() as s:
        assert max(len(k) for k in s.scalars(select(Identity.key))) == 1

    widest = "é" * (MAX_IDENTITY_BYTES // 2)  # exactly the maximum, in two-byte characters
    f = tmp_path / "long.csv"
    f.write_text(
        HEADER + f"2026-05-01,other:{widest},Wide,like,in,\n"
        f"2026-05-02,other:{widest}é,Wider,like,in,\n"
        f"2026-05-03,carol@example.org,{'N' * (MAX_NAME + 1)},like,in,\n"
        f"2026-05-04,dee@example.org,Dee,comment,in,{'t' * (MAX_TEXT + 1)}\n"
        f"2026-05-05,eve@example.org,{'N' * MAX_NAME},comment,in,{'t' * MAX_TEXT}\n"
    )
    report = load(store, f)
    assert [(x.line, x.reason.split(":")[0]) for x in report.errors] == [
        (3, "person identity is too long"),
        (4, "name is too long"),
        (5, "text is too long"),
    ]
    assert report.errors[1].reason == "name is too long: 513 characters (at most 512)"
    assert report.imported == 2  # the longest allowed values are stored on both backends
