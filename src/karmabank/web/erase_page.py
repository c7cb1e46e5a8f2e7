"""Erasing a person from the dashboard, for owners: the person page's "Erase" form posts here
with the session's CSRF token and a ticked confirmation box; the answer is a page with what
went, in counts (the same action as `karmabank erase` and `POST /api/people/{ref}/erase`).
Anyone but an owner gets 403; an unticked box 400."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, Response

from karmabank.actions import accounts
from karmabank.actions.erasure import erase_person, erasure_target
from karmabank.web import schemas as s
from karmabank.web.page_forms import PermittedForm
from karmabank.web.pages import _context
from karmabank.web.security import Auth, StateDep, StoreDep
from karmabank.web.templating import page

router = APIRouter(include_in_schema=False)
ERASER = PermittedForm(accounts.Permission.ERASE, "erase a person")  # an owner's form


@router.post("/people/{ref:path}/erase", response_class=HTMLResponse)
def erase_page(
    request: Request, auth: Annotated[Auth, Depends(ERASER)], store: StoreDep,
    state: StateDep, ref: Annotated[str, Path(max_length=300), s.STORABLE],
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:  # fmt: skip
    if confirm != "yes":
        raise HTTPException(400, "not erased: tick the box to confirm")
    target = erasure_target(store=store, ref=ref)
    done = erase_person(store=store, ref=f"id:{target.person_id}", now=state.settings.clock(),
                        actor=auth.actor, settings=state.measures)  # fmt: skip
    context = _context(request, auth, "Erased", "people", erased=done.as_json(),
                       shown=target.shown, asks=target.asks)  # fmt: skip
    return page("erased.html", context)
