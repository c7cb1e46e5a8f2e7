"""`create_app(settings)`: one FastAPI app for the REST API (`/api`, OpenAPI at
`/openapi.json`, its reference page at `/docs`), the login pages and the dashboard (`pages`,
its static files under `/static`: one stylesheet, one small script and vendored htmx, nothing
fetched from elsewhere).

The store is opened once, here, and kept for the app's lifetime; routes get it through a
dependency and call the same actions as the CLI. `KarmabankError`s become 4xx answers with
`{"detail": "one line"}`, exactly as the CLI turns them into one line and exit 1. Under /api
every error is JSON; a page of the dashboard gets the same line in an HTML page (error.html)
with the same status, whether the action refused (400, 404, 409), the role may not (403) or
a value has the wrong shape (422).
"""

from __future__ import annotations

import math
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException

from karmabank.errors import AmbiguousError, KarmabankError, NotFoundError, StoreError
from karmabank.settings import Settings, load_measure_settings, settings_path
from karmabank.store.engine import DEFAULT_DB
from karmabank.store.open import open_store
from karmabank.web.limits import DEFAULT_MAX_BODY, BodyLimit
from karmabank.web.security import LoginLimiter, SecurityHeaders, WebState

if TYPE_CHECKING:
    from karmabank.measures.settings import MeasureSettings


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
    max_body_bytes: int = DEFAULT_MAX_BODY  # larger request bodies: 413, before they are read
    # None: read once by create_app (karmabank.toml beside the database, then KARMABANK_*)
    measures: MeasureSettings | None = None
    columns_base: Path | None = None  # Settings.columns_base
    templates_dir: Path | None = None  # Settings.templates_dir

    def clock(self) -> datetime:
        return self.now if self.now is not None else datetime.now(UTC)

    @classmethod
    def from_settings(
        cls, settings: Settings, *, secure_cookies: bool = False,
        max_body_bytes: int = DEFAULT_MAX_BODY,
    ) -> WebSettings:  # fmt: skip
        return cls(db=settings.db, now=settings.now, secure_cookies=secure_cookies,
                   max_body_bytes=max_body_bytes, measures=settings.measures,
                   columns_base=settings.columns_base,
                   templates_dir=settings.templates_dir)  # fmt: skip


def _problem(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": shown(" ".join(message.split()))}, status_code=status)


def shown(value: Any) -> Any:
    """What an answer can carry: what an error echoes of the input may hold a lone surrogate
    (`"\\ud800"` in a JSON body), which no UTF-8 answer holds, shown as its escape; or a
    number JSON has no word for (`1e999` is infinity), shown as text."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {shown(k): shown(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [shown(v) for v in value]
    return value


def _is_api(request: Request) -> bool:
    return _api_path(request.url.path)


def _api_path(path: str) -> bool:
    return path.startswith("/api/") or path == "/api" or path.startswith("/openapi")


def answer_for_path(path: str, status: int, message: str) -> Response:
    """An error answer before there is a request object (middleware): JSON or a page."""
    return _problem(status, message) if _api_path(path) else _error_page(status, message)


def _error_page(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    from karmabank.web.templating import page

    text = shown(" ".join(message.split()))
    response = page("error.html", {"status": status, "message": text}, status)
    response.headers.update(headers or {})
    return response


def _answer(request: Request, status: int, message: str) -> Response:
    """JSON for the API, an HTML page for a page of the dashboard."""
    if _is_api(request):
        return _problem(status, message)
    return _error_page(status, message)


def _first_line(error: BaseException | None) -> str:
    return str(error).strip().split("\n")[0] or type(error).__name__


RETRY_AFTER = 5  # seconds: about one import batch


def _unavailable(request: Request, error: BaseException | None) -> Response:
    """503 with Retry-After: the database is busy (or down) for now; nothing was changed."""
    from karmabank.actions.freshness import database_busy

    if error is not None and database_busy(error):
        message = "the database is busy (an import is writing): retry in a few seconds"
    else:
        message = f"database: {str(error).strip().splitlines()[0] if str(error).strip() else error}"
    response = _answer(request, 503, message)
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


def _invalid(error: RequestValidationError) -> str:
    """FastAPI's list of what was wrong, as one line: `days: Input should be ...`."""
    parts = []
    for e in error.errors():
        where = ".".join(str(x) for x in e.get("loc", ())[1:]) or "request"
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


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
    from karmabank.actions.clock import fixed_now
    from karmabank.web import api, auth, pages, team

    web = settings if isinstance(settings, WebSettings) else WebSettings.from_settings(settings)
    measures = web.measures or load_measure_settings(settings_path(web.db))  # once
    store = open_store(web.db, columns_base=web.columns_base, templates_dir=web.templates_dir)
    if web.now is None:  # the database's fixed time (the demo's), else the clock
        web = replace(web, now=fixed_now(store))
    state = WebState(
        settings=web, store=store,
        limiter=LoginLimiter(attempts=web.login_attempts, window=web.login_window),
        secret=web.secret or secrets.token_bytes(32), measures=measures,
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
    app.add_middleware(BodyLimit, max_bytes=web.max_body_bytes)
    app.add_middleware(SecurityHeaders, hsts=web.secure_cookies)  # outside: on the 413s too

    @app.exception_handler(KarmabankError)
    async def karmabank_error(request: Request, error: KarmabankError) -> Response:
        status = _status_of(error)
        response = _answer(request, status, str(error))
        if status == 503:
            response.headers["Retry-After"] = str(RETRY_AFTER)
        return response

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        if _is_api(request):
            return await http_exception_handler(request, error)
        return _error_page(error.status_code, str(error.detail), error.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        if _is_api(request):  # FastAPI's list of errors, with the input they echo made text
            return JSONResponse({"detail": shown(jsonable_encoder(error.errors()))}, 422)
        return _error_page(422, _invalid(error))

    # What the routes check should never reach the database; if a value still does, the
    # answer is a 422 that says so, not a 500.
    @app.exception_handler(DataError)
    async def refused_value(request: Request, error: DataError) -> Response:
        return _answer(request, 422, f"the database refused a value: {_first_line(error.orig)}")

    @app.exception_handler(OverflowError)
    async def out_of_range(request: Request, _error: OverflowError) -> Response:
        return _answer(request, 422, "a value is out of range")

    @app.exception_handler(UnicodeEncodeError)
    async def not_text(request: Request, _error: UnicodeEncodeError) -> Response:
        return _answer(request, 422, "text must be valid Unicode (no lone surrogates)")

    @app.exception_handler(pages.LoginRequired)
    async def login_required(_request: Request, error: pages.LoginRequired) -> Response:
        return pages.login_redirect(error)

    # The database could not answer now (busy with an import's batch, restarting...): 503 with
    # Retry-After, whichever driver said so (SQLAlchemy's, or ADBC's for the rescore's reads).
    @app.exception_handler(OperationalError)
    async def database_unavailable(request: Request, error: OperationalError) -> Response:
        return _unavailable(request, error.orig)

    from adbc_driver_manager import Error as AdbcError

    @app.exception_handler(AdbcError)
    async def column_reads_unavailable(request: Request, error: AdbcError) -> Response:
        return _unavailable(request, error)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """The API reference, public like /openapi.json (it describes the API, reads no data)."""
        from karmabank.web.apidocs import reference
        from karmabank.web.templating import page

        return page("docs.html", {**reference(app), "nav": "docs"})

    app.include_router(api.router)
    app.include_router(auth.router)
    app.include_router(pages.router)
    app.include_router(team.router)
    static = Path(__file__).parent / "static"
    app.mount("/static", StaticFiles(directory=static), name="static")
    return app
