"""The dashboard's tables as CSV files, each a GET link on its page ("CSV"): `/people.csv`
(with the page's filters, every match, not one page), `/influencers.csv` (the page's issue and
limit) and `/campaigns/asks.csv?name=...` (a campaign's asks). The columns are the CLI's
`--csv` (`actions.table_csv`); the file is built while the request holds the store."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from karmabank.actions import campaigns
from karmabank.actions.listing import stream_people
from karmabank.actions.table_csv import (
    ASKS,
    INFLUENCERS,
    PEOPLE,
    ask_rows,
    csv_lines,
    influencer_rows,
    people_rows,
)
from karmabank.web import schemas as s
from karmabank.web.as_of import page_now
from karmabank.web.pages import (
    FilterQuery,
    LimitQuery,
    PageAuth,
    SearchQuery,
    influencers_of,
    people_filters,
)
from karmabank.web.security import StateDep, StoreDep

router = APIRouter(include_in_schema=False)

MAX_ROWS = 1_000_000


def _csv(name: str, lines: list[str]) -> Response:
    return Response(
        "".join(lines), media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )  # fmt: skip


@router.get("/people.csv")
def people_csv(
    request: Request, auth: PageAuth, store: StoreDep, state: StateDep,
    circle: FilterQuery = "", status: FilterQuery = "", stage: FilterQuery = "",
    q: SearchQuery = "",
) -> Response:  # fmt: skip
    f = people_filters(circle, status, stage)
    chunks = stream_people(
        store=store, now=page_now(request, state), settings=state.measures, limit=MAX_ROWS,
        query=" ".join(q.split()) or None, circle=f["circle"], status=f["status"],
        stage=f["stage"],
    )  # fmt: skip
    return _csv("people.csv", list(csv_lines(PEOPLE, people_rows(p for c in chunks for p in c))))


@router.get("/influencers.csv")
def influencers_csv(
    request: Request, auth: PageAuth, store: StoreDep, state: StateDep,
    issue: SearchQuery = "", limit: LimitQuery = 20,
) -> Response:  # fmt: skip
    found = influencers_of(request, store, state, issue, limit)
    return _csv("influencers.csv", list(csv_lines(INFLUENCERS, influencer_rows(found))))


@router.get("/campaigns/asks.csv")
def asks_csv(
    auth: PageAuth, store: StoreDep,
    name: Annotated[str, Query(min_length=1, max_length=200), s.STORABLE],
) -> Response:  # fmt: skip
    shown = campaigns.show_campaign(store=store, name=name)
    return _csv("asks.csv", list(csv_lines(ASKS, ask_rows(shown.asks))))
