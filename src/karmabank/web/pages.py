"""The dashboard: HTML pages over the same actions as the API and the CLI.

Pages are Jinja2 templates (autoescaped), authenticated by the session cookie alone: without a
valid session a page redirects to /login (and back after it). Every form that changes something
carries the session's CSRF token in its `csrf_token` field and needs the write permission, so a
viewer gets no buttons, and a viewer's forged POST gets 403 anyway. Forms work without
JavaScript (POST, then a redirect back); with htmx loaded, a nurture button swaps its item in
place (the `HX-Request` header asks for that fragment).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from karmabank.actions import accounts, campaigns, influencers, issues, nurture
from karmabank.actions.connections import list_connections
from karmabank.actions.listing import stream_people
from karmabank.actions.mobilization import plan_campaign
from karmabank.actions.people import iso
from karmabank.actions.relationships import network_status, person_scores
from karmabank.bounds import MAX_SNOOZE_DAYS
from karmabank.errors import NotFoundError
from karmabank.model import Circle, RhythmStatus, Stage
from karmabank.web import schemas as s
from karmabank.web.as_of import AS_OF_COOKIE, as_of_day, page_now, safe_next, time_context
from karmabank.web.merge_views import merged_away, merged_from
from karmabank.web.person_timeline import person_forms, timeline_context
from karmabank.web.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    Auth,
    StateDep,
    StoreDep,
    cookie_secure,
    same,
    session_csrf,
)
from karmabank.web.templating import page, who

if TYPE_CHECKING:
    from karmabank.store.open import Store
    from karmabank.web.security import WebState

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50


class LoginRequired(Exception):
    """No valid session: the app answers with a redirect to the login page."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


def login_redirect(error: LoginRequired) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(error.target, safe='/')}", status_code=303)


def page_auth(request: Request, store: StoreDep, state: StateDep) -> Auth:
    """The user of a page, by the session cookie only (a page is for a browser)."""
    session_id = request.cookies.get(SESSION_COOKIE)
    user = None
    if session_id:
        user = accounts.session_user(store=store, session_id=session_id,
                                     now=state.settings.clock())  # fmt: skip
    if user is None or session_id is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target if request.method == "GET" else "/")
    request.state.page_store = store  # for the time the page's scores are as of (base.html)
    return Auth(user, "session", session_id)


PageAuth = Annotated[Auth, Depends(page_auth)]


def page_writer(
    request: Request,
    auth: PageAuth,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Auth:
    """A form that changes something: the write permission, then the session's CSRF token."""
    if not accounts.may(auth.user.role, accounts.Permission.WRITE):
        raise HTTPException(403, f"a {auth.user.role} may not write")
    token = csrf_token or request.headers.get(CSRF_HEADER)
    assert auth.session_id is not None
    if not same(token, session_csrf(auth.session_id)):
        raise HTTPException(403, "CSRF token missing or wrong: reload the page")
    return auth


PageWriter = Annotated[Auth, Depends(page_writer)]


def _context(request: Request, auth: Auth, title: str, nav: str, **rest: Any) -> dict[str, Any]:
    assert auth.session_id is not None
    return {
        "title": title, "nav": nav, "user": auth.user,
        "can_write": accounts.may(auth.user.role, accounts.Permission.WRITE),
        "csrf_field": CSRF_FIELD, "csrf_token": session_csrf(auth.session_id),
        "path": request.url.path, "scores_note": getattr(request.state, "scores_note", None),
        **time_context(request, getattr(request.state, "page_store", None),
                       request.app.state.karmabank),
        **rest,
    }  # fmt: skip


def _htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


# -- home: today's nurture queue, the share ratio, the rhythm ----------------------------------


@router.get("/", response_class=HTMLResponse)
def home_page(request: Request, auth: PageAuth, store: StoreDep, state: StateDep) -> Response:
    now = page_now(request, state)
    settings = state.measures
    queue = nurture.nurture_queue(store=store, now=now, settings=settings, limit=None)
    status = network_status(store=store, now=now, settings=settings)
    statuses = [(name, status["statuses"].get(name, 0)) for name in RhythmStatus]
    context = _context(request, auth, "Today", "home", queue=[i.as_json() for i in queue],
                       status=status, statuses=statuses,
                       most=max([n for _, n in statuses] + [1]),
                       connections=[c.as_json() for c in list_connections(store=store)],
                       can_sync=accounts.may(auth.user.role, accounts.Permission.SYNC),
                       )  # fmt: skip
    return page("home.html", context)


def _after_nurture(request: Request, item_id: int, status: str, note: str) -> Response:
    if _htmx(request):
        return page("_nurture_done.html", {"item_id": item_id, "status": status, "note": note})
    return RedirectResponse("/", status_code=303)


ItemId = Annotated[int, Path(ge=1, le=s.MAX_ID)]


@router.post("/nurture/{item_id}/done")
def nurture_done_page(request: Request, auth: PageWriter, store: StoreDep, state: StateDep,
                      item_id: ItemId) -> Response:  # fmt: skip
    row, act = nurture.nurture_done(store=store, item_id=item_id,
                                    now=state.settings.clock(), actor=auth.actor)  # fmt: skip
    return _after_nurture(request, row.id, "done", f"recorded: {act.verb} ({act.direction})")


@router.post("/nurture/{item_id}/skip")
def nurture_skip_page(request: Request, auth: PageWriter, store: StoreDep, state: StateDep,
                      item_id: ItemId) -> Response:  # fmt: skip
    row = nurture.nurture_skip(store=store, item_id=item_id, now=state.settings.clock(),
                              actor=auth.actor)  # fmt: skip
    return _after_nurture(request, row.id, "skipped", "it will not come back")


@router.post("/nurture/{item_id}/snooze")
def nurture_snooze_page(
    request: Request, auth: PageWriter, store: StoreDep, state: StateDep, item_id: ItemId,
    days: Annotated[int, Form(ge=1, le=MAX_SNOOZE_DAYS)] = 7,
) -> Response:  # fmt: skip
    row = nurture.nurture_snooze(store=store, item_id=item_id, now=state.settings.clock(),
                                 days=days, actor=auth.actor)  # fmt: skip
    return _after_nurture(request, row.id, "snoozed", f"back after {iso(row.snoozed_until)}")


@router.get("/as-of")
def as_of_page(
    request: Request, auth: PageAuth, state: StateDep,
    day: Annotated[str, Query(max_length=10)] = "",
    back: Annotated[str, Query(alias="next", max_length=2000)] = "/",
) -> Response:
    """View the network as of `day` (YYYY-MM-DD) from now on in this browser; no day: as of
    now again. Back to `next`, a path on this site."""
    answer = RedirectResponse(safe_next(back), status_code=303)
    if not day:
        answer.delete_cookie(AS_OF_COOKIE, path="/")
    elif as_of_day(day) is None:
        raise HTTPException(400, f"not a day YYYY-MM-DD between 1900 and 2200: {day!r}")
    else:
        answer.set_cookie(AS_OF_COOKIE, day, path="/", httponly=True, samesite="lax",
                          secure=cookie_secure(request, state.settings))  # fmt: skip
    return answer


# -- people ------------------------------------------------------------------------------------


def _choice(value: str | None, allowed: tuple[str, ...]) -> str | None:
    """An empty <select> value means any."""
    return value if value in allowed else None


FilterQuery = Annotated[str, Query(max_length=40), s.STORABLE]
SearchQuery = Annotated[str, Query(max_length=200), s.STORABLE]
LimitQuery = Annotated[int, Query(ge=1, le=500)]


def people_filters(circle: str, status: str, stage: str) -> dict[str, str | None]:
    """The people page's filters (also its CSV's): an unknown value means any."""
    return {"circle": _choice(circle, tuple(Circle)),
            "status": _choice(status, tuple(RhythmStatus)),
            "stage": _choice(stage, tuple(Stage))}  # fmt: skip


@router.get("/people", response_class=HTMLResponse)
def people_page(
    request: Request, auth: PageAuth, store: StoreDep, state: StateDep,
    circle: FilterQuery = "", status: FilterQuery = "", stage: FilterQuery = "",
    q: SearchQuery = "", offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Response:  # fmt: skip
    filters = people_filters(circle, status, stage)
    query = " ".join(q.split()) or None
    rows = [r for chunk in stream_people(
        store=store, now=page_now(request, state), settings=state.measures,
        limit=offset + PAGE_SIZE + 1, query=query, circle=filters["circle"],
        status=filters["status"], stage=filters["stage"], details=True,
    ) for r in chunk]  # fmt: skip
    shown = [r.as_json() for r in rows[offset : offset + PAGE_SIZE]]
    kept = {k: v for k, v in {**filters, "q": query}.items() if v}

    def link(to: int) -> str:
        return "/people?" + urlencode({**kept, "offset": to})

    context = _context(
        request, auth, "People", "people", people=shown, filters=filters, q=query or "",
        circles=tuple(Circle), statuses=tuple(RhythmStatus), stages=tuple(Stage), offset=offset,
        csv_link="/people.csv?" + urlencode(kept),
        previous=link(max(0, offset - PAGE_SIZE)) if offset else None,
        next=link(offset + PAGE_SIZE) if len(rows) > offset + PAGE_SIZE else None,
    )  # fmt: skip
    return page("people.html", context)


@router.get("/people/{ref:path}", response_class=HTMLResponse)
def person_page(
    request: Request, auth: PageAuth, store: StoreDep, state: StateDep,
    ref: Annotated[str, Path(), s.STORABLE],
    unmerged: Annotated[int | None, Query(ge=1, le=s.MAX_ID)] = None,
    absorbed: Annotated[int | None, Query(ge=1, le=s.MAX_ID)] = None,
    whose: Annotated[str, Query(max_length=10)] = "theirs",
    direction: Annotated[str, Query(max_length=10)] = "",
    channel: Annotated[str, Query(max_length=40), s.STORABLE] = "",
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:  # fmt: skip
    if not 1 <= len(ref) <= 300:
        raise HTTPException(404, "no such person")
    try:
        person = person_scores(store=store, ref=ref, now=page_now(request, state),
                               settings=state.measures).as_json()  # fmt: skip
    except NotFoundError:
        if (kept := merged_away(store, ref)) is None:  # an old link to an absorbed person
            raise
        return RedirectResponse(kept, status_code=303)
    title = who(person)
    merges = merged_from(store, person["id"], unmerged, absorbed)  # "Merged from", notes
    shown = timeline_context(store, person["id"], whose, direction, channel.strip(), offset)
    return page("person.html", _context(request, auth, title, "people", person=person,
                                        **merges, **shown, **person_forms(person)))  # fmt: skip


# -- campaigns: new, plan, send, responses, the funnel ------------------------------------------

CampaignField = Annotated[str, Form(min_length=1, max_length=200), s.STORABLE]


def _campaign_link(name: str) -> str:
    return "/campaigns?" + urlencode({"name": name})


@router.get("/campaigns", response_class=HTMLResponse)
def campaigns_page(
    request: Request, auth: PageAuth, store: StoreDep,
    name: Annotated[str, Query(max_length=200), s.STORABLE] = "",
) -> Response:  # fmt: skip
    shown = campaigns.show_campaign(store=store, name=name).as_json() if name.strip() else None
    return page("campaigns.html", _campaign_context(request, auth, store, shown, None))


def _campaign_context(request: Request, auth: Auth, store: Store, shown: dict[str, Any] | None,
                      plan: dict[str, Any] | None) -> dict[str, Any]:  # fmt: skip
    title = f"Campaign {shown['campaign']['name']}" if shown else "Campaigns"
    funnel = list(shown["funnel"].items()) if shown else []
    listed = [{**r.as_json(), "link": _campaign_link(r.campaign.name)}
              for r in campaigns.list_campaigns(store=store)]  # fmt: skip
    return _context(
        request, auth, title, "campaigns", shown=shown, plan=plan, funnel=funnel,
        most=max([n for _, n in funnel] + [1]), actions=campaigns.ACTIONS,
        responses=("yes", "no", "acted"), campaigns=listed, reach=campaigns.reach_text,
    )  # fmt: skip


@router.post("/campaigns")
def new_campaign_page(
    auth: PageWriter, store: StoreDep, state: StateDep, name: CampaignField,
    action: Annotated[str, Form(max_length=40), s.STORABLE],
    budget: Annotated[int, Form(ge=1, le=100_000)],
    issue: Annotated[str, Form(max_length=200), s.STORABLE] = "",
    deadline: Annotated[str, Form(max_length=10)] = "",
    target_reach: Annotated[str, Form(max_length=20)] = "",
) -> Response:  # fmt: skip
    due = as_of_day(deadline) if deadline else None  # the start of that day, UTC
    if deadline and due is None:
        raise HTTPException(400, f"deadline: not a day YYYY-MM-DD: {deadline!r}")
    target = _reach(target_reach)
    c = campaigns.new_campaign(store=store, name=name, action=action, budget=budget,
                               now=state.settings.clock(), issue=issue.strip() or None,
                               deadline=due, target_reach=target,
                               actor=auth.actor)  # fmt: skip
    return RedirectResponse(_campaign_link(c.name), status_code=303)


def _reach(text: str) -> float | None:
    """The form's target reach: empty for none, else a positive number (the action checks)."""
    if not text.strip():
        return None
    try:
        return float(text.strip())
    except ValueError:
        raise HTTPException(400, f"target reach: not a number: {text!r}") from None


@router.post("/campaigns/plan", response_class=HTMLResponse)
def plan_campaign_page(request: Request, auth: PageWriter, store: StoreDep, state: StateDep,
                       name: CampaignField) -> Response:  # fmt: skip
    plan = plan_campaign(store=store, name=name, now=state.settings.clock(),  # excluded: the
                         settings=state.measures, excluded_limit=0,  # page only counts them
                         actor=auth.actor)  # fmt: skip
    planned = plan.report_json()
    shown = campaigns.show_campaign(store=store, name=name).as_json()
    return page("campaigns.html", _campaign_context(request, auth, store, shown, planned))


@router.post("/campaigns/send")
def send_campaign_page(auth: PageWriter, store: StoreDep, state: StateDep,
                       name: CampaignField) -> Response:  # fmt: skip
    report = campaigns.send_campaign(store=store, name=name, now=state.settings.clock(),
                                     actor=auth.actor)  # fmt: skip
    return RedirectResponse(_campaign_link(report.campaign), status_code=303)


@router.post("/campaigns/respond")
def respond_page(
    auth: PageWriter, store: StoreDep, state: StateDep, name: CampaignField,
    person: Annotated[str, Form(min_length=1, max_length=300), s.STORABLE],
    response: Annotated[str, Form(max_length=20), s.STORABLE],
) -> Response:  # fmt: skip
    r = campaigns.respond(store=store, name=name, ref=person, response=response,
                          now=state.settings.clock(), actor=auth.actor)  # fmt: skip
    return RedirectResponse(_campaign_link(r.campaign), status_code=303)


# -- influencers per issue ---------------------------------------------------------------------


@router.get("/influencers", response_class=HTMLResponse)
def influencers_page(
    request: Request, auth: PageAuth, store: StoreDep, state: StateDep,
    issue: SearchQuery = "", limit: LimitQuery = 20,
) -> Response:  # fmt: skip
    found = influencers_of(request, store, state, issue, limit)
    context = _context(
        request, auth, "Influencers", "influencers", found=found, rows=found.rows,
        issues=issues.list_issues(store=store), issue=found.issue.name if found.issue else "",
        limit=limit,
    )  # fmt: skip
    return page("influencers.html", context)


def influencers_of(request: Request, store: Store, state: WebState, issue: str,
                   limit: int) -> influencers.Influencers:  # fmt: skip
    """The influencers page's rows (also its CSV's), as of the page's time."""
    return influencers.find_influencers(
        store=store, now=page_now(request, state), settings=state.measures,
        issue=issue.strip() or None, limit=limit,
    )  # fmt: skip
