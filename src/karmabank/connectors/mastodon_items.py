"""Mastodon notifications as items (`karmabank.connectors.mastodon` reads the pages).

| type        | verb      | object                    | text                  |
|-------------|-----------|---------------------------|-----------------------|
| `mention`   | `mention` | the mentioning status     | the status, as text   |
| (a reply to one of the organization's statuses) | `reply` | the reply | the reply, as text |
| `favourite` | `like`    | the organization's status |                       |
| `reblog`    | `share`   | the organization's status |                       |
| `follow`    | `follow`  |                           |                       |

Every activity is direction `in`, channel `mastodon`, at the notification's `created_at`. The
person is the notification's account as `@user@domain` (a local account's `acct` has no
domain: the instance's is added), named by its `display_name` (else its username); its
`followers_count` is the person's reach (`ParsedRow.followers`). Other types (`status`,
`update`, `poll`, `follow_request`, ...) and notifications from the organization itself are
skipped with the reason; a notification without an account, a time or an id is a `BadRow`.

**Keys** are `mastodon:DOMAIN:notification:ID`, the instance's own notification id: a re-sync
finds them. The `mastodon-archive` importer reads the organization's *own* outbox (its replies,
boosts and mentions as gives, its posts as its content, keyed by those activities' URIs); a
notification is what someone else did toward it, so no activity is seen by both and the keys
need not (and do not) meet: a favourite of one of our statuses is keyed by the notification,
and its `object` is the status's URL, the same URL the archive stores as our content.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from karmabank.bounds import MAX_FOLLOWERS
from karmabank.errors import IdentityError, OutOfRange
from karmabank.identities import normalize_identity
from karmabank.model import IdentityKey, to_micros
from karmabank.sources.activitystreams_common import plain_text, raw_text
from karmabank.sources.base import (
    AudienceRow,
    BadRow,
    ParsedRow,
    SkippedRow,
    SourceItem,
    parse_time,
)

VERBS = {"mention": "mention", "favourite": "like", "reblog": "share", "follow": "follow"}
BAD_PAGE = "the page is not a JSON list of notifications"
BAD_FOLLOWERS = "the page is not a JSON list of accounts (followers)"
PAGE_START = 500  # characters of a malformed page kept in quarantine


def page_start(text: str) -> str:
    return text[:PAGE_START]


class MastodonItems:
    """Turns pages of one instance's notifications into items."""

    def __init__(self, *, domain: str, account_id: str, since: datetime) -> None:
        self.domain, self.account_id = domain, account_id
        self.since_us = to_micros(since)

    def read(self, notifications: list[Any]) -> tuple[list[SourceItem], list[str], bool]:
        """The page's items, its ids in the page's order, and whether it reached back past
        `since` (the older notifications are left out)."""
        items: list[SourceItem] = []
        ids: list[str] = []
        ended = False
        for line, notification in enumerate(notifications, 1):
            if isinstance(notification, dict) and isinstance(notification.get("id"), str):
                ids.append(notification["id"])
            item = self.item(line, notification)
            if type(item) is ParsedRow and item.occurred_at < self.since_us:
                ended = True
                continue
            items.append(item)
        return items, ids, ended

    def item(self, line: int, n: Any) -> SourceItem:
        try:
            return self._item(line, n)
        except (IdentityError, OutOfRange, ValueError, TypeError, KeyError) as e:
            reason = str(e) if isinstance(e, ValueError) else f"{type(e).__name__}: {e}"
            return BadRow(line, raw_text(n), f"notification: {reason}")

    def _item(self, line: int, n: Any) -> SourceItem:
        if not isinstance(n, dict) or not isinstance(n.get("id"), str):
            raise ValueError("not a notification with an id")
        kind = n.get("type")
        verb = VERBS.get(kind) if isinstance(kind, str) else None
        if verb is None:
            return SkippedRow(line, f"a Mastodon {kind!s} notification (not toward us)")
        account = n["account"]
        if str(account["id"]) == self.account_id:
            return SkippedRow(line, "the organization's own notification")
        status = n.get("status") if isinstance(n.get("status"), dict) else None
        text = None
        if verb == "mention" and status is not None:
            text = plain_text(status.get("content"))
            if str(status.get("in_reply_to_account_id")) == self.account_id:
                verb = "reply"
        followers = account.get("followers_count")
        return ParsedRow(
            line=line,
            source_key=f"mastodon:{self.domain}:notification:{n['id']}",
            occurred_at=parse_time(str(n["created_at"])),
            person=self._person(account),
            verb=verb,
            direction="in",
            channel="mastodon",
            object=_status_url(status),
            text=text,
            name=(account.get("display_name") or account.get("username") or None),
            followers=followers if type(followers) is int and followers >= 0 else None,
        )

    def audiences(self, accounts: list[Any]) -> list[SourceItem]:
        """A page of the follower list as each follower's audience (`AudienceRow`); an entry
        that is not an account with an `acct` and a follower count is a `BadRow`."""
        found: list[SourceItem] = []
        for line, account in enumerate(accounts, 1):
            try:
                if not isinstance(account, dict):
                    raise ValueError("not an account")
                if str(account.get("id")) == self.account_id:
                    continue
                count = account.get("followers_count")
                if type(count) is not int or not 0 <= count <= MAX_FOLLOWERS:
                    raise ValueError(f"followers_count {count!r} is not a count")
                found.append(AudienceRow(line, self._person(account), count))
            except (IdentityError, ValueError, TypeError, KeyError) as e:
                reason = str(e) if isinstance(e, ValueError) else f"{type(e).__name__}: {e}"
                found.append(BadRow(line, raw_text(account), f"follower: {reason}"))
        return found

    def _person(self, account: dict[str, Any]) -> IdentityKey:
        acct = account["acct"]
        if not isinstance(acct, str) or not acct:
            raise ValueError("the account has no acct")
        full = acct if "@" in acct else f"{acct}@{self.domain}"
        return normalize_identity("mastodon", f"@{full}")


def _status_url(status: dict[str, Any] | None) -> str | None:
    if status is None:
        return None
    url = status.get("url") or status.get("uri")
    return url if isinstance(url, str) and url else None
