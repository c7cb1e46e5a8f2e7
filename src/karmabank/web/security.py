"""Who is asking, and may they: bearer tokens and session cookies, roles, CSRF, the login rate
limit, and the headers every response carries.

- A request is authenticated by `Authorization: Bearer <token>` (from `karmabank token new`)
  or by the session cookie `POST /login` sets. Neither: 401. A role that may not: 403.
- CSRF: a cookie-authenticated request that changes something must carry the session's CSRF
  token, as the `X-CSRF-Token` header (API calls) or the `csrf_token` field (HTML forms).
  The token is an HMAC of the session id, so it dies with the session. Before login, the login
  form uses a signed double-submit token (`kb_csrf` cookie + form field). Bearer requests need
  none: a browser never adds that header by itself.
- Login attempts: after `attempts` failures for one email from one address within `window`
  (and 6 times that from one address whatever the email), logins answer 429 until it passes.
- Every response: a strict Content-Security-Policy, nosniff, no framing, same-origin referrers,
  no caching; JSON bodies escape `<`, `>` and `&` so no text from an import can turn into
  markup even where JSON ends up in a page.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import Depends, HTTPException, Request, Response
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from karmabank.actions.accounts import Permission, UserView, may, session_user, user_for_token
from karmabank.actions.import_runs import importing_note

if TYPE_CHECKING:
    from karmabank.measures.settings import MeasureSettings
    from karmabank.store.open import Store
    from karmabank.web.settings import WebSettings

SESSION_COOKIE = "kb_session"
LOGIN_CSRF_COOKIE = "kb_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
HASHING_AT_ONCE = 2
SCORES_HEADER = "X-Karmabank-Scores"  # set when the scores are older than asked (an import runs)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CSP = (
    "default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; "
    "object-src 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "cache-control": "no-store",
}


class LoginLimiter:
    """Failed logins per key within a sliding window, in memory (one server process)."""

    def __init__(
        self, *, attempts: int, window: timedelta, clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:  # fmt: skip
        self.attempts = attempts
        self.window = window.total_seconds()
        self.clock = clock
        self.max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        now = self.clock()
        q = self._failures.get(key)
        if q is None:
            return deque()
        while q and q[0] <= now - self.window:
            q.popleft()
        if not q:
            del self._failures[key]
        return q

    def retry_after(self, key: str, limit: int | None = None) -> int | None:
        """Seconds until `key` may try again, or None when it may now."""
        q = self._recent(key)
        if len(q) < (limit or self.attempts):
            return None
        return max(1, math.ceil(q[-(limit or self.attempts)] + self.window - self.clock()))

    def failed(self, key: str) -> None:
        if key not in self._failures and len(self._failures) >= self.max_keys:
            self._prune()
        self._failures.setdefault(key, deque()).append(self.clock())

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)

    def forgive(self, key: str) -> None:
        """Take back the latest failure of `key` (an attempt counted before it was checked)."""
        q = self._failures.get(key)
        if q:
            q.pop()
            if not q:
                del self._failures[key]

    def _prune(self) -> None:
        for key in list(self._failures):
            self._recent(key)
        while len(self._failures) >= self.max_keys:  # still full: forget the oldest keys
            self._failures.pop(next(iter(self._failures)))


def login_keys(email: str, client: str) -> tuple[str, str]:
    """(this email from this address, this address whatever the email)."""
    return f"{email.strip().lower()}|{client}", f"*|{client}"


@dataclass
class WebState:
    """What the app keeps for its lifetime (`app.state.karmabank`)."""

    settings: WebSettings
    store: Store
    limiter: LoginLimiter
    secret: bytes
    measures: MeasureSettings  # read once, by create_app: never per request
    _locks: dict[int, asyncio.Lock] = field(default_factory=dict)
    _hashing: dict[int, asyncio.Semaphore] = field(default_factory=dict)

    def lock(self) -> asyncio.Lock:
        """One request at a time touches the store: the rescore's ADBC connection must never
        share the database file with pooled connections of other requests (see
        docs/architecture.md), and a team's dashboard is not a high-traffic site. Waiting
        requests hold no thread. (One lock per event loop: test clients start several.)"""
        loop = id(asyncio.get_running_loop())
        if loop not in self._locks:
            self._locks = {loop: asyncio.Lock()}
        return self._locks[loop]

    def hashing(self) -> asyncio.Semaphore:
        """Password checks at once: argon2 takes 64 MiB and a core each, outside the store's
        lock (other requests go on meanwhile) but never as many as logins arrive."""
        loop = id(asyncio.get_running_loop())
        if loop not in self._hashing:
            self._hashing = {loop: asyncio.Semaphore(HASHING_AT_ONCE)}
        return self._hashing[loop]


def web_state(request: Request) -> WebState:
    state: WebState = request.app.state.karmabank
    return state


async def use_store(request: Request, response: Response) -> AsyncIterator[Store]:
    """The app's store, held by this request alone until it is answered. While an import runs,
    a read's API answer says its scores are the last rescore's (`X-Karmabank-Scores`)."""
    state = web_state(request)
    async with state.lock():
        if request.method in SAFE_METHODS:
            note = await run_in_threadpool(importing_note, state.store)
            if note is not None:
                response.headers[SCORES_HEADER] = note
                request.state.scores_note = note  # for the pages, which show it
        yield state.store


if TYPE_CHECKING:
    StoreDep = Annotated[Store, Depends(use_store)]
else:  # FastAPI reads only the dependency: the store is the actions' handle, not imported here
    StoreDep = Annotated[object, Depends(use_store)]
StateDep = Annotated[WebState, Depends(web_state)]

bearer_scheme = HTTPBearer(
    auto_error=False, scheme_name="token",
    description="An API token: `karmabank token new EMAIL` prints one.",
)  # fmt: skip
cookie_scheme = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, scheme_name="session",
    description="The session cookie POST /login sets (POSTs also need X-CSRF-Token).",
)  # fmt: skip


@dataclass(frozen=True)
class Auth:
    user: UserView
    via: Literal["token", "session"]
    session_id: str | None = None

    @property
    def actor(self) -> str:
        """How the audit log names whoever did it."""
        return f"web:{self.user.email}"


def session_csrf(session_id: str) -> str:
    """The CSRF token of a session: an HMAC keyed by the session id (secret, 256 bits)."""
    return hmac.new(session_id.encode(), b"karmabank csrf", hashlib.sha256).hexdigest()


def login_csrf(secret: bytes, cookie: str) -> str:
    """The login form's token: the `kb_csrf` cookie signed with the app's secret."""
    return hmac.new(secret, cookie.encode(), hashlib.sha256).hexdigest()


def new_login_cookie() -> str:
    return secrets.token_urlsafe(32)


def same(a: str | None, b: str) -> bool:
    return a is not None and hmac.compare_digest(a.encode(), b.encode())


def unauthorized(detail: str = "not authenticated: send a bearer token or log in") -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def authenticated(
    request: Request,
    store: StoreDep,
    state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    session_id: Annotated[str | None, Depends(cookie_scheme)],
) -> Auth:
    """The user making the request, by bearer token or session cookie; 401 otherwise. A
    cookie-authenticated request that changes something needs the X-CSRF-Token header (403)."""
    now = state.settings.clock()
    if credentials is not None:
        user = user_for_token(store=store, token=credentials.credentials, now=now)
        if user is None:
            raise unauthorized("unknown or revoked API token")
        return Auth(user, "token")
    if session_id:
        user = session_user(store=store, session_id=session_id, now=now)
        if user is None:
            raise unauthorized("session expired: log in again")
        if request.method not in SAFE_METHODS and not same(
            request.headers.get(CSRF_HEADER), session_csrf(session_id)
        ):
            raise HTTPException(403, f"CSRF token missing or wrong: send the {CSRF_HEADER} header")
        return Auth(user, "session", session_id)
    raise unauthorized()


AuthDep = Annotated[Auth, Depends(authenticated)]


@dataclass(frozen=True)
class Requires:
    """A route's dependency on one permission (403 without it); /docs reads it to say which
    roles may call each operation."""

    permission: Permission

    def __call__(self, auth: AuthDep) -> Auth:
        if not may(auth.user.role, self.permission):
            raise HTTPException(
                403, f"a {auth.user.role} may not {self.permission.value.replace('_', ' ')}"
            )
        return auth


def requires(permission: Permission) -> Requires:
    return Requires(permission)


Reader = Annotated[Auth, Depends(requires(Permission.READ))]
Writer = Annotated[Auth, Depends(requires(Permission.WRITE))]
Owner = Annotated[Auth, Depends(requires(Permission.MANAGE_USERS))]


def cookie_secure(request: Request, settings: WebSettings) -> bool:
    """Secure cookies when configured, or whenever the request came over https."""
    return settings.secure_cookies or request.url.scheme == "https"


class SecurityHeaders:
    """ASGI middleware: the security headers on every response (a route may set its own
    Content-Security-Policy, as /docs does), and `<`, `>`, `&` escaped in JSON bodies."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        body: list[bytes] = []

        async def send_wrapped(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                if self.hsts:
                    headers.setdefault("strict-transport-security", "max-age=31536000")
                if headers.get("content-type", "").startswith("application/json"):
                    start = message  # held until the whole body is escaped
                    return
                await send(message)
            elif message["type"] == "http.response.body" and start is not None:
                body.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                escaped = escape_json(b"".join(body))
                headers = MutableHeaders(scope=start)
                if "content-length" in headers:
                    headers["content-length"] = str(len(escaped))
                await send(start)
                await send({"type": "http.response.body", "body": escaped, "more_body": False})
            else:
                await send(message)

        await self.app(scope, receive, send_wrapped)


def escape_json(body: bytes) -> bytes:
    """`<`, `>` and `&` as \\u escapes: the same JSON value, with no markup in the bytes
    (in JSON these characters can only occur inside strings)."""
    return body.replace(b"<", b"\\u003c").replace(b">", b"\\u003e").replace(b"&", b"\\u0026")
