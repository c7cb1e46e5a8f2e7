"""The weekly report (issue 19): one self-contained HTML file, inline CSS and the charts as
inline SVG, no script and nothing fetched, so it opens offline and can be mailed.

What it says, for the window `(now - since, now]` of the last rescore's time: the new people,
the returns (after `nurture.welcome_back_days` of silence), our top gives, the campaigns with
their funnels and open asks, the share ratio, the nurture queue's top items, who is drifting
(warmest first), and the four network charts. Everything is read from the last rescore (its
copy of activities and its scores, `charts` for the charts), never recomputed here; the
template (`templates/report/weekly.html.j2`) is autoescaped, and the SVGs, drawn by vl-convert
(which escapes the text it draws), are checked to hold no script and no external reference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jinja2
from markupsafe import Markup
from sqlalchemy import case, func, select

from karmabank.actions.campaigns import list_campaigns
from karmabank.actions.charts import NETWORK_CHARTS, network_chart_svgs
from karmabank.actions.freshness import ensure_scores
from karmabank.actions.listing import stream_people
from karmabank.actions.nurture import nurture_queue
from karmabank.actions.people import person_refs
from karmabank.actions.relationships import network_status
from karmabank.actions.scores import LastRescore
from karmabank.actions.scoring import flagged_people
from karmabank.errors import NotFoundError, OptionError
from karmabank.identities import display_name
from karmabank.measures.settings import MeasureSettings
from karmabank.measures.week_data import week_data
from karmabank.model import from_micros, to_micros
from karmabank.store.open import Store
from karmabank.store.tables import Ask

TOP = 10  # rows per list
MAX_SINCE_DAYS = 366
_SINCE = re.compile(r"(\d{1,4})([dw])")
# What an inline SVG must not hold: a script, an event handler, a reference to anything outside.
_UNSAFE_SVG = re.compile(
    r"<script|<foreignObject|<image|\son\w+\s*=|(?:xlink:)?href\s*=\s*['\"](?!#)|url\((?!#)|@import",
    re.IGNORECASE,
)


def since_days(text: str) -> int:
    """`7d` → 7, `2w` → 14 (1 to 366 days)."""
    m = _SINCE.fullmatch(text.strip().lower())
    days = int(m.group(1)) * (7 if m.group(2) == "w" else 1) if m else 0
    if not 1 <= days <= MAX_SINCE_DAYS:
        raise OptionError(
            "since", f"must be days or weeks like 7d or 2w (at most {MAX_SINCE_DAYS} days), "
            f"not {text!r}"
        )  # fmt: skip
    return days


@dataclass(frozen=True)
class WeeklyReport:
    """The report's numbers (`data`, JSON-ready) and the charts' SVGs by chart name."""

    data: dict[str, Any]
    svgs: dict[str, str]

    def html(self) -> str:
        env = _environment()
        charts = {name: Markup(safe_svg(svg)) for name, svg in self.svgs.items()}
        return env.get_template("weekly.html.j2").render(r=self.data, charts=charts)


def safe_svg(svg: str) -> str:
    """The SVG as it is, after checking it holds nothing that runs or fetches."""
    text = svg.strip()
    if not text.startswith("<svg") or _UNSAFE_SVG.search(text):
        raise ValueError("a chart's SVG holds a script or an external reference")
    return text


def weekly_report(
    *, store: Store, now: datetime, settings: MeasureSettings, since: str = "7d"
) -> WeeklyReport:
    """The report as of the scores that answer for `now` (rescored first when stale; never
    scored: an error that says to run `karmabank rescore`)."""
    days = since_days(since)
    if LastRescore.read(store) is None:
        raise NotFoundError("no scores yet: run `karmabank rescore` first")
    last = ensure_scores(store=store, now=now, settings=settings)
    at = last.at
    start = at - timedelta(days=days)
    with store.engine.connect() as conn:
        flags = flagged_people(conn)
    week = week_data(
        last.snapshot(store).activities(), flags, since_us=to_micros(start), now_us=to_micros(at),
        gap_days=settings.nurture.welcome_back_days, limit=TOP,
    )  # fmt: skip
    status = network_status(store=store, now=now, settings=settings)
    queue = [i.as_json() for i in nurture_queue(store=store, now=now, settings=settings,
                                                  limit=TOP)]  # fmt: skip
    drifting = [
        p.as_json()
        for chunk in stream_people(store=store, now=now, settings=settings, limit=TOP,
                                   status="drifting", sort="warmth")
        for p in chunk
    ]  # fmt: skip
    refs = person_refs(store, [r["person_id"] for r in week.new_people + week.returns
                               + week.gives])  # fmt: skip

    def named(rows: list[dict[str, Any]], *times: str) -> list[dict[str, Any]]:
        out = []
        for r in rows:
            row = {k: v for k, v in r.items() if k != "person_id"}
            row.update({t: from_micros(r[t]).isoformat() for t in times})
            out.append({"person": refs.get(r["person_id"], _unknown(r["person_id"])), **row})
        return out

    charts, svgs = network_chart_svgs(store=store, now=now, settings=settings)
    data = {
        "as_of": at.isoformat(), "since": start.isoformat(), "days": days,
        "people": status["people"],
        "new_people": {"total": week.new_total, "top": named(week.new_people, "first_at")},
        "returns": {"total": week.returns_total, "gap_days": settings.nurture.welcome_back_days,
                    "top": named(week.returns, "back_at")},
        "gives": {"total": week.gives_total, "top": named(week.gives, "last_at")},
        "campaigns": _campaigns(store),
        "share_ratio": status["share_ratio"],
        "circles": status["circles"], "statuses": status["statuses"],
        "queue": queue, "drifting": drifting,
        "charts": {name: charts.as_json(name) for name in NETWORK_CHARTS},
    }  # fmt: skip
    return WeeklyReport(data, svgs)


def _unknown(person_id: int) -> dict[str, Any]:
    return {"id": person_id, "name": None, "identities": []}


def _campaigns(store: Store) -> list[dict[str, Any]]:
    """Every campaign (newest first) with its funnel and its open asks: sent, not answered,
    not acted on."""
    open_ask = (Ask.status == "sent") & Ask.response.is_(None)
    with store.sessions() as session:
        open_by: dict[int, int] = dict(
            session.execute(
                select(Ask.campaign_id, func.sum(case((open_ask, 1), else_=0)))
                .group_by(Ask.campaign_id)
            ).all()
        )  # fmt: skip
    return [
        {**c.as_json(), "open_asks": int(open_by.get(c.campaign.id) or 0)}
        for c in list_campaigns(store=store)
    ]


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("karmabank", "templates/report"),
        autoescape=True,  # every imported name and text is escaped
        undefined=jinja2.StrictUndefined,
    )
    env.filters["who"] = lambda p: display_name(p["name"], p["identities"], p["id"])
    return env
