"""The charts in the dashboard (issue 19): `/charts` shows the four network charts as inline SVG,
and `/people/{id}/rhythm.svg` is a person's rhythm strip, an image the person page loads on its
own (so the page never waits for a drawing).

Every SVG is drawn on the server by vl-convert from the last rescore's numbers and kept per
snapshot token (`actions.charts`): a request reads the cache and never the raw activities, and
no JavaScript is needed, so none is vendored for the charts. vl-convert escapes the text it
draws, and `actions.report.safe_svg` checks an SVG holds no script and no external reference
before a page embeds it. Its router is included before the pages' (whose `/people/{ref:path}`
would take the image's path).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from karmabank.actions.charts import network_chart_svgs, person_rhythm_svg
from karmabank.actions.report import safe_svg
from karmabank.web import schemas as s
from karmabank.web.as_of import page_now
from karmabank.web.pages import PageAuth, _context
from karmabank.web.security import StateDep, StoreDep
from karmabank.web.templating import page

router = APIRouter(include_in_schema=False)


@router.get("/charts", response_class=HTMLResponse)
def charts_page(request: Request, auth: PageAuth, store: StoreDep, state: StateDep) -> Response:
    """The four network charts, as of the day the browser chose to view (the /as-of cookie,
    as the home and people pages), else of the app's clock."""
    now, settings = page_now(request, state), state.measures
    charts, drawn = network_chart_svgs(store=store, now=now, settings=settings)
    svgs = {name: Markup(safe_svg(svg)) for name, svg in drawn.items()}
    as_of = charts.as_json("rhythm")["as_of"]
    context = _context(request, auth, "Charts", "charts", svgs=svgs, as_of=as_of,
                       note=charts.as_json("circles")["note"])  # fmt: skip
    return page("charts.html", context)


@router.get("/people/{person_id}/rhythm.svg")
def person_rhythm_image(
    request: Request, auth: PageAuth, store: StoreDep, state: StateDep,
    person_id: Annotated[int, Path(ge=1, le=s.MAX_ID)],
) -> Response:  # fmt: skip
    """The strip as an SVG image (an unknown id: an empty strip, like a person with no
    activity; the page that links it has already found the person), as of the day the person
    page is viewed as of (the page adds `?as_of=DAY` then, so a browser's cached strip of
    another day is not shown)."""
    svg = person_rhythm_svg(store=store, person_id=person_id, now=page_now(request, state),
                            settings=state.measures)  # fmt: skip
    return Response(safe_svg(svg), media_type="image/svg+xml",
                    headers={"cache-control": "private, max-age=300"})  # fmt: skip
