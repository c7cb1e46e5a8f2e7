"""A replay server for connector tests: a real HTTP server on a free loopback port (stdlib
`http.server` in a thread) answering recorded responses, shaped as the platforms' docs show.

Script it with `answer(method, path, *replies, query=...)`: each request to a route takes the
route's next `Replay` (the last one repeats), so "a 429, then the page" or "a 500, then success"
is two replies on one route. `query` narrows a route to requests whose query holds those
parameters (a list value matches a repeated parameter, `types[]`); routes are tried newest
first, so a narrow route added after a broad one wins. `requests` records every request
(method, path, query, headers, body) so a test can check what the client sent. `Replay.delay`
stalls the answer (a sync killed in the middle of a page); `Replay.close` drops the connection
without answering (a connection error).

    with ReplayServer() as server:
        server.answer("GET", "/api/v1/notifications", Replay(429, headers={"Retry-After": "1"}),
                      Replay(200, page_json))
        transport = HttpTransport(base_url=server.url, ...)
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Replay:
    """One recorded response: status, body (text, bytes, or JSON-able), headers."""

    status: int = 200
    body: Any = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to stall before answering
    close: bool = False  # drop the connection without an answer

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


def page(body: Any, *, links: Mapping[str, str] | None = None, **headers: str) -> Replay:
    """A 200 JSON page; `links` {"next": url, "prev": url} becomes a Link header as Mastodon
    writes it."""
    all_headers = {"Content-Type": "application/json; charset=utf-8", **headers}
    if links:
        all_headers["Link"] = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items())
    return Replay(200, body, all_headers)


@dataclass(frozen=True)
class Request:
    """One request the server received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class _Route:
    method: str
    path: str
    query: dict[str, list[str]]
    replies: list[Replay]

    def matches(self, method: str, path: str, query: dict[str, list[str]]) -> bool:
        if method != self.method or path != self.path:
            return False
        return all(query.get(k) == v for k, v in self.query.items())

    def take(self) -> Replay:
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


class ReplayServer:
    """The server; a context manager (started on enter, stopped on exit)."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._routes: list[_Route] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def answer(
        self,
        method: str,
        path: str,
        *replies: Replay,
        query: Mapping[str, str | Sequence[str]] | None = None,
    ) -> None:
        """Answer `method path` (with `query` among its parameters) with `replies` in turn."""
        assert replies, "a route needs at least one reply"
        wanted = {k: [v] if isinstance(v, str) else list(v) for k, v in (query or {}).items()}
        with self._lock:
            self._routes.insert(0, _Route(method, path, wanted, list(replies)))

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def _reply_for(self, method: str, path: str, query: dict[str, list[str]]) -> Replay:
        with self._lock:
            for route in self._routes:
                if route.matches(method, path, query):
                    return route.take()
        return Replay(404, {"error": "Record not found"})

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query, keep_blank_values=True)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                with server._lock:
                    server.requests.append(
                        Request(self.command, parts.path, query, headers, body)
                    )
                reply = server._reply_for(self.command, parts.path, query)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.close:
                    self.close_connection = True
                    self.connection.close()
                    return
                payload = reply.payload()
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client was killed
                    self.close_connection = True

            do_GET = _serve
            do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

        return Handler

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

