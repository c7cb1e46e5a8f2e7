"""The chart commands and the weekly report (issue 19), through the real command line: each
chart's `--json` is exactly the data its Vega-Lite spec draws (the PNG is drawn from that spec),
`--png` writes a PNG, the report counts the week's new people, returns and gives, escapes every
imported name, embeds its charts inline with nothing outside, and every bad input is one line,
exit 1."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from karmabank.actions import charts
from karmabank.actions.importing import import_files
from karmabank.actions.report import safe_svg
from karmabank.measures.settings import MeasureSettings
from karmabank.store.open import open_store
from tests.cli_helpers import run
from tests.conftest import NOW

DATA_KEY = {"rhythm": "weeks", "funnel": "stages", "share": "months", "circles": "months"}
EVIL = "<img src=x onerror=alert(1)>"


def _iso(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def db(tmp_path: Path) -> str:
    """New this week: New Nell (2 comments) and a person named like markup; back this week
    after 200 days: Old Olga; a regular, Reg; our gives this week: 3 to Reg, 1 to Nell."""
    rows = ["occurred_at,person,name,verb,direction,channel,text"]
    rows += [f"{_iso(d)},nell@example.org,New Nell,comment,in,forum,hi" for d in (1, 2)]
    rows.append(f'{_iso(3)},evil@example.org,"{EVIL}",comment,in,blog,"{EVIL}"')
    rows += [f"{_iso(d)},olga@example.org,Old Olga,comment,in,blog,back" for d in (2, 202, 230)]
    rows += [f"{_iso(d)},reg@example.org,Reg Ular,like,in,blog," for d in (4, 11, 18, 25, 60)]
    rows += [f"{_iso(d)},reg@example.org,Reg Ular,thank,give,blog," for d in (1, 2, 5)]
    rows.append(f"{_iso(1)},nell@example.org,New Nell,help,give,forum,")
    rows.append(f"{_iso(40)},reg@example.org,Reg Ular,attend,ask,blog,")
    f = tmp_path / "a.csv"
    f.write_text("\n".join(rows) + "\n")
    path = str(tmp_path / "k.db")
    with open_store(path, create=True) as store:
        import_files(store=store, fmt="csv", paths=[f], options={}, now=NOW)
    return path


def _now() -> str:
    return NOW.isoformat()


def test_each_charts_json_is_what_its_chart_draws(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, key in DATA_KEY.items():
        got = run(capsys, name, "--json", "--db", db, "--now", _now())
        assert got.code == 0, got
        printed = json.loads(got.out)
        with open_store(db) as store:
            spec = charts.network_charts(store=store, now=NOW, settings=MeasureSettings()).spec(
                name
            )
        assert spec["data"]["values"] == printed[key], name
        assert printed["as_of"] == NOW.isoformat()
    weeks = json.loads(run(capsys, "rhythm", "--json", "--db", db, "--now", _now()).out)["weeks"]
    assert sum(r["activities"] for r in weeks if r["direction"] == "give") == 4
    assert sum(r["activities"] for r in weeks if r["direction"] == "ask") == 1
    # every inbound row is inside the year: Nell 2, the markup name 1, Olga 3, Reg 5
    assert sum(r["activities"] for r in weeks if r["direction"] == "in") == 11


def test_tables_and_png(db: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    funnel = run(capsys, "funnel", "--db", db, "--now", _now())
    assert funnel.code == 0 and re.search(r"^aware\s+\d+\s+\d+", funnel.out, re.M), funnel
    share = run(capsys, "share", "--db", db, "--now", _now())
    assert "no asks" in share.out and "target 4" in share.out
    png = tmp_path / "rhythm.png"
    got = run(capsys, "rhythm", "--png", str(png), "--db", db, "--now", _now())
    assert got.code == 0 and got.out == "" and "wrote" in got.err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_report_counts_the_week_and_escapes_names(
    db: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "week.html"
    assert run(capsys, "report", "--html", str(out), "--db", db, "--now", _now()).code == 1
    assert run(capsys, "rescore", "--db", db, "--now", _now()).code == 0
    got = run(capsys, "report", "--html", str(out), "--db", db, "--now", _now())
    assert got.code == 0, got
    assert "2 new, 1 returns, 4 gives, 4 charts" in got.out  # Nell and the markup name; Olga
    html = out.read_text()
    assert EVIL not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script" not in html.lower()
    assert len(re.findall(r"<svg\b", html)) == 4
    assert not re.search(r"""(?:href|src)\s*=\s*["'](?:https?:|//)""", html)
    for name in ("New Nell", "Old Olga", "Reg Ular"):
        assert name in html
    month = run(capsys, "report", "--html", str(out), "--since", "2w", "--db", db, "--now", _now())
    assert "14 days" in month.out and "2 new" in month.out  # Reg's first like: 60 days ago


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--since", "7x"], "--since must be days or weeks like 7d or 2w"),
        (["--since", "0d"], "--since must be days or weeks"),
        (["--html", "/nonexistent/dir/r.html"], "--html cannot write '/nonexistent/dir/r.html'"),
    ],
)
def test_bad_report_input_is_one_line(
    db: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], says: str
) -> None:
    assert run(capsys, "rescore", "--db", db, "--now", _now()).code == 0
    base = ["report", "--html", str(tmp_path / "r.html"), "--db", db, "--now", _now()]
    got = run(capsys, *base, *args)
    assert got.code == 1 and got.out == ""
    assert got.err.startswith("error: " + says) and got.err.count("\n") == 1, got.err


def test_never_scored_says_to_rescore(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    got = run(capsys, "report", "--html", "r.html", "--db", db, "--now", _now())
    assert got.code == 1 and got.err == "error: no scores yet: run `karmabank rescore` first\n"


@pytest.mark.parametrize(
    "svg",
    [
        "<svg><script>alert(1)</script></svg>",
        '<svg><image href="https://example.org/x.png"/></svg>',
        '<svg><a xlink:href="http://example.org">x</a></svg>',
        '<svg><rect style="fill:url(https://x/y)"/></svg>',
        '<svg><rect onclick="alert(1)"/></svg>',
        "<html></html>",
    ],
)
def test_an_svg_with_a_script_or_an_outside_reference_is_refused(svg: str) -> None:
    with pytest.raises(ValueError, match="script or an external reference"):
        safe_svg(svg)
    assert safe_svg('<svg><rect fill="url(#g)"/></svg>').startswith("<svg")
