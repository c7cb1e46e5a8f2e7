"""One Vega-Lite definition per chart, written with Altair.

Each takes the chart's rows (the same dicts its `--json` prints) and returns the spec as a dict,
with those rows as the spec's inline data (`spec["data"]["values"]`), so what a chart draws is
what `--json` says. Single views (layers at most), sized to fit `WIDTH` × their height padding
included, so a PNG at scale s is exactly (s·width) × (s·height) pixels.
"""

from __future__ import annotations

from typing import Any

import altair as alt

from karmabank.model import Circle, Stage

WIDTH = 720
HEIGHT = 260
STRIP_HEIGHT = 90
_FIT = {"type": "fit", "contains": "padding"}
# Colours for categories (channels, circles): each 3:1 or more against the white page (WCAG
# 1.4.11, non-text contrast; Vega's default scheme has yellow, pink and light grey at 1.6-2.3:1),
# none the green and red of our gives and asks. Ratios against white: 6.7, 4.6, 7.6, 6.9,
# 5.5, 5.2, 6.4, 8.5 (tests/test_chart_palette.py).
CATEGORIES = ("#0b5cad", "#c05600", "#6a3d9a", "#01665e", "#c51b7d", "#7f6b00", "#8c510a",
              "#4d4d4d")  # fmt: skip
GIVE, ASK, BAR, STRIP = "#1b7837", "#b2182b", "#4c78a8", "#0b5cad"
STRIP_OPACITY = (0.7, 1.0)  # the strip's lightest day still 3:1 against white
_UTC = alt.Scale(type="utc")


def _spec(chart: alt.TopLevelMixin, rows: list[dict[str, Any]], title: str) -> dict[str, Any]:
    spec: dict[str, Any] = chart.to_dict()
    for layer in spec.get("layer", ()):
        layer.pop("data", None)  # every layer draws the top-level data
        layer.pop("title", None)
    spec["data"] = {"values": rows}  # the rows as given (Altair would name and hash them)
    spec["title"] = title
    spec["autosize"] = _FIT
    spec.pop("datasets", None)
    return spec


def _base(height: int = HEIGHT) -> alt.Chart:
    return alt.Chart().properties(width=WIDTH, height=height)


def rhythm(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Inbound activities per week by channel (stacked bars, left axis) and the organization's
    gives and asks per week (lines, right axis), on one time axis."""
    title = "Rhythm of the network: inbound per week by channel, our gives and asks"
    base = _base()
    x = alt.X("week:T", title="week", scale=_UTC, axis=alt.Axis(format="%b %Y"))
    bars = base.transform_filter(alt.datum.direction == "in").mark_bar().encode(
        x=x, y=alt.Y("sum(activities):Q", title="inbound activities"),
        color=alt.Color("channel:N", title="inbound channel",
                        scale=alt.Scale(range=list(CATEGORIES))),
    )  # fmt: skip
    lines = base.transform_filter(alt.datum.direction != "in").mark_line(point=True).encode(
        x=x, y=alt.Y("activities:Q", title="gives and asks"),
        color=alt.Color("direction:N", title="ours",
                        scale=alt.Scale(domain=["give", "ask"], range=[GIVE, ASK])),
    )  # fmt: skip
    layered = alt.layer(bars, lines).resolve_scale(y="independent", color="independent")
    return _spec(layered, rows, title)


def funnel(rows: list[dict[str, Any]], days: int) -> dict[str, Any]:
    """People per ladder stage now (bars, awareness first), with the moves into each stage in
    the last `days` (`entered`, as text beside the bar)."""
    order = [s.value for s in Stage]
    title = f"Funnel: people per ladder stage now (+ moves into it in {days} days)"
    base = _base()
    y = alt.Y("stage:N", sort=order, title=None)
    room = max([int(r["people"]) for r in rows] + [1]) * 1.3  # for the text beside the bars
    bars = base.mark_bar(color=BAR).encode(
        y=y, x=alt.X("people:Q", title="people", scale=alt.Scale(domain=[0, room])),
        tooltip=["stage:N", "people:Q", "entered:Q"],
    )  # fmt: skip
    text = base.mark_text(align="left", dx=4).encode(
        y=y, x="people:Q", text=alt.Text("label:N")
    ).transform_calculate(label="datum.people + '  (+' + datum.entered + ')'")  # fmt: skip
    return _spec(alt.layer(bars, text), rows, title)


def share(rows: list[dict[str, Any]], target: float) -> dict[str, Any]:
    """Gives ÷ asks per month (bars; a month without asks has none) against the target line."""
    title = f"Share ratio per month (gives ÷ asks) against the target {target:g}"
    base = _base()
    bars = base.transform_filter("datum.ratio != null").mark_bar(color=GIVE).encode(
        x=alt.X("month:O", title="month"), y=alt.Y("ratio:Q", title="gives per ask"),
        tooltip=["month:O", "gives:Q", "asks:Q", "ratio:Q"],
    )  # fmt: skip
    none = (
        base.transform_filter("datum.ratio == null")
        .mark_text(dy=-8, color="#555")
        .encode(x=alt.X("month:O"), y=alt.datum(0), text=alt.value("no asks"))
    )
    rule = base.mark_rule(color=ASK, strokeDash=[6, 4], strokeWidth=2).encode(
        y=alt.datum(target)
    )
    return _spec(alt.layer(bars, none, rule), rows, title)


def circles(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """At each month's end, how many of the people now in each circle already held it."""
    title = "Circles: people now in each circle who held it by each month's end"
    base = _base()
    chart = base.mark_line(point=True).encode(
        x=alt.X("month:O", title="month"),
        y=alt.Y("people:Q", title="people", scale=alt.Scale(type="symlog")),
        color=alt.Color("circle:N", sort=[c.value for c in Circle], title="circle",
                        scale=alt.Scale(range=list(CATEGORIES))),
    )
    return _spec(chart, rows, title)


def person_rhythm(rows: list[dict[str, Any]], *, start: str, end: str,
                  cadence: float | None) -> dict[str, Any]:  # fmt: skip
    """A person's active days over the window [start, end] as a strip (one tick a day, darker
    for more activity), titled with their cadence."""
    said = f"cadence {cadence:.0f} days" if cadence is not None else "cadence unknown"
    title = f"Active days over the last year ({said})"
    base = _base(STRIP_HEIGHT)
    chart = base.mark_tick(thickness=3, color=STRIP).encode(
        x=alt.X("day:T", title=None, scale=alt.Scale(type="utc", domain=[start, end]),
                axis=alt.Axis(format="%b %Y")),
        opacity=alt.Opacity("activities:Q", legend=None,
                            scale=alt.Scale(range=list(STRIP_OPACITY))),
        tooltip=["day:T", "activities:Q"],
    )  # fmt: skip
    return _spec(chart, rows, title)
