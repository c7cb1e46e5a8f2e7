"""The `Transport` connectors read through: httpx, with the network's manners.

- **Timeouts** on every request (`Policy.timeout`).
- **Retries** of 5xx answers and connection errors (refused, reset, timed out), waiting
  `backoff`, then twice that, and so on (at most `max_backoff` a time), `retries` times.
- **Rate limits**: a `429` waits what `Retry-After` says (seconds or an HTTP date), else until
  `X-RateLimit-Reset` / `RateLimit-Reset` (Mastodon: an ISO time; Bluesky: epoch seconds), else
  the backoff; a 2xx with `X-RateLimit-Remaining: 0` makes the next request wait for the reset.
  Every wait is shown through the `progress` callback and slept, never spun; a request that
  would wait more than `max_wait` seconds in all is a `ConnectorError` instead.
- **Refused credentials**: a 401/403 is `CredentialsRefused`, naming the connection and the
  variable that holds the secret. Another 4xx is a `ConnectorError` naming the status and URL.

No message this module writes contains the secret: the transport is told the secrets it
carries (`secrets`) and scrubs them out of every message as a last guard.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from karmabank.connectors.base import Reply
from karmabank.errors import ConnectorError, CredentialsRefused

Progress = Callable[[str], None]
USER_AGENT = "karmabank (+https://github.com/karmabank; read-only sync)"


@dataclass(frozen=True, slots=True)
class Policy:
    """How patient a transport is. Tests give `backoff` in milliseconds."""

    timeout: float = 20.0  # seconds to connect, and between bytes read
    retries: int = 4  # retries of a 5xx or a connection error, after the first try
    backoff: float = 1.0  # seconds before the first retry; doubles each retry
    max_backoff: float = 60.0
    max_wait: float = 300.0  # seconds one request may wait in all (retries and rate limits)


def _quiet(_line: str) -> None:
    return None


class HttpTransport:
    """A `Transport` on an `httpx.Client` for one connection (`connection` names it in
    messages; `secret_env` is the variable to fix when credentials are refused)."""

    def __init__(
        self,
        *,
        base_url: str,
        connection: str,
        secret_env: str,
        headers: Mapping[str, str] | None = None,
        secrets: tuple[str, ...] = (),
        policy: Policy | None = None,
        progress: Progress | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.connection, self.secret_env = connection, secret_env
        self.policy = policy or Policy()
        self._secrets = tuple(s for s in secrets if s)
        self._progress = progress or _quiet
        self._sleep = sleep
        self._not_before = 0.0  # a rate limit's reset, in time.time()
        self._client = httpx.Client(
            base_url=base_url,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
            timeout=self.policy.timeout,
            follow_redirects=False,
        )

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        return self._send("GET", url, params=params, headers=headers)

    def post(
        self,
        url: str,
        *,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        return self._send("POST", url, json=json, headers=headers)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpTransport:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        waited, failures = 0.0, 0
        while True:
            waited += self._wait_for_reset(waited)
            try:
                reply = self._client.request(method, url, **kwargs)
            except httpx.TransportError as e:
                failures += 1
                reason, shown_url = _kind(e), self._shown(str(self._client.base_url.join(url)))
                if failures > self.policy.retries:
                    raise self._error(f"{reason} at {shown_url}, {failures} tries") from None
                waited += self._pause(self._backoff(failures), reason, waited)
                continue
            status = reply.status_code
            if 200 <= status < 300:
                self._note_limit(reply.headers)
                return reply
            shown_url = self._shown(str(reply.request.url))
            if status in (401, 403):
                raise CredentialsRefused(
                    self._scrub(
                        f"{self.connection}: the platform refused the credentials "
                        f"({status} at {shown_url}): check ${self.secret_env} "
                        "(revoked, expired or wrong?)"
                    )
                )
            if status == 429:
                wait = _rate_limit_wait(reply.headers) or self._backoff(1)
                waited += self._pause(wait, "rate limited (429)", waited)
                continue
            if status >= 500:
                failures += 1
                if failures > self.policy.retries:
                    raise self._error(f"{status} at {shown_url}, {failures} tries")
                waited += self._pause(self._backoff(failures), f"{status} answer", waited)
                continue
            raise self._error(f"{status} at {shown_url}")

    def _backoff(self, failures: int) -> float:
        return min(self.policy.max_backoff, self.policy.backoff * 2.0 ** (failures - 1))

    def _pause(self, seconds: float, reason: str, waited: float) -> float:
        """Show and sleep one wait (at least 1 ms: never a tight loop); a ConnectorError when
        it would take the request past `max_wait`."""
        seconds = max(seconds, 0.001)
        if waited + seconds > self.policy.max_wait:
            raise self._error(
                f"{reason}; waiting {_seconds(seconds)} more would pass the "
                f"{_seconds(self.policy.max_wait)} limit (KARMABANK_SYNC_MAX_WAIT)"
            )
        self._progress(f"{self.connection}: {reason}; waiting {_seconds(seconds)}")
        self._sleep(seconds)
        return seconds

    def _wait_for_reset(self, waited: float) -> float:
        ahead = self._not_before - time.time()
        self._not_before = 0.0
        return self._pause(ahead, "rate limit reached", waited) if ahead > 0 else 0.0

    def _note_limit(self, headers: Mapping[str, str]) -> None:
        remaining = headers.get("x-ratelimit-remaining") or headers.get("ratelimit-remaining")
        if remaining is not None and remaining.strip() == "0":
            reset = _reset_wait(headers)
            if reset:
                self._not_before = time.time() + reset

    def _error(self, what: str) -> ConnectorError:
        return ConnectorError(self._scrub(f"{self.connection}: {what}"))

    def _shown(self, url: str) -> str:
        return self._scrub(url if len(url) <= 200 else url[:199] + "…")

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[secret]")
        return text


def _kind(error: httpx.TransportError) -> str:
    if isinstance(error, httpx.TimeoutException):
        return "timed out"
    if isinstance(error, httpx.ConnectError):
        return "cannot connect"
    return "connection broken"


def _seconds(value: float) -> str:
    return f"{value:.3g} s" if value < 10 else f"{math.ceil(value)} s"


def _rate_limit_wait(headers: Mapping[str, str]) -> float | None:
    """Seconds a 429 asks to wait: `Retry-After` (seconds or an HTTP date), else the reset."""
    after = headers.get("retry-after")
    if after is not None:
        text = after.strip()
        if text.isdigit():
            return float(text)
        try:
            return max(0.0, parsedate_to_datetime(text).timestamp() - time.time())
        except (TypeError, ValueError):
            pass
    return _reset_wait(headers)


def _reset_wait(headers: Mapping[str, str]) -> float | None:
    """Seconds until `X-RateLimit-Reset` (an ISO time, Mastodon's) or `RateLimit-Reset`
    (epoch seconds, Bluesky's; small numbers are seconds from now)."""
    text = (headers.get("x-ratelimit-reset") or headers.get("ratelimit-reset") or "").strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        try:
            reset = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        if reset.tzinfo is None:
            reset = reset.replace(tzinfo=UTC)
        return max(0.0, reset.timestamp() - time.time())
    return max(0.0, number - time.time()) if number > 1e9 else number
