from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from karmabank.errors import ConfigError
from karmabank.model import IdentityKey
from karmabank.sources.base import BadRow, InputFile, ParsedRow, SkippedRow, SourceItem
from karmabank.sources.edgelist import EdgeListSource, detect_columns


def read(path: Path, **options: str) -> list[SourceItem]:
    with InputFile(path) as f:
        return list(EdgeListSource(options).read(f))


def test_higgs_shape_org_inbound_give_and_peer(tmp_path: Path) -> None:
    p = tmp_path / "higgs.txt.gz"
    with gzip.open(p, "wt") as f:
        f.write("5 88 1341100972 RT\n88 7 1341100973 RE\n5 7 1341100974 MT\n9 9 1341100975 RT\n")
    items = read(p, org="88", verb_map="RT=share,MT=mention,RE=reply")
    a, b, c, d = items
    assert isinstance(a, ParsedRow) and isinstance(b, ParsedRow) and isinstance(c, ParsedRow)
    assert (a.direction, a.person, a.verb) == ("in", IdentityKey("other", "5"), "share")
    assert (b.direction, b.person, b.verb) == ("give", IdentityKey("other", "7"), "reply")
    assert (c.direction, c.person, c.target, c.verb) == (
        "peer",
        IdentityKey("other", "5"),
        IdentityKey("other", "7"),
        "mention",
    )
    assert a.occurred_at == 1341100972 * 1_000_000
    assert d == SkippedRow(4, "self-loop")


def test_konect_header_and_weights(tmp_path: Path) -> None:
    p = tmp_path / "out.x"
    p.write_text("% asym positive\n% 3 3 3\n1 2 1 1082008561\n\n3\t4\t2.5\t1082123439.5\n")
    items = read(p)
    assert [type(i) for i in items] == [ParsedRow, ParsedRow]
    r0, r1 = items
    assert isinstance(r0, ParsedRow) and isinstance(r1, ParsedRow)
    assert (r0.line, r0.weight, r0.verb, r0.direction) == (3, 1.0, "interact", "peer")
    assert (r1.line, r1.weight, r1.occurred_at) == (5, 2.5, 1082123439_500000)


def test_three_columns_are_src_dst_time(tmp_path: Path) -> None:
    p = tmp_path / "e.txt"
    p.write_text("# src dst time\n1 2 1082008561\n2 1 1082008562\n")
    items = read(p, org="1")
    assert [i.direction for i in items if isinstance(i, ParsedRow)] == ["give", "in"]


def test_bad_lines_are_reported_with_their_line(tmp_path: Path) -> None:
    p = tmp_path / "e.txt"
    p.write_text(
        "1 2 1 1082008561\n1 2 1082008561\n1 2 x 1082008561\n1 2 1 yesterday\n3 4 1 1082008570\n"
    )
    items = read(p)
    bad = [i for i in items if isinstance(i, BadRow)]
    assert [(b.line, b.reason) for b in bad] == [
        (2, "expected 4 columns, found 3"),
        (3, "weight is not a number: 'x'"),
        (4, "unparseable time 'yesterday' (use ISO-8601 or unix seconds)"),
    ]
    assert bad[0].raw == "1 2 1082008561"
    assert sum(isinstance(i, ParsedRow) for i in items) == 2


def test_repeated_lines_are_distinct_activities_with_stable_keys(tmp_path: Path) -> None:
    p = tmp_path / "e.txt"
    p.write_text("1 2 1 1082008561\n1 2 1 1082008561\n1 2 1 1082008561\n")
    keys = [i.source_key for i in read(p) if isinstance(i, ParsedRow)]
    assert len(set(keys)) == 3
    assert keys == [i.source_key for i in read(p) if isinstance(i, ParsedRow)]


def test_column_detection() -> None:
    assert detect_columns(["1", "2", "3", "RT"]) == ["src", "dst", "time", "type"]
    assert detect_columns(["1", "2", "1", "1082008561"]) == ["src", "dst", "weight", "time"]
    assert detect_columns(["1", "2", "1082008561"]) == ["src", "dst", "time"]
    with pytest.raises(ConfigError, match="does not look like a unix time"):
        detect_columns(["1", "2", "3"])
    with pytest.raises(ConfigError, match="at least src, dst and time"):
        detect_columns(["1", "2"])


def test_explicit_columns_and_bad_options() -> None:
    src = EdgeListSource({"columns": "dst,src,time"})
    assert src.columns == ["dst", "src", "time"]
    with pytest.raises(ConfigError, match="--columns"):
        EdgeListSource({"columns": "a,b"})
    with pytest.raises(ConfigError, match="does not take --map"):
        EdgeListSource({"map": "a=b"})
    with pytest.raises(ConfigError, match="--verb-map"):
        EdgeListSource({"verb_map": "RT"})
