"""Non-text contrast of the charts (WCAG 1.4.11, issue 19's "contrast"): every mark a chart
draws to carry data (bars, lines, points, ticks, rules and the legend's symbols) is 3:1 or more
against the white page, its opacity included; read from the SVG vl-convert draws, not from the
definitions. Vega's default category scheme fails here (yellow #eeca3b 1.6:1, pink #ff9da6 2.0:1,
light grey #bab0ac 2.2:1): a chart with ten channels or six circles must not use it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from karmabank.charts import definitions as d
from karmabank.charts import render
from karmabank.model import Circle, Stage

MARK_GROUP = re.compile(r'<g class="mark-[a-z]+ role-(mark|legend-symbol)[^"]*"[^>]*>(.*?)</g>',
                        re.S)  # fmt: skip
SHAPE = re.compile(r"<(path|line|rect|circle)\b([^>]*)/?>")
ATTR = re.compile(r'([a-z-]+)="([^"]*)"')


def _luminance(rgb: tuple[float, float, float]) -> float:
    def lin(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = rgb
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)


def against_white(colour: str, opacity: float = 1.0) -> float:
    """The contrast ratio of `colour` at `opacity`, painted over white, against white."""
    h = colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    rgb = tuple(opacity * int(h[i : i + 2], 16) + (1 - opacity) * 255 for i in (0, 2, 4))
    return 1.05 / (_luminance(rgb) + 0.05)  # type: ignore[arg-type]


def drawn(svg: str) -> list[tuple[str, float]]:
    """(colour, opacity) of every data mark and legend symbol's fill or stroke."""
    found = []
    for _, body in MARK_GROUP.findall(svg):
        for _, attrs in SHAPE.findall(body):
            a = dict(ATTR.findall(attrs))
            for paint in ("fill", "stroke"):
                colour = a.get(paint, "")
                if not colour.startswith("#"):
                    continue  # none, transparent
                opacity = float(a.get("opacity", 1)) * float(a.get(f"{paint}-opacity", 1))
                found.append((colour, opacity))
    return found


def _weeks() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"week": f"2026-{1 + k % 9:02d}-{1 + k % 25:02d}", "direction": "in",
         "channel": f"channel{k % 10}", "activities": 5 + k}
        for k in range(60)
    ]  # fmt: skip
    for k, direction in enumerate(("give", "ask") * 5):
        rows.append({"week": f"2026-{1 + k:02d}-05", "direction": direction, "channel": None,
                     "activities": 3 + k})  # fmt: skip
    return rows


CHARTS: dict[str, Callable[[], dict[str, Any]]] = {
    "rhythm": lambda: d.rhythm(_weeks()),
    "funnel": lambda: d.funnel(
        [{"stage": s.value, "people": 10 * (i + 1), "entered": i} for i, s in enumerate(Stage)],
        90,
    ),
    "share": lambda: d.share(
        [{"month": f"2026-{m:02d}", "gives": 10, "asks": m % 3, "ratio": 10 / (m % 3)
          if m % 3 else None} for m in range(1, 13)], 4.0,
    ),  # fmt: skip
    "circles": lambda: d.circles(
        [{"month": f"2026-{m:02d}", "circle": c.value, "people": 5 * m + i}
         for m in range(1, 13) for i, c in enumerate(Circle)]
    ),  # fmt: skip
    "person_rhythm": lambda: d.person_rhythm(
        [{"day": f"2026-{1 + k % 11:02d}-{1 + k % 27:02d}", "activities": 1 + k % 9}
         for k in range(80)], start="2025-12-01", end="2026-12-01", cadence=3.0,
    ),  # fmt: skip
}


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_every_data_mark_stands_out_against_the_page(name: str) -> None:
    marks = drawn(render.svg(CHARTS[name]()))
    assert marks, "no data mark found: the SVG's structure changed"
    weak = sorted({(c, round(o, 2), round(against_white(c, o), 2)) for c, o in marks
                   if against_white(c, o) < 3})  # fmt: skip
    assert weak == []


def test_the_categories_are_told_apart() -> None:
    """Ten channels draw in the palette's eight distinct colours (then again), six circles in
    six different ones; none is our gives' green or asks' red."""
    rhythm = {c for c, _ in drawn(render.svg(CHARTS["rhythm"]()))}
    assert set(d.CATEGORIES) <= rhythm
    circles = {c for c, _ in drawn(render.svg(CHARTS["circles"]()))}
    assert len(circles & set(d.CATEGORIES)) == len(Circle)
    assert not {d.GIVE, d.ASK} & set(d.CATEGORIES)


def test_the_measure_fails_what_it_should() -> None:
    assert against_white("#eeca3b") < 3 and against_white("#ff9da6") < 3
    assert against_white("#4c78a8", 0.45) < 3  # the strip's old lightest day
    assert against_white("#000") == pytest.approx(21)
    assert drawn('<g class="mark-rect role-mark x"><path d="M0,0" fill="#eeca3b" '
                 'opacity="0.5"/></g>') == [("#eeca3b", 0.5)]  # fmt: skip
