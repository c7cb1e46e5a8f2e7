"""The merge review in the dashboard (issue 15, item 5), for organizers and owners: `/merge-review`
lists the stored open suggestions, most confident first, each pair side by side (names,
identities, flags, activities, last activity, channels) with the evidence field by field and
one form with a Merge and a Not the same button (`merge never`); Find suggestions runs the
matcher again. A person's page shows "Merged from" with an Unmerge button per merge
(`POST /merges/{id}/unmerge`, here too). Every form carries the session's CSRF token and needs
the write permission: a viewer gets 403 on the page and on every form, and no link to it.
Names come from imports, so every one of them goes through the autoescaping templates.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from karmabank.actions import accounts
from karmabank.actions.merge_review import NOT_SEEN, merge_by_id, review_suggestions
from karmabank.actions.merge_suggestions import merge_suggestions
from karmabank.actions.merging import merge_never, merge_people, unmerge
from karmabank.errors import NotFoundError
from karmabank.web import schemas as s
from karmabank.web.merge_views import evidence_rows
from karmabank.web.pages import PageAuth, PageWriter, _context
from karmabank.web.security import Auth, StateDep, StoreDep
from karmabank.web.templating import page

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20  # each suggestion is a card of two persons and their evidence


def page_reviewer(auth: PageAuth) -> Auth:
    """The review page is for those who may act on it: organizers and owners."""
    if not accounts.may(auth.user.role, accounts.Permission.WRITE):
        raise HTTPException(403, f"a {auth.user.role} may not review merges")
    return auth


Reviewer = Annotated[Auth, Depends(page_reviewer)]
Offset = Annotated[int, Query(ge=0, le=100_000)]
Confidence = Annotated[float, Query(ge=0, le=1, allow_inf_nan=False)]
Id = Annotated[int | None, Query(ge=1, le=s.MAX_ID)]
PersonField = Annotated[str, Form(min_length=1, max_length=300), s.STORABLE]
Why = Annotated[str, Form(max_length=5000), s.STORABLE]
BackOffset = Annotated[int, Form(ge=0, le=100_000)]
BackConfidence = Annotated[float, Form(ge=0, le=1, allow_inf_nan=False)]


def _review_link(offset: int, min_confidence: float, **note: int) -> str:
    query: dict[str, Any] = {"offset": offset} if offset else {}
    if min_confidence:
        query["min_confidence"] = f"{min_confidence:g}"
    return "/merge-review" + (f"?{urlencode({**query, **note})}" if query or note else "")


@router.get("/merge-review", response_class=HTMLResponse)
def review_page(
    request: Request, auth: Reviewer, store: StoreDep, offset: Offset = 0,
    min_confidence: Confidence = 0.0, merged: Id = None, apart_a: Id = None,
    apart_b: Id = None, refreshed: Annotated[int, Query(ge=0, le=1)] = 0,
) -> Response:  # fmt: skip
    found = review_suggestions(store=store, limit=PAGE_SIZE, offset=offset,
                               min_confidence=min_confidence)  # fmt: skip
    cards = [
        {**s.as_json(), "seen_a": found.seen.get(s.a.id, NOT_SEEN).as_json(),
         "seen_b": found.seen.get(s.b.id, NOT_SEEN).as_json(),
         "shown": evidence_rows(s.evidence)}
        for s in found.suggestions
    ]  # fmt: skip
    just_merged = None
    if merged is not None:
        try:
            just_merged = merge_by_id(store=store, merge_id=merged).as_json()
        except NotFoundError:
            just_merged = None
    context = _context(
        request, auth, "Merge review", "merges", cards=cards, total=found.total, offset=offset,
        min_confidence=min_confidence, shown_from=offset + 1, shown_to=offset + len(cards),
        previous=_review_link(max(0, offset - PAGE_SIZE), min_confidence) if offset else None,
        next=(_review_link(offset + PAGE_SIZE, min_confidence)
              if offset + PAGE_SIZE < found.total else None),
        just_merged=just_merged, apart=(apart_a, apart_b) if apart_a and apart_b else None,
        refreshed=bool(refreshed),
    )  # fmt: skip
    return page("merge_review.html", context)


@router.post("/merge-review/merge")
def merge_page(
    auth: PageWriter, store: StoreDep, state: StateDep, a: PersonField, b: PersonField,
    why: Why = "", offset: BackOffset = 0, min_confidence: BackConfidence = 0.0,
) -> Response:  # fmt: skip
    merged = merge_people(store=store, a=a, b=b, now=state.settings.clock(),
                          decided_by=auth.actor, why=why.strip() or None)  # fmt: skip
    return RedirectResponse(_review_link(offset, min_confidence, merged=merged.id), 303)


@router.post("/merge-review/never")
def never_page(
    auth: PageWriter, store: StoreDep, state: StateDep, a: PersonField, b: PersonField,
    why: Why = "", offset: BackOffset = 0, min_confidence: BackConfidence = 0.0,
) -> Response:  # fmt: skip
    pair = merge_never(store=store, a=a, b=b, now=state.settings.clock(),
                       decided_by=auth.actor, why=why.strip() or None)  # fmt: skip
    link = _review_link(offset, min_confidence, apart_a=pair.a.id, apart_b=pair.b.id)
    return RedirectResponse(link, 303)


@router.post("/merge-review/refresh")
def refresh_page(auth: PageWriter, store: StoreDep, state: StateDep) -> Response:
    """Run the matcher over everyone again (as `karmabank merge suggestions`)."""
    merge_suggestions(store=store, settings=state.measures.linkage,
                      now=state.settings.clock(), limit=1)  # fmt: skip
    return RedirectResponse(_review_link(0, 0.0, refreshed=1), 303)


@router.post("/merges/{merge_id}/unmerge")
def unmerge_page(
    auth: PageWriter, store: StoreDep, state: StateDep,
    merge_id: Annotated[int, Path(ge=1, le=s.MAX_ID)],
) -> Response:  # fmt: skip
    undone = unmerge(store=store, merge_id=merge_id, now=state.settings.clock(),
                     decided_by=auth.actor)  # fmt: skip
    return RedirectResponse(f"/people/id:{undone.kept['id']}?unmerged={undone.id}", 303)
