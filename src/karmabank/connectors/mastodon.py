"""Mastodon: the organization's notifications, as activities toward it.

**Check** (`karmabank connect mastodon`): `GET /api/v2/instance` gives the instance's own
domain (handles are `@user@domain`, which may differ from the API's host), then
`GET /api/v1/accounts/verify_credentials` whose account the token is. Both are kept with the
connection (`Account.options`: `domain`, `account_id`).

**Notifications** (`GET /api/v1/notifications`, `types[]` mention, favourite, reblog, follow;
a token with `read:notifications read:accounts` is enough) become one activity each, direction
`in`, channel `mastodon` (`mastodon_items.py` maps them). Pages come newest first, 40 a page.

**Paging.** A first sync (no cursor) walks back from the newest page along the `Link` header's
`next` (`max_id`) until a notification older than `since` (90 days by default) or the end;
while it walks, the cursor is `back:TOP:MAX_ID` (the newest id seen, and where the walk goes on),
so a sync killed mid-walk resumes at the next older page. Once the walk ends the cursor is the
newest id, and every later sync pages *forward* from it with `min_id`, along `Link`'s `prev`,
each page's newest id stored with that page, until a page comes back empty. Only the ids of a
`Link` are taken, never its host: the token goes to the connection's instance only.

A page whose body is not a JSON list is quarantined (one `BadRow` with the start of the body,
stored with the page's URL) and the walk goes on from its `Link` header; without one the sync
of this connection stops there, its cursor unmoved, and the next sync tries the page again.

**Followers** (`GET /api/v1/accounts/:id/followers`, 80 a page, `read:accounts`): after the
notifications, once a day by default (`ConnectionSettings.audience_every`,
`KARMABANK_SYNC_FOLLOWERS_EVERY`), the account's follower list is read along `Link` `next`
(its `max_id` is the follow's id, not an account's: only the header says where the next page
starts). Each follower's `followers_count` becomes their audience (`AudienceRow`: reach) when
they are in the network; the list has no times, so a follower is not made an activity (their
`follow` notification is one). Where the reading stands is kept with the connection
(`followers_max_id`, then `followers_read_at` when it ends: `Page.keep`), so a sync killed
in the middle of it goes on from the next page. A malformed page is quarantined with its URL;
the reading goes on from its `Link`, or ends there without one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlencode, urlsplit

from karmabank.connectors.base import Account, ConnectionSettings, Page, Reply, Transport
from karmabank.connectors.mastodon_items import (
    BAD_FOLLOWERS,
    BAD_PAGE,
    MastodonItems,
    page_start,
)
from karmabank.errors import ConnectorError, IdentityError
from karmabank.identities import normalize_identity
from karmabank.sources.base import BadRow

NOTIFICATIONS = "/api/v1/notifications"
TYPES = ("mention", "favourite", "reblog", "follow")
LIMIT = 40  # Mastodon's default page (its maximum is 80)
FOLLOWERS = "/api/v1/accounts/{id}/followers"
FOLLOWERS_LIMIT = 80  # the endpoint's maximum
READ_AT, AT_MAX_ID = "followers_read_at", "followers_max_id"  # kept with the connection
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([^";,]+)"?')


class MastodonConnector:
    platform: ClassVar[str] = "mastodon"

    def __init__(self, settings: ConnectionSettings, *, secret: str, transport: Transport) -> None:
        self.settings = settings
        self._transport = transport
        self._auth = {"Authorization": f"Bearer {secret}"}

    def check(self) -> Account:
        domain = self._domain()
        me = self._json(self._get("/api/v1/accounts/verify_credentials"))
        if not isinstance(me, dict) or not isinstance(me.get("acct"), str):
            raise ConnectorError(f"{self.settings.name}: verify_credentials gave no account")
        acct = me["acct"] if "@" in me["acct"] else f"{me['acct']}@{domain}"
        try:
            identity = normalize_identity("mastodon", f"@{acct}")
        except IdentityError as e:
            raise ConnectorError(f"{self.settings.name}: {e}") from None
        followers = me.get("followers_count")
        return Account(
            identity=identity,
            name=me.get("display_name") or me.get("username") or None,
            followers=followers if type(followers) is int and followers >= 0 else None,
            options={"domain": identity.key.rpartition("@")[2], "account_id": str(me["id"])},
        )

    def pages(
        self, cursor: str | None, since: datetime, *, now: datetime | None = None
    ) -> Iterator[Page]:
        options = self.settings.options
        if "domain" not in options or "account_id" not in options:
            options = {**options, **self.check().options}
        items = MastodonItems(
            domain=options["domain"], account_id=options["account_id"], since=since
        )
        if cursor is None or cursor.startswith("back:"):
            walk = self._walk_back(items, cursor, since)
        else:
            walk = self._forward(items, cursor)
        for page in walk:
            cursor = page.cursor
            yield page
        if now is not None and self._followers_due(options, now):
            yield from self._followers(items, options, cursor, now)

    def _followers_due(self, options: Mapping[str, str], now: datetime) -> bool:
        every = self.settings.audience_every
        if every is None:
            return False
        if options.get(AT_MAX_ID):
            return True  # a reading killed part-way goes on
        try:
            last = datetime.fromisoformat(options[READ_AT])
        except (KeyError, ValueError):
            return True
        return last.tzinfo is None or now - last >= every

    def _followers(
        self, items: MastodonItems, options: Mapping[str, str], cursor: str | None,
        now: datetime,
    ) -> Iterator[Page]:  # fmt: skip
        """The follower list's pages from where the last reading stopped; each page leaves
        the notifications' cursor as it is and keeps where the reading stands."""
        path = FOLLOWERS.format(id=options["account_id"])
        max_id = options.get(AT_MAX_ID) or None
        note: str | None = "reading the follower list (their follower counts: reach)"
        while True:
            query = [("limit", str(FOLLOWERS_LIMIT))] + ([("max_id", max_id)] if max_id else [])
            url = f"{path}?{urlencode(query)}"
            reply = self._get(url)
            older = _links(reply).get("next", {}).get("max_id")
            try:
                body = reply.json()
            except ValueError:
                body = None
            if isinstance(body, list):
                found = items.audiences(body)
                older = older if body else None
            else:
                found = [BadRow(1, page_start(reply.text), BAD_FOLLOWERS)]
            if older is None or older == max_id:
                done = {READ_AT: now.isoformat(), AT_MAX_ID: ""}
                yield Page(url, found, cursor=cursor, note=note, keep=done)
                return
            yield Page(url, found, cursor=cursor, note=note, keep={AT_MAX_ID: older})
            max_id, note = older, None

    def _walk_back(
        self, items: MastodonItems, cursor: str | None, since: datetime
    ) -> Iterator[Page]:
        top, _, max_id = (cursor or "back::").removeprefix("back:").partition(":")
        note: str | None = f"first sync: back to {since:%Y-%m-%d}" if cursor is None else None
        while True:
            url = _url(max_id=max_id or None)
            reply = self._get(url)
            links = _links(reply)
            found = self._page(items, url, reply)
            if found is None:  # malformed: go on from its Link, if it has one
                top = top or links.get("prev", {}).get("min_id", "")
                older = links.get("next", {}).get("max_id")
                if older is None:
                    yield Page(url, [_bad(reply)], cursor=cursor, note=note)
                    return
                cursor = f"back:{top}:{older}"
                yield Page(url, [_bad(reply)], cursor=cursor, note=note)
            else:
                page_items, ids, ended = found
                top = top or (ids[0] if ids else "")
                older = links.get("next", {}).get("max_id") or (ids[-1] if ids else None)
                if ended or not ids or older is None:
                    yield Page(url, page_items, cursor=top or None, note=note)
                    return
                cursor = f"back:{top}:{older}"
                yield Page(url, page_items, cursor=cursor, note=note)
            max_id, note = older, None

    def _forward(self, items: MastodonItems, cursor: str) -> Iterator[Page]:
        while True:
            url = _url(min_id=cursor)
            reply = self._get(url)
            links = _links(reply)
            found = self._page(items, url, reply)
            if found is None:
                newer = links.get("prev", {}).get("min_id")
                yield Page(url, [_bad(reply)], cursor=newer or cursor)
                if newer is None:
                    return
                cursor = newer
                continue
            page_items, ids, _ended = found
            newest = max(ids, key=_order) if ids else None
            if newest is None or _order(newest) <= _order(cursor):
                return  # nothing newer (an instance ignoring min_id must not loop)
            cursor = newest
            yield Page(url, page_items, cursor=cursor)

    def _page(
        self, items: MastodonItems, url: str, reply: Reply
    ) -> tuple[list[Any], list[str], bool] | None:
        """The page's items, its notification ids (newest first) and whether it reached
        `since`; None when the body is not a JSON list."""
        try:
            body = reply.json()
        except ValueError:
            return None
        if not isinstance(body, list):
            return None
        return items.read(body)

    def _domain(self) -> str:
        info = self._json(self._get("/api/v2/instance"))
        domain = info.get("domain") if isinstance(info, dict) else None
        if not isinstance(domain, str) or not domain:
            domain = urlsplit(self.settings.base_url).hostname or ""
        return domain.lower()

    def _get(self, url: str) -> Reply:
        return self._transport.get(url, headers=self._auth)

    def _json(self, reply: Reply) -> Any:
        try:
            return reply.json()
        except ValueError:
            raise ConnectorError(
                f"{self.settings.name}: the instance answered {page_start(reply.text)!r}, not JSON"
            ) from None


def _url(*, min_id: str | None = None, max_id: str | None = None) -> str:
    query: list[tuple[str, str]] = [("types[]", t) for t in TYPES]
    query.append(("limit", str(LIMIT)))
    if min_id:
        query.append(("min_id", min_id))
    if max_id:
        query.append(("max_id", max_id))
    return f"{NOTIFICATIONS}?{urlencode(query)}"


def _links(reply: Reply) -> dict[str, dict[str, str]]:
    """The `Link` header's relations, each as its URL's query (the ids only are used)."""
    found: dict[str, dict[str, str]] = {}
    for url, rel in _LINK.findall(reply.headers.get("link", "")):
        query = parse_qs(urlsplit(url).query)
        found[rel.strip()] = {k: v[0] for k, v in query.items() if v and k in ("min_id", "max_id")}
    return found


def _order(notification_id: str) -> tuple[int, str]:
    """Mastodon ids are numbers written as text: a longer one is newer."""
    return (len(notification_id), notification_id)


def _bad(reply: Reply) -> BadRow:
    return BadRow(1, page_start(reply.text), BAD_PAGE)
