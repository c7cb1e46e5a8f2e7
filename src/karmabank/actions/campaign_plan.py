"""A plan written down: each chosen person's facts (circle, rhythm, stage) and reason, a
drafted message per ask, and the asks stored as the campaign's planned ones, in one
transaction (`mobilization.plan_campaign` calls these after choosing whom to ask)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlalchemy import delete, select

from karmabank.actions.campaigns import CampaignView, campaign_view
from karmabank.actions.opt_outs import Consent, ask_channels, opt_outs_of
from karmabank.actions.organization import write_audit
from karmabank.actions.templates import first_name, render_template, templates
from karmabank.measures.planning import Facts, ask_reason
from karmabank.store import arrow_io
from karmabank.store.open import Store
from karmabank.store.tables import Ask, Campaign, Organization

if TYPE_CHECKING:
    import jinja2


@dataclass(frozen=True)
class PlannedAsk:
    person: dict[str, Any]
    marginal_reach: float
    likelihood: float
    reason: str
    draft: str

    def as_json(self) -> dict[str, Any]:
        return {"person": self.person, "marginal_reach": round(self.marginal_reach, 3),
                "likelihood": round(self.likelihood, 4), "reason": self.reason,
                "draft": self.draft}  # fmt: skip


_FACTS = pa.schema(
    [("person_id", pa.int64()), ("circle", pa.string()), ("status", pa.string()),
     ("stage", pa.string())]
)  # fmt: skip


def facts_of(store: Store, people: list[int]) -> dict[int, Facts]:
    """person → (circle, status, stage) of `people`, for the reasons (their rows only)."""
    if not people:
        return {}
    ids = ", ".join(str(int(p)) for p in people)
    with arrow_io.connect(store.url, store.engine) as conn:
        scores = arrow_io.read_table(
            conn, f"""(SELECT person_id, circle, status, stage FROM person_score
                   WHERE person_id IN ({ids})) f""", _FACTS,
        )  # fmt: skip
    return {
        int(p): (c, s, g)
        for p, c, s, g in zip(
            scores.column("person_id").to_pylist(),
            scores.column("circle").to_pylist(),
            scores.column("status").to_pylist(),
            scores.column("stage").to_pylist(),
            strict=True,
        )  # fmt: skip
    }


def _draft(
    env: jinja2.Environment, view: CampaignView, org: str | None, ref: dict[str, Any],
    opted_out: list[str],
) -> str:  # fmt: skip
    """The campaign's ask to this person, from the most specific template there is
    (`ask.<action>.<channel>`, `ask.<action>`, `ask.<channel>`, `ask`), on the first channel of
    theirs they did not opt out of."""
    name = first_name(ref["name"])
    context = {
        "name": name, "hi": f"Hi {name}" if name else "Hi", "org": org or "us",
        "campaign": view.name, "action": view.action, "issue": view.issue or "",
        "deadline": view.deadline.strftime("%-d %B") if view.deadline else "",
    }  # fmt: skip
    channel = next(iter(ask_channels(ref["identities"], opted_out)), "other")
    names = [f"ask.{view.action}.{channel}", f"ask.{view.action}", f"ask.{channel}", "ask"]
    return render_template(env, names, context, "campaign ask")


def write_plan(
    *, store: Store, view: CampaignView, now: datetime, chosen: list[tuple[int, float, float]],
    refs: dict[int, dict[str, Any]], facts: dict[int, Facts], whys: dict[int, str],
    expected: float, actor: str = "cli",
) -> tuple[list[PlannedAsk], CampaignView]:  # fmt: skip
    """Replace the campaign's planned asks by `chosen` ((person, marginal reach, likelihood),
    in order), each with its reason and draft, and record the plan's time and `expected`
    reach, in one transaction; the asks and the campaign as it is then."""
    env = templates(store, "campaign")
    asks: list[PlannedAsk] = []
    with store.sessions.begin() as session:
        org = session.scalar(select(Organization.name).order_by(Organization.id).limit(1))
        session.execute(delete(Ask).where(Ask.campaign_id == view.id, Ask.status == "planned"))
        for position, (person_id, gain, chance) in enumerate(chosen, start=1):
            ref = refs[person_id]
            consent = Consent.of(ref["identities"], opt_outs_of(session, person_id))
            draft = _draft(env, view, org, ref, list(consent.opted_out))
            fact = facts.get(person_id, (None, None, None))
            reason = ask_reason(fact, gain, chance, whys.get(person_id, ""))
            if consent.opted_out:  # "...; opted out of email: ask on mastodon"
                reason += f"; {consent.note(next(iter(consent.channels), 'other'), 'ask')}"
            session.add(Ask(campaign_id=view.id, person_id=person_id, status="planned",
                            planned_at=now, position=position, marginal_reach=gain,
                            likelihood=chance, reason=reason, draft=draft))  # fmt: skip
            asks.append(PlannedAsk(ref, gain, chance, reason, draft))
        c = session.get(Campaign, view.id)
        assert c is not None
        c.planned_at, c.expected_reach = now, expected
        write_audit(session, now=now, actor=actor, action="campaign plan",
                    subject=f"campaign:{view.id}",
                    details={"asks": len(chosen), "expected_reach": expected},
                    scored=False)  # fmt: skip
        session.flush()
        session.refresh(c)  # as stored (the view reads what a later read would)
        return asks, campaign_view(session, c)
