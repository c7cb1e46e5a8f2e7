"""A form only some roles may post (an owner's: erasing a person, running a sync): the
permission, then the session's CSRF token, each refused with 403 (`PermittedForm`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, HTTPException, Request

from karmabank.actions import accounts
from karmabank.web.pages import PageAuth
from karmabank.web.security import CSRF_HEADER, Auth, same, session_csrf


class PermittedForm:
    """A dependency: the page's user, if their role has `permission` (else 403 "a ROLE may not
    DOING") and the form carries the session's CSRF token (else 403)."""

    def __init__(self, permission: accounts.Permission, doing: str) -> None:
        self.permission, self.doing = permission, doing

    def __call__(
        self, request: Request, auth: PageAuth,
        csrf_token: Annotated[str, Form(max_length=200)] = "",
    ) -> Auth:  # fmt: skip
        if not accounts.may(auth.user.role, self.permission):
            raise HTTPException(403, f"a {auth.user.role} may not {self.doing}")
        assert auth.session_id is not None
        token = csrf_token or request.headers.get(CSRF_HEADER)
        if not same(token, session_csrf(auth.session_id)):
            raise HTTPException(403, "CSRF token missing or wrong: reload the page")
        return auth
