"""The charts (issue 19): their numbers (`NetworkCharts`, one JSON per chart: what `--json`
prints and what the chart draws), their SVG for the pages and the report, a PNG for the CLI,
and a person's rhythm strip.

The network's charts answer for the last rescore's time (`LastRescore.at`, after
`ensure_scores`): they are computed column-wise from the copy of activities it saw and its
snapshot (`measures.charts_data`), once per snapshot token, and kept beside the copy with their
SVGs (`store.chart_cache`), so a page with charts reads a few files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
from sqlalchemy import BigInteger, func, select, type_coerce

from karmabank.actions.freshness import ensure_scores
from karmabank.actions.scores import LastRescore
from karmabank.actions.scoring import flagged_people
from karmabank.errors import OptionError
from karmabank.frames import US_PER_DAY
from karmabank.measures import charts_data
from karmabank.measures.settings import MeasureSettings
from karmabank.model import to_micros
from karmabank.store import arrow_io, chart_cache
from karmabank.store.open import Store
from karmabank.store.tables import Activity, LadderTransition, PersonScore

NETWORK_CHARTS = ("rhythm", "funnel", "share", "circles")
_SNAPSHOT = pa.schema(
    [("person_id", pa.int64()), ("stage", pa.string()), ("circle", pa.string()),
     ("circle_since", pa.int64())]
)  # fmt: skip
CIRCLES_NOTE = (
    "Circles are not stored month by month (each rescore replaces the scores; the circle each "
    "person holds now and since when is kept): each month shows how many of the people now in "
    "a circle already held it at that month's end."
)


@dataclass(frozen=True)
class NetworkCharts:
    """The numbers of every network chart, as of the scores' time, by chart name."""

    token: str
    charts: dict[str, dict[str, Any]]

    def as_json(self, name: str) -> dict[str, Any]:
        if name not in self.charts:
            raise OptionError("chart", f"must be one of {', '.join(NETWORK_CHARTS)}, not {name!r}")
        return self.charts[name]

    def spec(self, name: str) -> dict[str, Any]:
        """The chart's Vega-Lite definition over exactly `as_json(name)`'s rows."""
        from karmabank.charts import definitions  # Altair: only a drawing needs it

        data = self.as_json(name)
        if name == "rhythm":
            return definitions.rhythm(data["weeks"])
        if name == "funnel":
            return definitions.funnel(data["stages"], data["days"])
        if name == "share":
            return definitions.share(data["months"], data["target"])
        return definitions.circles(data["months"])


def network_charts(*, store: Store, now: datetime, settings: MeasureSettings) -> NetworkCharts:
    """Every network chart's numbers for the scores that answer for `now` (rescored first when
    stale), computed once per snapshot token."""
    last = ensure_scores(store=store, now=now, settings=settings)
    found = chart_cache.cached_json(store.columns_dir, last.token, "data")
    if found is None or set(found) != set(NETWORK_CHARTS):
        found = _compute(store, last, settings)
        chart_cache.keep_json(store.columns_dir, last.token, "data", found)
    return NetworkCharts(last.token, found)


def _compute(store: Store, last: LastRescore, settings: MeasureSettings) -> dict[str, Any]:
    snapshot = last.snapshot(store)
    with store.engine.connect() as conn:
        flags = flagged_people(conn)
        kept = snapshot.table(_SNAPSHOT)
        if kept is None:  # no snapshot (deleted copy): the scores themselves
            kept = arrow_io.read_table(conn, "person_score", _SNAPSHOT)
    data = charts_data.network_chart_data(
        snapshot.activities(), flags, kept, now=last.at,
        share_target=settings.ledger.share_ratio_target,
    )  # fmt: skip
    as_of = last.at.isoformat()
    transitions = _transitions(store, last.at, charts_data.FUNNEL_DAYS)
    entered: dict[str, int] = {}
    for t in transitions:
        entered[t["to_stage"]] = entered.get(t["to_stage"], 0) + t["moves"]
    stages = [{**s, "entered": entered.get(s["stage"], 0)} for s in data.stages]
    return {
        "rhythm": {"as_of": as_of, "days": charts_data.RHYTHM_DAYS, "weeks": data.rhythm},
        "funnel": {"as_of": as_of, "days": charts_data.FUNNEL_DAYS, "stages": stages,
                   "transitions": transitions},
        "share": {"as_of": as_of, "target": data.share_target, "months": data.share},
        "circles": {"as_of": as_of, "note": CIRCLES_NOTE, "months": data.circles},
    }  # fmt: skip


def _transitions(store: Store, now: datetime, days: int) -> list[dict[str, Any]]:
    """Moves on the ladder recorded in the last `days` (from_stage null: entered it)."""
    t = LadderTransition
    since = to_micros(now - timedelta(days=days))
    q = (
        select(t.from_stage, t.to_stage, func.count())
        .where(t.at > since, t.at <= to_micros(now))
        .group_by(t.from_stage, t.to_stage)
        .order_by(t.to_stage, t.from_stage)
    )
    with store.sessions() as session:
        rows = session.execute(q).all()
    return [{"from_stage": f, "to_stage": to, "moves": int(n)} for f, to, n in rows]


def chart_svg(*, store: Store, now: datetime, settings: MeasureSettings, name: str) -> str:
    """A network chart as SVG, drawn once per snapshot token."""
    return _svg(store, network_charts(store=store, now=now, settings=settings), name)


def network_chart_svgs(
    *, store: Store, now: datetime, settings: MeasureSettings
) -> tuple[NetworkCharts, dict[str, str]]:
    """Every network chart's numbers and SVG, the scores' freshness checked once (a page with
    the four charts reads five cached files)."""
    charts = network_charts(store=store, now=now, settings=settings)
    return charts, {name: _svg(store, charts, name) for name in NETWORK_CHARTS}


def _svg(store: Store, charts: NetworkCharts, name: str) -> str:
    charts.as_json(name)  # a known name
    found = chart_cache.cached_text(store.columns_dir, charts.token, name, ".svg")
    if found is None:
        from karmabank.charts import render

        found = render.svg(charts.spec(name))
        chart_cache.keep_text(store.columns_dir, charts.token, name, ".svg", found)
    return found


def chart_png(
    *, store: Store, now: datetime, settings: MeasureSettings, name: str, scale: float = 1.0
) -> bytes:
    """A network chart as a PNG image (`scale` pixels per unit of its size)."""
    from karmabank.charts import render

    charts = network_charts(store=store, now=now, settings=settings)
    return render.png(charts.spec(name), scale)


@dataclass(frozen=True)
class PersonRhythm:
    """One person's active days over the last year (inbound activities per UTC day), with the
    cadence and status of the last rescore."""

    person_id: int
    start: datetime
    end: datetime
    days: list[dict[str, Any]]
    cadence_days: float | None
    status: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id, "start": self.start.date().isoformat(),
            "end": self.end.date().isoformat(), "cadence_days": self.cadence_days,
            "status": self.status, "days": self.days,
        }  # fmt: skip

    def spec(self) -> dict[str, Any]:
        from karmabank.charts import definitions

        j = self.as_json()
        return definitions.person_rhythm(self.days, start=j["start"], end=j["end"],
                                         cadence=self.cadence_days)  # fmt: skip


def person_rhythm(
    *, store: Store, person_id: int, now: datetime, settings: MeasureSettings
) -> PersonRhythm:
    """A person's rhythm strip as of the scores' time: one grouped query over their activity."""
    last = ensure_scores(store=store, now=now, settings=settings)
    end = last.at
    start = end - timedelta(days=settings.rhythm.window_days)
    at = type_coerce(Activity.occurred_at, BigInteger)  # µs, as stored
    a, day = Activity, (at // US_PER_DAY)
    q = (
        select(day, func.count())
        .where(a.person_id == person_id, a.direction == "in",
               at > to_micros(start), at <= to_micros(end))
        .group_by(day)
    )  # fmt: skip
    with store.sessions() as session:
        counts = [(int(d), int(n)) for d, n in session.execute(q).all()]
        score = session.get(PersonScore, person_id)
    return PersonRhythm(
        person_id, start, end, charts_data.strip_days(counts),
        None if score is None else score.cadence_days, None if score is None else score.status,
    )  # fmt: skip


def person_rhythm_svg(
    *, store: Store, person_id: int, now: datetime, settings: MeasureSettings
) -> str:
    """The strip as SVG, drawn once per person and snapshot token."""
    last = ensure_scores(store=store, now=now, settings=settings)
    name = f"person.{int(person_id)}"
    found = chart_cache.cached_text(store.columns_dir, last.token, name, ".svg")
    if found is None:
        from karmabank.charts import render

        strip = person_rhythm(store=store, person_id=person_id, now=now, settings=settings)
        found = render.svg(strip.spec())
        chart_cache.keep_text(store.columns_dir, last.token, name, ".svg", found)
    return found
