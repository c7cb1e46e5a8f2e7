"""`create_app(settings)`: one FastAPI app for the REST API (`/api`, OpenAPI at
`/openapi.json`, docs at `/docs`), the login pages and the dashboard (`pages`, its static
files under `/static`: one stylesheet and vendored htmx, nothing fetched from elsewhere).

The store is opened once, here, and kept for the app's lifetime; routes get it through a
dependency and call the same actions as the CLI. `KarmabankError`s become 4xx answers with
`{"detail": "one line"}` (a page gets the line in an HTML page), exactly as the CLI turns them
into one line and exit 1.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError

from karmabank.errors import AmbiguousError, KarmabankError, NotFoundError, StoreError
from karmabank.settings import Settings
from karmabank.store.engine import DEFAULT_DB
from karmabank.store.open import open_store
from karmabank.web.security import LoginLimiter, SecurityHeaders, WebState

# the interactive docs load Swagger UI from its CDN (the one page that needs the internet)
SWAGGER = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"


@dataclass(frozen=True)
class WebSettings:
    """What the web app needs, read once by the caller (`karmabank serve`, a test)."""

    db: str = DEFAULT_DB
    now: datetime | None = None  # None: the clock (a fixed time for demos and tests)
    secure_cookies: bool = False  # always mark cookies Secure (they are over https anyway)
    session_lifetime: timedelta = timedelta(days=7)
    login_attempts: int = 5  # failures per email and address within the window, then 429
    login_window: timedelta = timedelta(minutes=15)
    secret: bytes | None = None  # signs the login form's CSRF token; None: random per process

    def clock(self) -> datetime:
        return self.now if self.now is not None else datetime.now(UTC)

    @classmethod
    def from_settings(cls, settings: Settings, *, secure_cookies: bool = False) -> WebSettings:
        return cls(db=settings.db, now=settings.now, secure_cookies=secure_cookies)


def _problem(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": " ".join(message.split())}, status_code=status)


def _answer(request: Request, status: int, message: str) -> Response:
    """JSON for the API, an HTML page for a page of the dashboard."""
    from karmabank.web.templating import page

    path = request.url.path
    if path.startswith("/api/") or path == "/api" or path.startswith("/openapi"):
        return _problem(status, message)
    return page("error.html", {"status": status, "message": " ".join(message.split())}, status)


def _status_of(error: KarmabankError) -> int:
    from karmabank.actions.recording import ContactRefused

    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, AmbiguousError | ContactRefused):
        return 409
    if isinstance(error, StoreError):
        return 503
    return 400


def create_app(settings: Settings | WebSettings) -> FastAPI:
    """The app over `settings.db` (which must exist and be at the newest schema)."""
    from karmabank.web import api, auth, pages

    web = settings if isinstance(settings, WebSettings) else WebSettings.from_settings(settings)
    store = open_store(web.db)
    state = WebState(
        settings=web, store=store,
        limiter=LoginLimiter(attempts=web.login_attempts, window=web.login_window),
        secret=web.secret or secrets.token_bytes(32),
    )  # fmt: skip

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            store.close()

    app = FastAPI(
        title="karmabank",
        summary="Build your network before you need it.",
        description="The REST API of karmabank: every route calls the same actions as the CLI. "
        "Authenticate with `Authorization: Bearer TOKEN` (`karmabank token new EMAIL`).",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.state.karmabank = state
    app.add_middleware(SecurityHeaders, hsts=web.secure_cookies)

    @app.exception_handler(KarmabankError)
    async def karmabank_error(request: Request, error: KarmabankError) -> Response:
        return _answer(request, _status_of(error), str(error))

    @app.exception_handler(pages.LoginRequired)
    async def login_required(_request: Request, error: pages.LoginRequired) -> Response:
        return pages.login_redirect(error)

    @app.exception_handler(OperationalError)
    async def database_busy(_request: Request, error: OperationalError) -> JSONResponse:
        return _problem(503, f"database: {error.orig}")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url="/openapi.json", title="karmabank API",
            swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER}/swagger-ui.css", swagger_favicon_url="data:,",
        )  # fmt: skip
        nonce = secrets.token_urlsafe(16)
        html = bytes(page.body).decode().replace("<script>", f'<script nonce="{nonce}">')
        csp = (
            f"default-src 'self'; script-src 'nonce-{nonce}' {SWAGGER}/; "
            f"style-src {SWAGGER}/ 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
            "frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
        )
        return HTMLResponse(html, headers={"Content-Security-Policy": csp})

    app.include_router(api.router)
    app.include_router(auth.router)
    app.include_router(pages.router)
    static = Path(__file__).parent / "static"
    app.mount("/static", StaticFiles(directory=static), name="static")
    return app
