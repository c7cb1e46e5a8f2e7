"""`create_app(settings)`: one FastAPI app for the REST API (`/api`, OpenAPI at
`/openapi.json`, its reference page at `/docs`), the login pages and the dashboard (`pages`,
its static files under `/static`: one stylesheet, one small script and vendored htmx, nothing
fetched from elsewhere).

The store is opened once, here (through `actions.database`), and kept for the app's lifetime;
routes get it through a dependency and call the same actions as the CLI. Errors are answered
as one line, JSON under /api and a page elsewhere (`web/answers.py`).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from karmabank.actions.database import open_database
from karmabank.settings import Settings, load_measure_settings, settings_path
from karmabank.web.answers import install_error_answers
from karmabank.web.limits import BodyLimit
from karmabank.web.security import LoginLimiter, SecurityHeaders, WebState
from karmabank.web.settings import WebSettings


def _state(web: WebSettings) -> WebState:
    """What every request shares: the open store, the settings (the database's fixed time
    if none is given), the login limiter, the form secret."""
    from karmabank.actions.clock import fixed_now

    measures = web.measures or load_measure_settings(settings_path(web.db))  # once
    store = open_database(settings=web)
    if web.now is None:  # the database's fixed time (the demo's), else the clock
        web = replace(web, now=fixed_now(store))
    return WebState(
        settings=web, store=store,
        limiter=LoginLimiter(attempts=web.login_attempts, window=web.login_window),
        secret=web.secret or secrets.token_bytes(32), measures=measures,
    )  # fmt: skip


def create_app(settings: Settings | WebSettings) -> FastAPI:
    """The app over `settings.db` (which must exist and be at the newest schema)."""
    from karmabank.web import api, auth, erase_page, merge_api, merge_pages, pages, team
    from karmabank.web.chart_pages import router as chart_router
    from karmabank.web.privacy import router as privacy_router

    web = settings if isinstance(settings, WebSettings) else WebSettings.from_settings(settings)
    state = _state(web)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            state.store.close()

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

    install_error_answers(app)

    @app.exception_handler(pages.LoginRequired)
    async def login_required(_request: Request, error: pages.LoginRequired) -> Response:
        return pages.login_redirect(error)

    _install_docs(app)
    app.include_router(api.router)
    app.include_router(merge_api.router)
    app.include_router(auth.router)
    app.include_router(chart_router)  # before pages: /people/{ref:path} would take it
    app.include_router(pages.router)
    app.include_router(team.router)
    app.include_router(privacy_router)
    app.include_router(merge_pages.router)
    from karmabank.web.csv_pages import router as csv_pages  # the tables as CSV files
    from karmabank.web.issue_pages import router as issue_pages  # the issues page
    from karmabank.web.person_forms import router as person_forms  # the person page's forms
    from karmabank.web.team_forms import router as team_forms  # add a user, make a token

    app.include_router(person_forms)
    app.include_router(csv_pages)
    app.include_router(issue_pages)
    app.include_router(team_forms)
    app.include_router(erase_page.router)
    from karmabank.web.sync_page import router as sync_page  # "Sync now" on the home page

    app.include_router(sync_page)
    static = Path(__file__).parent / "static"
    app.mount("/static", StaticFiles(directory=static), name="static")
    return app


def _install_docs(app: FastAPI) -> None:
    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """The API reference, public like /openapi.json (it describes the API, reads no data)."""
        from karmabank.web.apidocs import reference
        from karmabank.web.templating import page

        return page("docs.html", {**reference(app), "nav": "docs"})
