"""A person's export and the audit log, for owners: `GET /api/export/{ref}?format=json|csv`
downloads everything about one person (the person page links it), `GET /api/audit` and the
`/audit` page read the audit log, newest first, a page at a time (`before`: the id to go on
below). Anyone but an owner gets 403: both show personal data of anyone."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from karmabank.actions import accounts
from karmabank.actions.audit import PAGE, read_audit
from karmabank.actions.person_export import check_format, export_person
from karmabank.errors import KarmabankError
from karmabank.settings import parse_instant
from karmabank.web import schemas as s
from karmabank.web.pages import _context
from karmabank.web.security import Auth, AuthDep, StateDep, StoreDep
from karmabank.web.team import PageOwner
from karmabank.web.templating import page

router = APIRouter()


def _owner(auth: AuthDep) -> Auth:
    if not accounts.may(auth.user.role, accounts.Permission.MANAGE_USERS):
        raise HTTPException(403, f"a {auth.user.role} may not export people or read the audit log")
    return auth


Owner = Annotated[Auth, Depends(_owner)]

Before = Annotated[
    int | None, Query(ge=1, le=s.MAX_ID, description="Entries with an id below this (paging).")
]
Limit = Annotated[int, Query(ge=1, le=1000, description="At most this many entries.")]
Since = Annotated[s.Instant | None, Query(description="Entries at or after this ISO-8601 time.")]
PersonQ = Annotated[s.Ref | None, Query(description="Only the entries about this person.")]


def _since(since: str | None) -> datetime | None:
    return None if not since else parse_instant(since, "since")


@router.get("/api/export/{ref:path}", tags=["privacy"])
def export_route(
    auth: Owner, store: StoreDep, state: StateDep,
    ref: Annotated[s.Ref, Path(description="An id, an identity platform:key, or a unique name.")],
    format: Annotated[str, Query(max_length=8, description="json or csv")] = "json",
) -> Response:  # fmt: skip
    """Everything karmabank holds about one person (docs/privacy.md), as a file to download:
    the `karmabank.person-export` JSON document or the same as `section,item,field,value`
    CSV rows. Owners only."""
    fmt = check_format(format)
    found = export_person(store=store, ref=ref, now=state.settings.clock(),
                          settings=state.measures)  # fmt: skip
    name = f"karmabank-person-{found.person_id}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "csv":
        return Response(found.csv_text(), media_type="text/csv; charset=utf-8", headers=headers)
    body = json.dumps(found.as_json(), ensure_ascii=False, indent=2) + "\n"
    return Response(body, media_type="application/json", headers=headers)


@router.get("/api/audit", tags=["privacy"])
def audit_route(
    auth: Owner, store: StoreDep, person: PersonQ = None, since: Since = None,
    limit: Limit = PAGE, before: Before = None,
) -> dict[str, Any]:  # fmt: skip
    """The audit log, newest first: `entries` and `next_before` (pass it as `before` for the
    next page; null on the last). Owners only."""
    return read_audit(store=store, person=person, since=_since(since), limit=limit,
                      before=before).as_json()  # fmt: skip


@router.get("/audit", response_class=HTMLResponse, include_in_schema=False)
def audit_page(
    request: Request, auth: PageOwner, store: StoreDep, person: PersonQ = None,
    since: Since = None, before: Before = None,
) -> Response:  # fmt: skip
    error = None
    try:
        found = read_audit(store=store, person=person or None, since=_since(since),
                           limit=PAGE, before=before)  # fmt: skip
        entries, next_before = [e.as_json() for e in found.entries], found.next_before
    except KarmabankError as e:  # a person or time that names nothing: said on the page
        error, entries, next_before = str(e), [], None
    return page("audit.html", _context(
        request, auth, "Audit log", "audit", entries=entries, next_before=next_before,
        person=person or "", since=since or "", error=error,
    ), 400 if error else 200)  # fmt: skip
