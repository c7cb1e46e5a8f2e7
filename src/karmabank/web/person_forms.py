"""The person page's forms: record a give or an ask, set or clear a flag, opt out of a channel
(or back in). Each is the CLI's action (`record`, `flag`, `optout`) behind the write permission
and the session's CSRF token, then a redirect back to the person's page; they work without
JavaScript."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path
from fastapi.responses import RedirectResponse, Response

from karmabank.actions.opt_outs import set_opt_out
from karmabank.actions.people import set_flag
from karmabank.actions.recording import record_activity
from karmabank.model import Direction, Flag
from karmabank.web import schemas as s
from karmabank.web.pages import PageWriter
from karmabank.web.security import StateDep, StoreDep

router = APIRouter(include_in_schema=False)

PersonId = Annotated[int, Path(ge=1, le=s.MAX_ID)]
OnOff = Annotated[str, Form(pattern="^(on|off)$")]


def _back(person_id: int, section: str) -> Response:
    return RedirectResponse(f"/people/id:{person_id}#{section}", status_code=303)


@router.post("/people/id:{person_id}/record")
def record_page(
    auth: PageWriter, store: StoreDep, state: StateDep, person_id: PersonId,
    direction: Annotated[str, Form(pattern="^(give|ask)$")],
    verb: Annotated[str, Form(min_length=1, max_length=40), s.STORABLE],
    channel: Annotated[str, Form(max_length=40), s.STORABLE] = "",
    text: Annotated[str, Form(max_length=2000), s.STORABLE] = "",
) -> Response:  # fmt: skip
    now = state.settings.clock()
    record_activity(
        store=store, direction=Direction(direction), ref=f"id:{person_id}", verb=verb, at=now,
        now=now, channel=channel.strip() or None, text=text.strip() or None, actor=auth.actor,
    )  # fmt: skip
    return _back(person_id, "timeline-h")


@router.post("/people/id:{person_id}/flag")
def flag_page(
    auth: PageWriter, store: StoreDep, state: StateDep, person_id: PersonId,
    flag: Annotated[Flag, Form()], on: OnOff,
) -> Response:  # fmt: skip
    set_flag(store=store, ref=f"id:{person_id}", flag=flag, on=on == "on",
             now=state.settings.clock(), actor=auth.actor)  # fmt: skip
    return _back(person_id, "manage-h")


@router.post("/people/id:{person_id}/optout")
def optout_page(
    auth: PageWriter, store: StoreDep, state: StateDep, person_id: PersonId,
    channel: Annotated[str, Form(min_length=1, max_length=40), s.STORABLE], on: OnOff,
) -> Response:  # fmt: skip
    set_opt_out(store=store, ref=f"id:{person_id}", channel=channel, on=on == "on",
                now=state.settings.clock(), actor=auth.actor)  # fmt: skip
    return _back(person_id, "manage-h")
