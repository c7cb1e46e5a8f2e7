"""The REST API under /api: parse, call one action (the same the CLI calls), return JSON.

Reads need any role, writes need organizer or owner, users need owner (`security`). Where the
CLI takes `--now`, a route takes `?now=ISO-8601` (default: the clock).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from karmabank.actions import accounts, campaigns, influencers, issues, nurture, people
from karmabank.actions.erasure import erase_person
from karmabank.actions.listing import stream_people
from karmabank.actions.mobilization import plan_campaign
from karmabank.actions.recording import ActivityView, record_activity
from karmabank.actions.relationships import network_status, person_scores
from karmabank.bounds import MAX_SNOOZE_DAYS
from karmabank.model import Circle, Direction, Flag, RhythmStatus, Stage
from karmabank.settings import parse_instant
from karmabank.web import schemas as s
from karmabank.web.security import (
    Auth,
    Owner,
    Reader,
    StateDep,
    StoreDep,
    Writer,
    requires,
    session_csrf,
)

_PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {"model": s.Problem, "description": "A value the action refused (the detail says why)"},
    401: {"model": s.Problem, "description": "No valid bearer token or session"},
    403: {"model": s.Problem, "description": "The role may not, or a cookie POST without CSRF"},
    404: {"model": s.Problem, "description": "No such person, campaign, item or merge"},
    409: {"model": s.Problem, "description": "Ambiguous name, do-not-contact, refused merge"},
}
router = APIRouter(prefix="/api", responses=_PROBLEMS)
Eraser = Annotated[Auth, Depends(requires(accounts.Permission.ERASE))]

Now = Annotated[
    s.Instant | None,
    Query(description="Compute as of this ISO-8601 time (naive is UTC; default: the clock). "
          "Organizers and owners only: a rescore at another time writes history."),
]  # fmt: skip
ItemId = Annotated[int, Path(ge=1, le=s.MAX_ID, description="The item's id, from GET /nurture.")]
CampaignName = Annotated[s.Ref, Path(description="The campaign's name (or id).")]
PersonRefPath = Annotated[
    s.Ref, Path(description="An id, an identity platform:key, or a unique name.")
]


def _clock(auth: Reader, state: StateDep, now: Now = None) -> datetime:
    """`?now=` (as the CLI's --now), else the clock. Computing as of another time rescores
    and records ladder moves at that time, so a viewer, who reads only, may not."""
    if not now:
        return state.settings.clock()
    if not accounts.may(auth.user.role, accounts.Permission.WRITE):
        raise HTTPException(403, f"a {auth.user.role} may not compute as of another time (now)")
    return parse_instant(now, "now")


Clock = Annotated[datetime, Depends(_clock)]


def _activity(a: ActivityView) -> s.ActivityOut:
    return s.ActivityOut(**a.as_json())


# -- people ------------------------------------------------------------------------------------


@router.get("/people", response_model=s.PeoplePage, tags=["people"])
def list_people_route(
    auth: Reader,
    store: StoreDep,
    state: StateDep,
    now: Clock,
    circle: Annotated[s.Short | None, Query(description=", ".join(Circle))] = None,
    status: Annotated[s.Short | None, Query(description=", ".join(RhythmStatus))] = None,
    stage: Annotated[s.Short | None, Query(description=", ".join(Stage))] = None,
    sort: Annotated[
        s.Short, Query(description="warmth, tenure, balance, silence (longest first) or recent")
    ] = "warmth",
    q: Annotated[s.Name | None, Query(description="Name or identity contains.")] = None,
    flag: Annotated[Flag | None, Query(description="Only people with this flag.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> dict[str, Any]:
    """People with their circle, rhythm status, warmth, balance and stage (warmest first)."""
    rows = [r for chunk in stream_people(
        store=store, now=now, settings=state.measures,
        limit=offset + limit + 1, query=q, flag=flag, circle=circle, status=status,
        stage=stage, sort=sort, details=True,
    ) for r in chunk]  # fmt: skip
    items = [r.as_json() for r in rows[offset : offset + limit]]
    more = len(rows) > offset + limit
    return {"items": items, "offset": offset, "limit": limit,
            "next_offset": offset + limit if more else None}  # fmt: skip


@router.get("/people/{ref:path}", tags=["people"])
def person_route(auth: Reader, store: StoreDep, state: StateDep, ref: PersonRefPath,
                 now: Clock) -> dict[str, Any]:  # fmt: skip
    """One person: identities, flags, every score with its parts and the sentence that explains
    it (`why`), the ledger and the timeline."""
    return person_scores(store=store, ref=ref, now=now, settings=state.measures).as_json()


@router.post("/people/{ref:path}/flags", response_model=s.FlagOut, tags=["people"])
def flag_route(auth: Writer, store: StoreDep, state: StateDep, ref: PersonRefPath,
               body: s.FlagIn) -> dict[str, Any]:  # fmt: skip
    """Set (or, with `"on": false`, clear) team, bot or do_not_contact."""
    p = people.set_flag(store=store, ref=ref, flag=Flag(body.flag), on=body.on,
                        now=state.settings.clock(), actor=auth.actor)  # fmt: skip
    return {"person": p.as_json(), "flag": body.flag, "on": body.on}


@router.post("/people/{ref:path}/erase", response_model=s.ErasureOut, tags=["people"])
def erase_route(auth: Eraser, store: StoreDep, state: StateDep,
                ref: PersonRefPath) -> dict[str, Any]:  # fmt: skip
    """Erase the person for good (`karmabank erase`): their names, identities and activities
    go, a tombstone of salted hashes keeps imports and syncs from bringing them back, the
    scores are recomputed. Owners only; 404 for nobody or someone already erased."""
    return erase_person(store=store, ref=ref, now=state.settings.clock(), actor=auth.actor,
                        settings=state.measures).as_json()  # fmt: skip


@router.post("/activities", status_code=201, response_model=s.ActivityOut, tags=["people"])
def record_route(auth: Writer, store: StoreDep, body: s.ActivityIn,
                 now: Clock) -> s.ActivityOut:  # fmt: skip
    """Record one activity by hand: something a person did (`in`), or something the
    organization gave or asked (a new identity creates its person)."""
    act = record_activity(
        store=store, direction=Direction(body.direction), ref=body.person, verb=body.verb,
        at=parse_instant(body.at, "at") if body.at else now, now=now, channel=body.channel,
        text=body.text, object_=body.object, weight=body.weight, name=body.name,
        actor=auth.actor,
    )  # fmt: skip
    return _activity(act)


@router.get("/status", tags=["people"])
def status_route(auth: Reader, store: StoreDep, state: StateDep, now: Clock) -> dict[str, Any]:
    """The network at a glance: the share ratio, people per circle, rhythm status and stage."""
    return network_status(store=store, now=now, settings=state.measures)


# -- issues and influencers --------------------------------------------------------------------


@router.get("/issues", response_model=list[s.IssueOut], tags=["issues"])
def list_issues_route(auth: Reader, store: StoreDep) -> list[dict[str, Any]]:
    """The organization's issues."""
    return [i.as_json() for i in issues.list_issues(store=store)]


@router.post("/issues", status_code=201, response_model=s.IssueOut, tags=["issues"])
def add_issue_route(auth: Writer, store: StoreDep, body: s.IssueIn,
                    now: Clock) -> dict[str, Any]:  # fmt: skip
    """Add an issue the organization cares about, with its keywords."""
    issue = issues.add_issue(
        store=store, name=body.name, keywords=body.keywords, description=body.description,
        now=now, actor=auth.actor,
    )  # fmt: skip
    return issue.as_json()


@router.get("/influencers", tags=["issues"])
def influencers_route(
    auth: Reader,
    store: StoreDep,
    state: StateDep,
    now: Clock,
    issue: Annotated[
        s.Ref | None, Query(description="An issue's id or name (default: any).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 10,
) -> dict[str, Any]:
    """People with warmth, reach and affinity for the organization's issues, with the parts."""
    found = influencers.find_influencers(
        store=store, now=now, settings=state.measures, issue=issue,
        limit=limit,
    )  # fmt: skip
    return {
        "issue": found.issue.as_json() if found.issue else None,
        "affinity_known": found.affinity_known, "note": found.note, "rows": found.rows,
    }  # fmt: skip


# -- the nurture queue -------------------------------------------------------------------------


@router.get("/nurture", response_model=list[s.NurtureItemOut], tags=["nurture"])
def nurture_route(
    auth: Reader, store: StoreDep, state: StateDep, now: Clock,
    limit: Annotated[int | None, Query(ge=1, le=100, description="Default 10.")] = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Today's queue: who to thank, answer, welcome, check in with, celebrate, share."""
    items = nurture.nurture_queue(store=store, now=now,
                                  settings=state.measures, limit=limit)  # fmt: skip
    return [i.as_json() for i in items]


@router.post("/nurture/{item_id}/done", response_model=s.NurtureDoneOut, tags=["nurture"])
def nurture_done_route(auth: Writer, store: StoreDep, item_id: ItemId,
                       now: Clock) -> s.NurtureDoneOut:  # fmt: skip
    """Record the give the item asked for (after you sent it yourself): the ledger moves."""
    row, act = nurture.nurture_done(store=store, item_id=item_id, now=now,
                                    actor=auth.actor)  # fmt: skip
    return s.NurtureDoneOut(item_id=row.id, status=row.status, activity=_activity(act))


@router.post("/nurture/{item_id}/skip", response_model=s.NurtureStatusOut, tags=["nurture"])
def nurture_skip_route(auth: Writer, store: StoreDep, item_id: ItemId,
                       now: Clock) -> s.NurtureStatusOut:  # fmt: skip
    """Skip an item: it will not come back."""
    row = nurture.nurture_skip(store=store, item_id=item_id, now=now, actor=auth.actor)
    return s.NurtureStatusOut(item_id=row.id, status=row.status, snoozed_until=None)


@router.post("/nurture/{item_id}/snooze", response_model=s.NurtureStatusOut, tags=["nurture"])
def nurture_snooze_route(
    auth: Writer, store: StoreDep, item_id: ItemId, now: Clock,
    days: Annotated[int, Query(ge=1, le=MAX_SNOOZE_DAYS,
                               description="Bring it back after so many days.")] = 7,
) -> s.NurtureStatusOut:  # fmt: skip
    """Snooze an item for some days."""
    row = nurture.nurture_snooze(store=store, item_id=item_id, now=now, days=days,
                                 actor=auth.actor)  # fmt: skip
    return s.NurtureStatusOut(item_id=row.id, status=row.status,
                              snoozed_until=people.iso(row.snoozed_until))  # fmt: skip


# -- campaigns ---------------------------------------------------------------------------------


@router.post("/campaigns", status_code=201, response_model=s.CampaignOut, tags=["campaigns"])
def new_campaign_route(auth: Writer, store: StoreDep, body: s.CampaignIn,
                       now: Clock) -> dict[str, Any]:  # fmt: skip
    """Describe the help needed: the action asked, the issue, at most `budget` asks."""
    c = campaigns.new_campaign(
        store=store, name=body.name, action=body.action, budget=body.budget,
        now=now, issue=body.issue,
        deadline=parse_instant(body.deadline, "deadline") if body.deadline else None,
        target_reach=body.target_reach, actor=auth.actor,
    )  # fmt: skip
    return c.as_json()


@router.get("/campaigns", response_model=list[s.CampaignRow], tags=["campaigns"])
def list_campaigns_route(
    auth: Reader, store: StoreDep,
    limit: Annotated[int | None, Query(ge=1, le=10_000, description="Default: all.")] = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Every campaign, the newest first, with its status and funnel counts (`campaign list`)."""
    return [r.as_json() for r in campaigns.list_campaigns(store=store, limit=limit)]


@router.post("/campaigns/{name:path}/plan", tags=["campaigns"])
def plan_campaign_route(
    auth: Writer, store: StoreDep, state: StateDep, name: CampaignName, now: Clock,
    excluded: Annotated[
        int, Query(ge=0, le=100_000, description="Show at most this many people left out.")
    ] = 100,
) -> dict[str, Any]:  # fmt: skip
    """Whom to ask, in order, with why and a draft; and who is left out, with the rule."""
    plan = plan_campaign(store=store, name=name, now=now, settings=state.measures,
                         excluded_limit=excluded, actor=auth.actor)  # fmt: skip
    return plan.report_json()


@router.post("/campaigns/{name:path}/send", response_model=s.SendOut, tags=["campaigns"])
def send_campaign_route(auth: Writer, store: StoreDep, name: CampaignName,
                        now: Clock) -> dict[str, Any]:  # fmt: skip
    """Record the planned asks as sent (after you sent them yourself): the ledger moves."""
    report = campaigns.send_campaign(store=store, name=name, now=now,
                                     actor=auth.actor)  # fmt: skip
    return report.as_json()


@router.post("/campaigns/{name:path}/responses", response_model=s.ResponseOut, tags=["campaigns"])
def respond_route(auth: Writer, store: StoreDep, name: CampaignName,
                  body: s.ResponseIn, now: Clock) -> dict[str, Any]:  # fmt: skip
    """What someone answered (yes, no) or that they acted (a thank joins the nurture queue)."""
    r = campaigns.respond(store=store, name=name, ref=body.person, response=body.response,
                          now=now, actor=auth.actor)  # fmt: skip
    return r.as_json()


@router.get("/campaigns/{name:path}", tags=["campaigns"])
def show_campaign_route(auth: Reader, store: StoreDep, name: CampaignName) -> dict[str, Any]:
    """The campaign, its funnel (planned, sent, yes, no, acted, thanked) and its asks."""
    return campaigns.show_campaign(store=store, name=name).as_json()


# -- who is asking, and team accounts ----------------------------------------------------------


@router.get("/me", response_model=s.Me, tags=["accounts"])
def me_route(auth: Reader) -> s.Me:
    """The user making the request, their role and permissions; with a session cookie, the
    CSRF token to send as X-CSRF-Token on POST requests."""
    role = accounts.Role(auth.user.role)
    return s.Me(
        id=auth.user.id, email=auth.user.email, role=role.value,
        permissions=sorted(p.value for p in accounts.PERMISSIONS[role]), via=auth.via,
        csrf_token=session_csrf(auth.session_id) if auth.session_id else None,
    )  # fmt: skip


@router.get("/users", response_model=list[s.UserOut], tags=["accounts"])
def list_users_route(auth: Owner, store: StoreDep) -> list[dict[str, Any]]:
    """The team's accounts (owners only)."""
    return [u.as_json() for u in accounts.list_users(store=store)]


@router.post("/users", status_code=201, response_model=s.NewUserOut, tags=["accounts"])
def add_user_route(auth: Owner, store: StoreDep, state: StateDep, body: s.UserIn) -> dict[str, Any]:
    """Add a team member (owners only); without a password one is generated and shown once."""
    user, generated = accounts.add_user(
        store=store, email=body.email, role=body.role, now=state.settings.clock(),
        password=body.password, actor=auth.actor,
    )  # fmt: skip
    return {**user.as_json(), "password": generated}


UserId = Annotated[int, Path(ge=1, le=s.MAX_ID, description="The user's id, from GET /users.")]
TokenId = Annotated[int, Path(ge=1, le=s.MAX_ID, description="The token's id, from GET /tokens.")]


@router.post("/users/{user_id}/disable", response_model=s.UserOut, tags=["accounts"])
def disable_user_route(auth: Owner, store: StoreDep, state: StateDep,
                       user_id: UserId) -> dict[str, Any]:  # fmt: skip
    """Disable a user (owners only): their sessions end and their tokens are refused at once.
    The last enabled owner cannot be disabled."""
    user = accounts.set_disabled(store=store, user_id=user_id, disabled=True,
                                 now=state.settings.clock(), actor=auth.actor)  # fmt: skip
    return user.as_json()


@router.post("/users/{user_id}/enable", response_model=s.UserOut, tags=["accounts"])
def enable_user_route(auth: Owner, store: StoreDep, state: StateDep,
                      user_id: UserId) -> dict[str, Any]:  # fmt: skip
    """Enable a disabled user again (owners only): their tokens work again; they log in anew."""
    user = accounts.set_disabled(store=store, user_id=user_id, disabled=False,
                                 now=state.settings.clock(), actor=auth.actor)  # fmt: skip
    return user.as_json()


@router.get("/tokens", response_model=list[s.TokenOut], tags=["accounts"])
def list_tokens_route(auth: Owner, store: StoreDep) -> list[dict[str, Any]]:
    """Every API token: id, whose, created, last used (owners only; never the token itself)."""
    return [t.as_json() for t in accounts.list_tokens(store=store)]


@router.post("/tokens/{token_id}/revoke", response_model=s.TokenOut, tags=["accounts"])
def revoke_token_route(auth: Owner, store: StoreDep, state: StateDep,
                       token_id: TokenId) -> dict[str, Any]:  # fmt: skip
    """Revoke an API token (owners only): it stops working at once."""
    return accounts.revoke_token(store=store, token=str(token_id), now=state.settings.clock(),
                                 actor=auth.actor).as_json()  # fmt: skip
