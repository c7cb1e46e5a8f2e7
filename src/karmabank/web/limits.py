"""The size of what a request may send: `BodyLimit` answers 413 before the app reads a body
larger than the setting (`karmabank serve --max-body-mb`, 10 MB by default).

A `Content-Length` over the limit is refused before a byte of the body is read; a body sent
without one (chunked) is counted as it streams and refused as soon as it passes the limit. The
answer is one line, JSON under /api and an HTML page elsewhere, like every other error.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_MAX_BODY = 10 * 1024 * 1024


def _too_large(limit: int) -> str:
    return f"the request body is larger than {limit:,} bytes (the server's --max-body-mb)"


class BodyTooLarge(HTTPException):
    """Raised inside the app's `receive` once a streamed body passes the limit: an
    HTTPException, so the route's body parsing lets it through and the app answers 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _too_large(limit), headers={"Connection": "close"})


class BodyLimit:
    """ASGI middleware: 413 for a request body over `max_bytes`."""

    def __init__(self, app: ASGIApp, *, max_bytes: int = DEFAULT_MAX_BODY) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, send)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        from karmabank.web.answers import answer_for_path

        response = answer_for_path(scope.get("path", "/"), 413, _too_large(self.max_bytes))
        response.headers["Connection"] = "close"  # the rest of the body is not read

        async def nothing() -> Message:
            return {"type": "http.disconnect"}

        await response(scope, nothing, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
