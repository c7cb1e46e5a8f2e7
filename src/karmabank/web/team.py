"""The team page, for owners: `/team` lists the users and the API tokens, with a form per row to
disable or enable a user and to revoke a token (the same actions as `karmabank user disable`
and `token revoke`, and `/api/users/{id}/disable`...). Every form carries the session's CSRF
token; anyone but an owner gets 403."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from karmabank.actions import accounts
from karmabank.web import schemas as s
from karmabank.web.pages import PageAuth, _context
from karmabank.web.security import CSRF_HEADER, Auth, StateDep, StoreDep, same, session_csrf
from karmabank.web.templating import page

router = APIRouter(include_in_schema=False)


def _owner(auth: Auth) -> Auth:
    if not accounts.may(auth.user.role, accounts.Permission.MANAGE_USERS):
        raise HTTPException(403, f"a {auth.user.role} may not manage users")
    return auth


def page_owner(auth: PageAuth) -> Auth:
    return _owner(auth)


def page_owner_form(
    request: Request, auth: PageAuth, csrf_token: Annotated[str, Form(max_length=200)] = ""
) -> Auth:
    """An owner's form: the permission, then the session's CSRF token (403)."""
    _owner(auth)
    assert auth.session_id is not None
    if not same(csrf_token or request.headers.get(CSRF_HEADER), session_csrf(auth.session_id)):
        raise HTTPException(403, "CSRF token missing or wrong: reload the page")
    return auth


PageOwner = Annotated[Auth, Depends(page_owner)]
OwnerForm = Annotated[Auth, Depends(page_owner_form)]
Id = Annotated[int, Path(ge=1, le=s.MAX_ID)]


@router.get("/team", response_class=HTMLResponse)
def team_page(request: Request, auth: PageOwner, store: StoreDep) -> Response:
    users = accounts.list_users(store=store)
    tokens = [t.as_json() for t in accounts.list_tokens(store=store)]
    return page("team.html", _context(request, auth, "Team", "team", users=users, tokens=tokens))


def _set(store: StoreDep, state: StateDep, auth: Auth, user_id: int, disabled: bool) -> Response:
    accounts.set_disabled(store=store, user_id=user_id, disabled=disabled,
                          now=state.settings.clock(), actor=auth.actor)  # fmt: skip
    return RedirectResponse("/team", status_code=303)


@router.post("/team/users/{user_id}/disable")
def disable_page(auth: OwnerForm, store: StoreDep, state: StateDep, user_id: Id) -> Response:
    return _set(store, state, auth, user_id, True)


@router.post("/team/users/{user_id}/enable")
def enable_page(auth: OwnerForm, store: StoreDep, state: StateDep, user_id: Id) -> Response:
    return _set(store, state, auth, user_id, False)


@router.post("/team/tokens/{token_id}/revoke")
def revoke_page(auth: OwnerForm, store: StoreDep, state: StateDep, token_id: Id) -> Response:
    accounts.revoke_token(store=store, token=str(token_id), now=state.settings.clock(),
                          actor=auth.actor)  # fmt: skip
    return RedirectResponse("/team", status_code=303)
