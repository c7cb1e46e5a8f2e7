"""The web app under attack, on the real server (`karmabank serve`'s uvicorn configuration on a
free port, in a thread): X-Forwarded-For is believed only from a proxy the setting names, a
password check holds no lock other requests wait on, and request bodies over the limit are
refused with 413 before they are read (Content-Length, or counted as they stream)."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from argon2 import PasswordHasher

from karmabank.actions import accounts
from karmabank.actions.accounts import add_user, new_token
from karmabank.cli.web import server_config
from karmabank.store.open import open_store
from karmabank.web import WebSettings, create_app
from tests.conftest import NOW

PASSWORD = "correct horse battery staple"


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "karmabank.db")
    with open_store(path, create=True) as store:
        add_user(store=store, email="ada@example.org", role="owner", now=NOW, password=PASSWORD)
    return path


@contextmanager
def serving(settings: WebSettings, forwarded_allow_ips: str | None = None) -> Iterator[str]:
    """The app under uvicorn as `karmabank serve` configures it, on a port the system picks."""
    server = server_config(create_app(settings), host="127.0.0.1", port=0,
                           forwarded_allow_ips=forwarded_allow_ips, log_level="warning")  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "the server died while starting"
        assert time.monotonic() < deadline, "the server did not start within 30 s"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _login(client: httpx.Client, email: str, password: str, **headers: str) -> httpx.Response:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert token is not None
    return client.post("/login", headers=headers, data={
        "email": email, "password": password, "csrf_token": token.group(1), "next": "/",
    })  # fmt: skip


def test_rotating_x_forwarded_for_does_not_bypass_the_login_rate_limit(db: str) -> None:
    with serving(WebSettings(db=db, now=NOW)) as url, httpx.Client(base_url=url) as client:
        codes = [
            _login(client, "ada@example.org", "wrong", **{"X-Forwarded-For": f"203.0.113.{i}"})
            .status_code
            for i in range(7)
        ]
    assert codes == [401] * 5 + [429] * 2


def test_a_proxy_named_by_the_setting_is_believed(db: str) -> None:
    """Behind a reverse proxy on 127.0.0.1: each forwarded client has its own limit."""
    settings = WebSettings(db=db, now=NOW)
    with serving(settings, "127.0.0.1") as url, httpx.Client(base_url=url) as client:
        rotating = [
            _login(client, "ada@example.org", "wrong", **{"X-Forwarded-For": f"203.0.113.{i}"})
            .status_code
            for i in range(7)
        ]
        same = [
            _login(client, "ada@example.org", "wrong", **{"X-Forwarded-For": "198.51.100.7"})
            .status_code
            for _ in range(6)
        ]
    assert rotating == [401] * 7
    assert same == [401] * 5 + [429]


class _SlowHasher(PasswordHasher):
    """argon2, but a check waits until the test lets it go (it shows what the check holds)."""

    def __init__(self) -> None:
        super().__init__()
        self.checking = threading.Event()
        self.go = threading.Event()

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:  # noqa: A002
        self.checking.set()
        assert self.go.wait(20), "the test never let the password check go"
        return super().verify(hash, password)


def test_a_password_check_does_not_hold_up_other_requests(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_store(db) as store:
        token = new_token(store=store, email="ada@example.org", now=NOW)[1]
    hasher = _SlowHasher()
    monkeypatch.setattr(accounts, "_HASHER", hasher)
    with serving(WebSettings(db=db, now=NOW)) as url, httpx.Client(base_url=url) as client:
        result: dict[str, Any] = {}

        def log_in() -> None:
            with httpx.Client(base_url=url) as other:
                result["r"] = _login(other, "ada@example.org", PASSWORD)

        login = threading.Thread(target=log_in)
        login.start()
        try:
            assert hasher.checking.wait(20)  # the login is checking its password now
            started = time.perf_counter()
            me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"}, timeout=5)
            took = time.perf_counter() - started
        finally:
            hasher.go.set()
            login.join(30)
    assert me.status_code == 200 and me.json()["email"] == "ada@example.org"
    assert took < 2, f"/api/me waited {took:.2f} s on the password check"
    assert result["r"].status_code == 303  # and the login went through


def _raw(url: str, head: bytes, body: Iterable[bytes] = ()) -> bytes:
    """Send a request's head (and some body) on a socket; what the server answers."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head)
        for chunk in body:
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
        answer = b""
        try:
            while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
                data = sock.recv(65536)
                if not data:
                    break
                answer += data
        except (TimeoutError, ConnectionResetError):
            pass
        return answer


def test_request_bodies_over_the_limit_are_refused_before_they_are_read(db: str) -> None:
    with serving(WebSettings(db=db, now=NOW)) as url:
        # 200 MB announced, not one byte sent: answered at once (a read would wait for it)
        started = time.perf_counter()
        answer = _raw(url, b"POST /api/activities HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Type: application/json\r\nContent-Length: 200000000\r\n\r\n")  # fmt: skip
        assert time.perf_counter() - started < 5
        assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
        assert b'"detail":"the request body is larger than 10,485,760 bytes' in answer
        # streamed without a length: refused once past 10 MB, before the rest comes
        chunk = b"x" * 65536
        chunks = (b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(170))  # 11 MB
        answer = _raw(url, b"POST /api/activities HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
                      chunks)  # fmt: skip
        assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
        # a page's form too, as an HTML page
        with httpx.Client(base_url=url) as client:
            page = client.post("/login", content=b"x" * (10 * 1024 * 1024 + 1),
                               headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
            assert page.status_code == 413 and page.headers["content-type"].startswith("text/html")
            assert "larger than 10,485,760 bytes" in page.text
            # under the limit, as before: an anonymous POST is a 401
            small = client.post("/api/activities", json={"direction": "in"})
            assert small.status_code == 401


def test_the_limit_is_a_setting(db: str) -> None:
    with serving(WebSettings(db=db, now=NOW, max_body_bytes=1000)) as url:
        with httpx.Client(base_url=url) as client:
            r = client.post("/api/activities", content=b"{" + b" " * 1000 + b"}",
                            headers={"Content-Type": "application/json"})  # fmt: skip
            assert r.status_code == 413 and "larger than 1,000 bytes" in r.json()["detail"]


def test_logins_sent_at_once_cannot_all_pass_the_limit(db: str) -> None:
    """Passwords are checked outside the lock, so each attempt counts before its check."""
    with serving(WebSettings(db=db, now=NOW)) as url:
        codes: list[int] = []

        def attempt() -> None:
            with httpx.Client(base_url=url, timeout=60) as client:
                codes.append(_login(client, "ada@example.org", "wrong").status_code)

        threads = [threading.Thread(target=attempt) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
    assert sorted(codes) == [401] * 5 + [429] * 7
