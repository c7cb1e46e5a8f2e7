"""The Bluesky connector: what came in toward the organization's account, from
`app.bsky.notification.listNotifications` (how each notification becomes an item, and the
cursor: `karmabank.connectors.bluesky_items`).

- **Auth**: `com.atproto.server.createSession` with the handle and an app password (POST
  JSON `{"identifier", "password"}`). The session's `accessJwt` and `refreshJwt` live in this
  object only, for one sync; they are never stored, printed or logged. A call refused for an
  expired token (`400 ExpiredToken`, or a `401`) refreshes the session once with
  `com.atproto.server.refreshSession` (the refresh token as the bearer) and is made again; a
  second refusal is `CredentialsRefused`. An access token whose `exp` is less than a minute
  away is refreshed before the call (read from the JWT, not verified: only to be in time).
- **check()**: the session's DID is the account (`bluesky:did:plc:...`, its handle as the
  name), its followers `app.bsky.actor.getProfile`'s `followersCount`.
- **pages()**: the list comes newest first (`limit=100`, then the `cursor` each page gives),
  so a sync walks back from the newest notification until it meets the mark (the newest one
  stored by the last walk that finished), or on a first sync `since`, or the end of the list.
  Every page's cursor says where the walk is; the mark becomes the walk's top only with the
  page that finishes it. A sync killed mid-walk resumes at the next page, finishes that walk,
  then walks down from the newest again to what it just reached.
- **A malformed page** (not JSON, no `notifications` list) is fetched once more (a reply cut
  short); malformed again, it is quarantined as one row with its URL and the walk pauses
  there: the cursor stays on that page, so the next sync reads it again and nothing below
  it is lost. After `MAX_BAD_PAGE` syncs in a row on the same bad page the walk gives up:
  the mark becomes the walk's top, and the page note says what could not be read.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Generator, Iterator
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlencode

from karmabank.connectors.base import Account, ConnectionSettings, Page, Reply, Transport
from karmabank.connectors.bluesky_items import (
    Mark,
    Read,
    Walk,
    WalkState,
    did_identity,
    read_notification,
    top_of,
)
from karmabank.errors import ConfigError, ConnectorError, CredentialsRefused
from karmabank.model import IdentityKey, to_micros
from karmabank.sources.base import BadRow, SourceItem

DEFAULT_SERVICE = "https://bsky.social"
CREATE_SESSION = "/xrpc/com.atproto.server.createSession"
REFRESH_SESSION = "/xrpc/com.atproto.server.refreshSession"
GET_PROFILE = "/xrpc/app.bsky.actor.getProfile"
LIST_NOTIFICATIONS = "/xrpc/app.bsky.notification.listNotifications"
PAGE_LIMIT = 100
REFRESH_AHEAD = 60.0  # seconds before the access token's `exp` when it is refreshed first
MAX_BAD_PAGE = 3  # syncs in a row that find the same page malformed before the walk gives up


class BlueskyConnector:
    platform: ClassVar[str] = "bluesky"

    def __init__(self, settings: ConnectionSettings, *, secret: str, transport: Transport) -> None:
        handle = settings.options.get("handle")
        if not handle or not handle.strip().lstrip("@"):
            raise ConfigError(f"{settings.name}: a Bluesky connection needs its handle")
        self.handle = handle.strip().lstrip("@")
        self._password = secret
        self.transport = transport
        self.service = (settings.base_url or DEFAULT_SERVICE).rstrip("/")
        self.label = settings.name  # names the connection in errors
        self.secret_env = settings.secret_env
        self._access: str | None = None
        self._refresh: str | None = None
        self._did: str | None = None

    def __repr__(self) -> str:  # never the secret nor the tokens
        return f"BlueskyConnector(handle={self.handle!r}, service={self.service!r})"

    # --- the session -------------------------------------------------------------------

    def _login(self) -> None:
        try:
            reply = self.transport.post(
                CREATE_SESSION, json={"identifier": self.handle, "password": self._password}
            )
        except CredentialsRefused:
            raise CredentialsRefused(
                f"{self.label}: Bluesky refused the handle {self.handle} and the app password in"
                f" ${self.secret_env}"
            ) from None
        self._take_session(reply, "createSession")

    def _take_session(self, reply: Reply, what: str) -> None:
        data = _json(reply)
        access, refresh, did = (data.get(k) for k in ("accessJwt", "refreshJwt", "did"))
        if not (isinstance(access, str) and isinstance(refresh, str) and did_identity(did)):
            raise ConnectorError(f"{self.label}: {what} answered without a session")
        if data.get("active") is False:
            status = data.get("status")
            raise CredentialsRefused(
                f"{self.label}: the account is not active ({_short(status) or 'deactivated'})"
            )
        assert isinstance(did, str)
        self._access, self._refresh, self._did = access, refresh, did

    def _renew(self) -> None:
        """Refresh the session once (the refresh token as the bearer); CredentialsRefused
        when that is refused too."""
        try:
            reply = self.transport.post(REFRESH_SESSION, headers=self._bearer(self._refresh))
        except ConnectorError as e:  # a 401, or 400 ExpiredToken / InvalidToken
            if not _expired(e):
                raise  # the network, past its retries: not a refusal
            raise CredentialsRefused(
                f"{self.label}: the session expired and Bluesky refused to refresh it"
            ) from None
        self._take_session(reply, "refreshSession")

    def _bearer(self, token: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def _get(self, path: str, params: dict[str, str | int]) -> Reply:
        """A GET as the session; an expired token is refreshed once."""
        if self._access is None:
            self._login()
        elif expires_within(self._access, REFRESH_AHEAD, time.time()):
            self._renew()

        def call() -> Reply:
            return self.transport.get(path, params=params, headers=self._bearer(self._access))

        try:
            return call()
        except ConnectorError as e:
            if not _expired(e):
                raise
        self._renew()
        try:
            return call()
        except ConnectorError as e:
            if _expired(e):
                raise CredentialsRefused(
                    f"{self.label}: Bluesky refused the refreshed session"
                ) from None
            raise

    # --- the connector -----------------------------------------------------------------

    def organization(self) -> IdentityKey:
        if self._did is None:
            self._login()
        org = did_identity(self._did)
        assert org is not None
        return org

    def check(self) -> Account:
        org = self.organization()
        reply = self._get(GET_PROFILE, {"actor": org.key})
        profile = _json(reply)
        followers = profile.get("followersCount")
        handle = profile.get("handle")
        return Account(
            identity=org,
            name=handle if isinstance(handle, str) and handle else self.handle,
            followers=followers if isinstance(followers, int) and followers >= 0 else None,
        )

    def pages(
        self, cursor: str | None, since: datetime, *, now: datetime | None = None
    ) -> Iterator[Page]:  # `now`: Bluesky's follower views carry no follower counts
        state = WalkState.parse(cursor)
        org = self.organization()
        resumed = state.walk is not None
        state, finished = yield from self._walk(state, org, since)
        if resumed and finished:  # what came in while the walk was unfinished
            yield from self._walk(state, org, since)

    # --- the walk ------------------------------------------------------------------------

    def _walk(
        self, state: WalkState, org: IdentityKey, since: datetime
    ) -> Generator[Page, None, tuple[WalkState, bool]]:
        """The pages of one walk back; returns the state it ended with and whether it
        finished (met the mark, `since` or the end of the list)."""
        mark, walk = state.mark, state.walk
        top = walk.top if walk else None
        at_cursor = walk.cursor if walk else None
        floor = None if mark else to_micros(since)
        note = f"first sync: back to {since:%Y-%m-%d %H:%M} UTC" if mark is None else None
        while True:
            params: dict[str, str | int] = {"limit": PAGE_LIMIT}
            if at_cursor is not None:
                params["cursor"] = at_cursor
            url = f"{self.service}{LIST_NOTIFICATIONS}?{urlencode(params)}"
            page = self._page(params)
            if isinstance(page, str):  # malformed twice
                bad = (walk.bad if walk and walk.cursor == at_cursor else 0) + 1
                bad_page = self._bad_page(url, page, mark, top, at_cursor, bad)
                yield bad_page
                return WalkState.parse(bad_page.cursor), False
            notifications, next_cursor = page
            items, top, met = self._items(notifications, org, mark, floor, top)
            if met or not next_cursor or not notifications:
                done = WalkState(top or mark, None)
                yield Page(url, items, done.text(), note)
                return done, True
            walk = Walk(next_cursor, top)
            yield Page(url, items, WalkState(mark, walk).text(), note)
            at_cursor, note = next_cursor, None

    def _items(
        self,
        notifications: list[Any],
        org: IdentityKey,
        mark: Mark | None,
        floor: int | None,
        top: Mark | None,
    ) -> tuple[list[SourceItem], Mark | None, bool]:
        """A page's items down to the mark or the floor, the walk's top after them, and
        whether the mark or the floor was met."""
        items: list[SourceItem] = []
        for line, n in enumerate(notifications, start=1):
            read: Read = read_notification(line, n, org)
            if read.at is not None and read.uri is not None:
                if floor is not None and read.at < floor:
                    return items, top, True
                if mark is not None and mark.holds(read.at, read.uri):
                    if read.at < mark.at:
                        return items, top, True
                    continue  # stored by the last walk: same time as the mark
                top = top_of(top, read.at, read.uri)
            items.append(read.item)
        return items, top, False

    def _page(self, params: dict[str, str | int]) -> tuple[list[Any], str | None] | str:
        """(notifications, next cursor) of one page, or the start of its text when it came
        back malformed twice."""
        text = ""
        for _ in range(2):
            reply = self._get(LIST_NOTIFICATIONS, params)
            text = reply.text
            try:
                data = reply.json()
            except ValueError:
                continue
            notifications = data.get("notifications") if isinstance(data, dict) else None
            next_cursor = data.get("cursor") if isinstance(data, dict) else None
            if isinstance(notifications, list) and (
                next_cursor is None or isinstance(next_cursor, str)
            ):
                return notifications, next_cursor or None
        return text[:2_000]

    def _bad_page(
        self,
        url: str,
        text: str,
        mark: Mark | None,
        top: Mark | None,
        at_cursor: str | None,
        bad: int,
    ) -> Page:
        row = BadRow(
            1, text or "(an empty answer)", "a page that is not a listNotifications answer"
        )
        if bad >= MAX_BAD_PAGE or at_cursor is None:
            # the first page (no cursor yet) is read afresh next time anyway
            given_up = at_cursor is not None
            state = WalkState(top or mark if given_up else mark, None)
            note = (
                f"a page came back malformed {bad} times: notifications older than it and "
                "newer than the last sync were not read"
                if given_up
                else "the newest page came back malformed: read again next sync"
            )
            return Page(url, [row], state.text(), note)
        state = WalkState(mark, Walk(at_cursor, top, bad))
        return Page(url, [row], state.text(), "a page came back malformed: read again next sync")


def _json(reply: Reply) -> dict[str, Any]:
    try:
        data = reply.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ConnectorError(f"Bluesky answered what is not a JSON object: {reply.text[:80]!r}")
    return data


def _expired(e: ConnectorError) -> bool:
    """A refusal that a refreshed session may fix: a 401, or a 400 (Bluesky's `400
    ExpiredToken`: the transport's message names the status, not the XRPC error, so any 400
    is tried once more with a refreshed session)."""
    return isinstance(e, CredentialsRefused) or ": 400 at " in str(e) or "ExpiredToken" in str(e)


def expires_within(token: str | None, seconds: float, now: float) -> bool:
    """Whether a session JWT's `exp` (unverified: only to refresh in time) is less than
    `seconds` after `now`; False when the token carries no readable `exp`."""
    if not token or token.count(".") != 2:
        return False
    payload = token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, TypeError):
        return False
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return isinstance(exp, int | float) and exp - now < seconds


def _short(value: object) -> str | None:
    return value[:40] if isinstance(value, str) and value.isprintable() else None
