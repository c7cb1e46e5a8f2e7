"""Logging in and out of the web app: GET /login (the form), POST /login, POST /logout.

The session cookie is HttpOnly, SameSite=Lax and Secure over https; it holds a random id whose
hash is the `web_session` row, so logout (deleting the row) ends it everywhere at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from karmabank.actions.accounts import (
    LoginCandidate,
    create_session,
    delete_session,
    login_candidate,
    password_matches,
    rehash,
    save_rehash,
    session_user,
)
from karmabank.web.schemas import STORABLE
from karmabank.web.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    StateDep,
    StoreDep,
    WebState,
    cookie_secure,
    login_csrf,
    login_keys,
    new_login_cookie,
    same,
    session_csrf,
)
from karmabank.web.templating import page

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only (no `//host`, no scheme)."""
    t = target or "/"
    if not t.startswith("/") or t.startswith(("//", "/\\")) or any(ord(c) < 32 for c in t):
        return "/"
    return t


def _login_page(
    request: Request, state: WebState, *, next_: str | None, email: str = "",
    error: str | None = None, status: int = 200, headers: dict[str, str] | None = None,
) -> HTMLResponse:  # fmt: skip
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not 20 <= len(cookie) <= 100:
        cookie = new_login_cookie()
    context = {
        "csrf_field": CSRF_FIELD, "csrf_token": login_csrf(state.secret, cookie),
        "next": safe_next(next_), "email": email, "error": error,
    }  # fmt: skip
    response = page("login.html", context, status)
    response.set_cookie(
        LOGIN_CSRF_COOKIE, cookie, httponly=True, samesite="lax",
        secure=cookie_secure(request, state.settings), path="/",
    )  # fmt: skip
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


@router.get("/login")
def login_form(request: Request, state: StateDep, next: str = "/") -> HTMLResponse:
    return _login_page(request, state, next_=next)


@dataclass(frozen=True)
class _Attempt:
    """One POST /login: the form as sent, and its rate-limit keys (`login_keys`)."""

    request: Request
    state: WebState
    email: str
    next: str
    mine: str  # this email from this address
    anyone: str  # this address, whatever the email

    def page(self, status: int, error: str, headers: dict[str, str] | None = None) -> Response:
        return _login_page(self.request, self.state, next_=self.next, email=self.email,
                           status=status, error=error, headers=headers)  # fmt: skip

    def limited(self) -> Response | None:
        """429 with Retry-After while this email or this address has failed too often."""
        limiter = self.state.limiter
        wait = limiter.retry_after(self.mine) or limiter.retry_after(
            self.anyone, 6 * limiter.attempts
        )
        if wait is None:
            return None
        minutes = -(-wait // 60)
        return self.page(429, f"Too many failed logins: try again in {minutes} minute(s).",
                         headers={"Retry-After": str(wait)})  # fmt: skip


@router.post("/login")
async def login(
    request: Request,
    state: StateDep,
    email: Annotated[str, Form(max_length=254), STORABLE] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the form's CSRF token (403), the rate limit (429), then the password (401). The
    password's argon2 check runs outside the store's lock: other requests go on meanwhile."""
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
    if cookie is None or not same(csrf_token, login_csrf(state.secret, cookie)):
        return _login_page(request, state, next_=next, email=email, status=403,
                           error="This form expired or did not come from this site: "
                           "please log in again.")  # fmt: skip
    client = request.client.host if request.client else "unknown"
    attempt = _Attempt(request, state, email, next, *login_keys(email, client))
    if (refused := attempt.limited()) is not None:
        return refused
    checked = await _checked(attempt, password)
    if isinstance(checked, Response):
        return checked
    return await _logged_in(attempt, checked)


@dataclass(frozen=True)
class _Passed:
    """A login whose password matched: the account, and a new hash of its password if argon2's
    parameters changed since it was hashed."""

    user_id: int
    candidate: LoginCandidate
    new_hash: str | None


async def _checked(attempt: _Attempt, password: str) -> Response | _Passed:
    """The login that passed, or the answer that refuses it (429, 401)."""
    state, limiter = attempt.state, attempt.state.limiter
    async with state.lock():
        candidate = await run_in_threadpool(login_candidate, store=state.store, email=attempt.email)
    async with state.hashing():
        # Checked again once this attempt's turn to hash has come, and counted as failed
        # before the check (a success takes it back): attempts sent at once cannot all pass
        # the limit while the first ones are being checked.
        if (refused := attempt.limited()) is not None:
            return refused
        limiter.failed(attempt.mine)
        limiter.failed(attempt.anyone)
        ok = await run_in_threadpool(password_matches, candidate, password)
        new_hash = await run_in_threadpool(rehash, candidate, password) if ok else None
    if not ok or candidate.user is None:
        return attempt.page(401, "Wrong email or password.")
    limiter.succeeded(attempt.mine)
    limiter.forgive(attempt.anyone)
    return _Passed(candidate.user.id, candidate, new_hash)


async def _logged_in(attempt: _Attempt, passed: _Passed) -> Response:
    """A new session (never one from before the login), its cookie, and on to `next`."""
    request, state, settings = attempt.request, attempt.state, attempt.state.settings
    store, old = state.store, request.cookies.get(SESSION_COOKIE)

    def start_session() -> str:
        save_rehash(store=store, candidate=passed.candidate, new_hash=passed.new_hash)
        if old:  # never keep a session id from before the login
            delete_session(store=store, session_id=old)
        return create_session(
            store=store, user_id=passed.user_id, now=settings.clock(),
            lifetime=settings.session_lifetime,
        )  # fmt: skip

    async with state.lock():
        session_id = await run_in_threadpool(start_session)
    response = RedirectResponse(safe_next(attempt.next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, session_id, max_age=int(settings.session_lifetime.total_seconds()),
        httponly=True, samesite="lax", secure=cookie_secure(request, settings), path="/",
    )  # fmt: skip
    return response


@router.post("/logout")
def logout(
    request: Request,
    store: StoreDep,
    state: StateDep,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """End the session (the form's csrf_token field, or the X-CSRF-Token header)."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id and session_user(store=store, session_id=session_id, now=state.settings.clock()):
        token = csrf_token or request.headers.get(CSRF_HEADER)
        if not same(token, session_csrf(session_id)):
            raise HTTPException(403, "CSRF token missing or wrong")
        delete_session(store=store, session_id=session_id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax",
        secure=cookie_secure(request, state.settings),
    )  # fmt: skip
    return response
