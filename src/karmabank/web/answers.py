"""Error answers, converted once for the whole app: `KarmabankError`s become 4xx answers with
`{"detail": "one line"}`, exactly as the CLI turns them into one line and exit 1. Under /api
every error is JSON; a page of the dashboard gets the same line in an HTML page (error.html)
with the same status, whether the action refused (400, 404, 409), the role may not (403) or
a value has the wrong shape (422). `install_error_answers` registers them on the app;
`answer_for_path` is the same answer for a middleware, before there is a request.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException

from karmabank.errors import (
    AmbiguousError,
    ContactRefused,
    KarmabankError,
    MergeRefused,
    NotFoundError,
    StoreError,
)

RETRY_AFTER = 5  # seconds: about one import batch


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
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, AmbiguousError | ContactRefused | MergeRefused):
        return 409
    if isinstance(error, StoreError):
        return 503
    return 400


def install_error_answers(app: FastAPI) -> None:
    """Every error the app answers, as one line (JSON or a page, by the path)."""

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

    _install_unavailable(app)


def _install_unavailable(app: FastAPI) -> None:
    # The database could not answer now (busy with an import's batch, restarting...): 503 with
    # Retry-After, whichever driver said so (SQLAlchemy's, or ADBC's for the rescore's reads).
    @app.exception_handler(OperationalError)
    async def database_unavailable(request: Request, error: OperationalError) -> Response:
        return _unavailable(request, error.orig)

    from adbc_driver_manager import Error as AdbcError

    @app.exception_handler(AdbcError)
    async def column_reads_unavailable(request: Request, error: AdbcError) -> Response:
        return _unavailable(request, error)
