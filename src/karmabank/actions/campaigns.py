"""Campaigns: describe the help needed, send, track responses (PRODUCT.md §5).

karmabank never sends anything. The planner (`actions/mobilization.py`) chooses whom to ask and
drafts each message; `send` records the planned asks as `ask` activities once a person has sent
them (the ledger moves); `respond` records what people answered and did: acting makes an
advocate, and a thank appears in the nurture queue. Each is one transaction and returns a
frozen view whose `as_json` is what the CLI's --json, the API and the pages show.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from karmabank.actions.issues import find_issue
from karmabank.actions.opt_outs import ask_channels, opt_outs_of
from karmabank.actions.organization import ensure_organization, write_audit
from karmabank.actions.people import find_person, person_ref_json, person_refs
from karmabank.errors import ConfigError, NotFoundError, OptionError
from karmabank.model import Direction
from karmabank.names import is_text, name_key
from karmabank.store.open import Store
from karmabank.store.tables import Activity, Ask, Campaign, Issue, Person, stored_id

__all__ = ["CampaignView", "list_campaigns", "new_campaign", "respond", "send_campaign",
           "show_campaign"]  # fmt: skip


ACTIONS = ("share", "attend", "register", "donate", "volunteer", "sign", "introduce", "custom")
RESPONSES = ("yes", "no", "acted")
# what acting on each kind of campaign records as the person's inbound activity
ACTED_VERB = {"introduce": "introduce", "custom": "act"}


def reach_text(reach: float) -> str:
    """A target reach as given: 500, or 12.5 (the CLI, the page and the plan's note)."""
    return f"{int(reach):,}" if reach.is_integer() else f"{reach:,.1f}"


@dataclass(frozen=True)
class CampaignView:
    id: int
    name: str
    action: str
    issue: str | None
    budget: int
    deadline: datetime | None
    created_at: datetime
    planned_at: datetime | None
    expected_reach: float | None
    target_reach: float | None = None  # the plan stops adding asks once it is met

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "action": self.action, "issue": self.issue,
            "budget": self.budget,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "created_at": self.created_at.isoformat(),
            "planned_at": self.planned_at.isoformat() if self.planned_at else None,
            "expected_reach": self.expected_reach, "target_reach": self.target_reach,
        }  # fmt: skip


def campaign_view(session: Session, c: Campaign) -> CampaignView:
    """The view of campaign `c`, read in `session`."""
    issue = session.get(Issue, c.issue_id) if c.issue_id is not None else None
    return CampaignView(c.id, c.name, c.action, issue.name if issue else None, c.budget,
                        c.deadline, c.created_at, c.planned_at, c.expected_reach,
                        c.target_reach)  # fmt: skip


def find_campaign(session: Session, ref: str) -> Campaign:
    """A campaign by name, id or name in any case (`karmabank.names`); NotFoundError."""
    r = ref.strip()
    if not is_text(r):
        raise ConfigError(f"{r!r} is not valid Unicode text")
    found = session.scalar(select(Campaign).where(Campaign.name == r))
    by_id = stored_id(r) if r.isascii() and r.isdigit() else None
    if found is None and by_id is not None:
        found = session.get(Campaign, by_id)
    if found is None:
        found = session.scalar(
            select(Campaign).where(Campaign.name_key == name_key(r)).order_by(Campaign.id).limit(1)
        )
    if found is None:
        raise NotFoundError(f"no campaign {ref!r} (see `karmabank campaign new`)")
    return found


def new_campaign(
    *, store: Store, name: str, action: str, budget: int, now: datetime,
    issue: str | None = None, deadline: datetime | None = None,
    target_reach: float | None = None, actor: str = "cli",
) -> CampaignView:  # fmt: skip
    """A call for support: the action asked, for which issue, at most `budget` asks (fewer
    when their expected reach meets `target_reach`: `mobilization.plan_campaign`)."""
    clean = " ".join(name.split())
    if not clean:
        raise ConfigError("a campaign needs a name")
    if not is_text(clean):
        raise ConfigError(f"{clean!r} is not valid Unicode text")
    if action not in ACTIONS:
        raise ConfigError(f"unknown action {action!r} (actions: {', '.join(ACTIONS)})")
    if budget < 1:
        raise OptionError("budget", "must be at least 1 ask")
    if target_reach is not None and not (0 < target_reach < math.inf):
        raise OptionError("target_reach", f"must be a positive number, not {target_reach:g}")
    if deadline is not None and deadline <= now:
        raise OptionError("deadline", f"{deadline.isoformat()} is not in the future")
    issue_id = find_issue(store=store, ref=issue).id if issue else None
    with store.sessions.begin() as session:
        ensure_organization(session, now=now)
        if session.scalar(
            select(Campaign.id).where(Campaign.name_key == name_key(clean)).limit(1)
        ) is not None:  # fmt: skip
            raise ConfigError(f"a campaign named {clean!r} already exists")
        c = Campaign(name=clean, action=action, issue_id=issue_id, budget=budget,
                     deadline=deadline, target_reach=target_reach, created_at=now)  # fmt: skip
        session.add(c)
        session.flush()
        details: dict[str, Any] = {"action": action, "budget": budget}
        if target_reach is not None:
            details["target_reach"] = target_reach
        write_audit(session, now=now, actor=actor, action="campaign new",
                    subject=f"campaign:{c.id}", details=details)  # fmt: skip
        return campaign_view(session, c)


@dataclass(frozen=True)
class SendReport:
    campaign: str
    sent: list[dict[str, Any]]  # person objects, in the plan's order
    refused: list[dict[str, Any]]  # {"person", "reason"}: flagged since the plan

    def as_json(self) -> dict[str, Any]:
        return {"campaign": self.campaign, "sent": self.sent, "refused": self.refused}


def send_campaign(*, store: Store, name: str, now: datetime, actor: str = "cli") -> SendReport:
    """Record the planned asks as sent: one `ask` activity each (the ledger moves). Someone
    flagged do-not-contact or erased since the plan is left out, with the reason."""
    sent: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    with store.sessions.begin() as session:
        ensure_organization(session, now=now)
        c = find_campaign(session, name)
        planned = session.scalars(
            select(Ask).where(Ask.campaign_id == c.id, Ask.status == "planned")
            .order_by(Ask.position, Ask.id)
        ).all()  # fmt: skip
        if not planned:
            raise ConfigError(f"campaign {c.name!r} has no planned asks: run `campaign plan` first")
        used = session.scalar(
            select(func.count()).where(Ask.campaign_id == c.id, Ask.status != "planned")
        )
        room = c.budget - int(used or 0)
        for ask in planned:
            person = session.get(Person, ask.person_id)
            assert person is not None
            ref = person_ref_json(person)
            channels = ask_channels(ref["identities"], opt_outs_of(session, person.id))
            if person.do_not_contact or person.erased or room <= 0 or not channels:
                why = ("over the budget" if room <= 0 else
                       "erased" if person.erased else "asked not to be contacted"
                       if person.do_not_contact else
                       "opted out of every channel they have")  # fmt: skip
                refused.append({"person": ref, "reason": why})
                session.delete(ask)
                continue
            platform = channels[0]
            act = Activity(
                source_key=f"campaign:{c.id}:ask:{person.id}", occurred_at=now,
                person_id=person.id, verb=c.action, direction=Direction.ASK.value,
                channel=platform, text=ask.draft, object=c.name,
            )  # fmt: skip
            session.add(act)
            session.flush()
            ask.status, ask.sent_at, ask.activity_id = "sent", now, act.id
            sent.append(person_ref_json(person))
            room -= 1
        write_audit(session, now=now, actor=actor, action="campaign send",
                    subject=f"campaign:{c.id}", details={"sent": len(sent)})  # fmt: skip
        return SendReport(c.name, sent, refused)


@dataclass(frozen=True)
class Response:
    campaign: str
    person: dict[str, Any]
    status: str
    recorded: str | None  # the inbound activity's verb, if one was recorded

    def as_json(self) -> dict[str, Any]:
        return {"campaign": self.campaign, "person": self.person, "status": self.status,
                "recorded": self.recorded}  # fmt: skip


def respond(
    *, store: Store, name: str, ref: str, response: str, now: datetime, actor: str = "cli"
) -> Response:
    """What someone answered (`yes`/`no`) or did (`acted`). An answer is an inbound touch;
    acting records the campaign's action as their inbound activity, makes them an advocate at
    the next rescore, and puts a thank in the nurture queue."""
    if response not in RESPONSES:
        raise ConfigError(f"unknown response {response!r} (responses: {', '.join(RESPONSES)})")
    with store.sessions.begin() as session:
        c = find_campaign(session, name)
        person = find_person(session, ref)
        ask = session.scalar(select(Ask).where(Ask.campaign_id == c.id, Ask.person_id == person.id))
        if ask is None or ask.status == "planned":
            raise ConfigError(
                f"person {ref.strip()!r} was not asked in campaign {c.name!r} (send the plan first)"
            )
        if ask.status == "acted":
            raise ConfigError(f"person {ref.strip()!r} already acted on campaign {c.name!r}")
        verb = "answer"
        if response == "acted":
            verb = ACTED_VERB.get(c.action, c.action)
            ask.status, ask.response, ask.acted_at = "acted", "yes", now
            ask.responded_at = ask.responded_at or now
        else:
            ask.status, ask.response, ask.responded_at = "responded", response, now
        key = f"campaign:{c.id}:{'acted' if response == 'acted' else 'answer'}:{person.id}"
        recorded = None
        if session.scalar(select(Activity.id).where(Activity.source_key == key)) is None:
            platform = person.identities[0].platform if person.identities else "other"
            session.add(Activity(source_key=key, occurred_at=now, person_id=person.id, verb=verb,
                                 direction=Direction.IN.value, channel=platform,
                                 object=c.name, text=None))  # fmt: skip
            recorded = verb
        write_audit(session, now=now, actor=actor, action="campaign respond",
                    subject=f"campaign:{c.id}",
                    details={"person": person.id, "response": response})  # fmt: skip
        return Response(c.name, person_ref_json(person), ask.status, recorded)


FUNNEL = ("planned", "sent", "yes", "no", "acted", "thanked")


@dataclass(frozen=True)
class CampaignShow:
    campaign: CampaignView
    funnel: dict[str, int]
    asks: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {"campaign": self.campaign.as_json(), "funnel": self.funnel, "asks": self.asks}


def show_campaign(*, store: Store, name: str) -> CampaignShow:
    """The campaign, its funnel (planned → sent → answered → acted → thanked) and its asks."""
    with store.sessions() as session:
        c = find_campaign(session, name)
        view = campaign_view(session, c)
        rows = session.scalars(
            select(Ask).where(Ask.campaign_id == c.id).order_by(Ask.position, Ask.id)
        ).all()
        refs = person_refs(store, [a.person_id for a in rows])
        funnel = dict.fromkeys(FUNNEL, 0)
        asks = []
        for a in rows:
            funnel["planned"] += 1
            funnel["sent"] += a.status != "planned"
            funnel["yes"] += a.response == "yes"
            funnel["no"] += a.response == "no"
            funnel["acted"] += a.status == "acted"
            funnel["thanked"] += a.thanked_at is not None
            asks.append({
                "person": refs[a.person_id], "status": a.status, "response": a.response,
                "position": a.position, "likelihood": a.likelihood,
                "marginal_reach": a.marginal_reach,
                "sent_at": a.sent_at.isoformat() if a.sent_at else None,
                "acted_at": a.acted_at.isoformat() if a.acted_at else None,
                "thanked_at": a.thanked_at.isoformat() if a.thanked_at else None,
            })  # fmt: skip
        return CampaignShow(view, funnel, asks)


@dataclass(frozen=True)
class CampaignSummary:
    campaign: CampaignView
    funnel: dict[str, int]  # as `show_campaign`'s

    @property
    def status(self) -> str:
        """new (never planned), planned (nothing sent yet) or sent (asks went out)."""
        if self.funnel["sent"]:
            return "sent"
        return "planned" if self.campaign.planned_at is not None else "new"

    def as_json(self) -> dict[str, Any]:
        return {**self.campaign.as_json(), "status": self.status, "funnel": self.funnel}


def list_campaigns(*, store: Store, limit: int | None = None) -> list[CampaignSummary]:
    """Every campaign, the newest first, with its status and funnel counts (two queries)."""

    def count(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    with store.sessions() as session:
        rows = session.execute(
            select(Campaign, Issue.name)
            .outerjoin(Issue, Issue.id == Campaign.issue_id)
            .order_by(Campaign.created_at.desc(), Campaign.id.desc())
            .limit(limit)
        ).all()
        ids = [c.id for c, _ in rows]
        counts: dict[int, tuple[int, ...]] = {}
        if ids:
            funnel = session.execute(
                select(
                    Ask.campaign_id, func.count(), count(Ask.status != "planned"),
                    count(Ask.response == "yes"), count(Ask.response == "no"),
                    count(Ask.status == "acted"), count(Ask.thanked_at.is_not(None)),
                ).where(Ask.campaign_id.in_(ids)).group_by(Ask.campaign_id)
            )  # fmt: skip
            counts = {int(r[0]): tuple(int(n) for n in r[1:]) for r in funnel}
        return [
            CampaignSummary(
                CampaignView(
                    c.id,
                    c.name,
                    c.action,
                    issue,
                    c.budget,
                    c.deadline,
                    c.created_at,
                    c.planned_at,
                    c.expected_reach,
                    c.target_reach,
                ),
                dict(zip(FUNNEL, counts.get(c.id, (0,) * len(FUNNEL)), strict=True)),
            )  # fmt: skip
            for c, issue in rows
        ]
