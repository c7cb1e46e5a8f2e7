"""The charts (issue 19): each chart draws exactly the numbers its JSON gives, and a PNG is a
PNG of the size the chart declares; on a real SQLite store built from a CSV import."""

from __future__ import annotations

import struct
from datetime import timedelta
from pathlib import Path

from karmabank.actions import charts
from karmabank.actions.importing import import_files
from karmabank.charts.definitions import HEIGHT, WIDTH
from karmabank.measures.settings import MeasureSettings
from karmabank.store.open import Store
from tests.conftest import NOW


def _build(store: Store, folder: Path) -> None:
    rows = ["occurred_at,person,name,verb,direction,channel"]
    for i, d in enumerate((1, 8, 15, 40, 80, 200)):
        at = (NOW - timedelta(days=d)).strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append(f"{at},p{i % 3}@example.org,P {i % 3},comment,in,blog")
        rows.append(f"{at},p{i % 3}@example.org,P {i % 3},thank,give,blog")
    at = (NOW - timedelta(days=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows.append(f"{at},p1@example.org,P 1,attend,ask,blog")
    f = folder / "a.csv"
    f.write_text("\n".join(rows) + "\n")
    import_files(store=store, fmt="csv", paths=[f], options={}, now=NOW)


def test_chart_data_is_what_the_chart_draws(sqlite_store: Store, tmp_path: Path) -> None:
    _build(sqlite_store, tmp_path)
    found = charts.network_charts(store=sqlite_store, now=NOW, settings=MeasureSettings())
    rows = {"rhythm": "weeks", "funnel": "stages", "share": "months", "circles": "months"}
    for name, key in rows.items():
        assert found.spec(name)["data"]["values"] == found.as_json(name)[key]
    weeks = found.as_json("rhythm")["weeks"]
    assert sum(r["activities"] for r in weeks if r["direction"] == "in") == 6
    assert sum(r["activities"] for r in weeks if r["direction"] == "ask") == 1
    months = found.as_json("share")["months"]
    assert sum(m["gives"] for m in months) == 6 and sum(m["asks"] for m in months) == 1


def test_png_has_the_declared_size(sqlite_store: Store, tmp_path: Path) -> None:
    _build(sqlite_store, tmp_path)
    png = charts.chart_png(store=sqlite_store, now=NOW, settings=MeasureSettings(),
                           name="funnel", scale=2)  # fmt: skip
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (2 * WIDTH, 2 * HEIGHT)
