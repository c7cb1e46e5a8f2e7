"""The team page's forms, for owners: add a user (a password is generated and shown once, as
`karmabank user add` prints it) and make an API token for a user (shown once, as `karmabank
token new` prints it; only its hash is stored). The page that shows a secret is never cached."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from karmabank.actions import accounts
from karmabank.web import schemas as s
from karmabank.web.pages import _context
from karmabank.web.security import StateDep, StoreDep
from karmabank.web.team import OwnerForm
from karmabank.web.templating import page

router = APIRouter(include_in_schema=False)

Email = Annotated[str, Form(min_length=3, max_length=320), s.STORABLE]


def _shown_once(request: Request, auth: OwnerForm, store: StoreDep, what: str,
                secret: str) -> Response:  # fmt: skip
    users = accounts.list_users(store=store)
    tokens = [t.as_json() for t in accounts.list_tokens(store=store)]
    context = _context(request, auth, "Team", "team", users=users, tokens=tokens,
                       secret={"what": what, "value": secret})  # fmt: skip
    answer = page("team.html", context)
    answer.headers["cache-control"] = "no-store"
    return answer


@router.post("/team/users")
def add_user_page(
    request: Request, auth: OwnerForm, store: StoreDep, state: StateDep, email: Email,
    role: Annotated[accounts.Role, Form()],
) -> Response:  # fmt: skip
    user, password = accounts.add_user(store=store, email=email, role=role,
                                       now=state.settings.clock(), actor=auth.actor)  # fmt: skip
    assert password is not None  # generated: none was given
    return _shown_once(request, auth, store, f"The password of {user.email}", password)


@router.post("/team/tokens")
def new_token_page(
    request: Request, auth: OwnerForm, store: StoreDep, state: StateDep, email: Email
) -> Response:
    user, token = accounts.new_token(store=store, email=email, now=state.settings.clock(),
                                     actor=auth.actor)  # fmt: skip
    return _shown_once(request, auth, store, f"An API token for {user.email}", token)
