"""Bluesky notifications as items, and the cursor a sync of them stores.

**A notification** (`app.bsky.notification.listNotifications`, lexicon in
`../shared/data/formats/bluesky-api/`) becomes one activity toward the organization
(direction `in`, channel `bluesky`):

| reason  | verb      | object                                  | text              |
|---------|-----------|-----------------------------------------|-------------------|
| like    | `like`    | the liked post (`reasonSubject`)        |                   |
| repost  | `share`   | the reposted post (`reasonSubject`)     |                   |
| quote   | `share`   | the quoted post (`reasonSubject`)       | the quoting post's |
| reply   | `reply`   | the post replied to (`reasonSubject`)   | the reply's       |
| mention | `mention` | the mentioning post (`uri`)             | the post's        |
| follow  | `follow`  | the follow record (`uri`)               |                   |

(`object` falls back to the notification's own `uri` when there is no `reasonSubject`.)
Other reasons (`starterpack-joined`, `verified`, `like-via-repost`, ...) are skipped with the
reason named. The person is the author's DID (`bluesky:did:plc:...`; handles change), named
by their display name, or their handle when they have none. A notification by the
organization itself is skipped.

**Time** is the notification's `indexedAt`, which the Bluesky AppView sets to the time it
sorts notifications by: the earlier of the record's `createdAt` and the moment it was
indexed (`sortAt = least(createdAt, indexedAt)`), so a record dated in the future cannot
jump the queue. That is also the order pages come in (newest first), which the walk
relies on.

**Keys** are `bluesky:notification:` + the notification's `at://` URI (the supporter's
record): one activity per record, whichever reason it was listed under first. The
`bluesky-repo` importer keys the organization's *own* records `bluesky-repo:at://<org
DID>/...`; a like the organization gave and one it received are two records with two URIs
under two prefixes, so the keys never meet.

**The cursor** (`WalkState`, stored as JSON text) holds the *mark*, the newest notification
already stored (its time and the URIs at that time), and, while a walk back from the newest
page is unfinished, the *walk*: the platform's cursor of the next page, the walk's own top
(the mark it will become) and how many times the page at that cursor came back malformed.
The mark moves only when a walk reaches it (or `since`, or the end of the list), so a sync
killed mid-walk resumes at the page after its last stored one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from karmabank.errors import ConnectorError, IdentityError
from karmabank.identities import normalize_identity
from karmabank.model import IdentityKey
from karmabank.sources.activitystreams_common import raw_text
from karmabank.sources.base import BadRow, ParsedRow, SkippedRow, SourceItem, parse_time

CHANNEL = "bluesky"
KEY_PREFIX = "bluesky:notification:"
VERBS = {
    "like": "like",
    "repost": "share",
    "quote": "share",
    "reply": "reply",
    "mention": "mention",
    "follow": "follow",
}
WITH_TEXT = frozenset({"reply", "mention", "quote"})
SELF = "a notification from the organization's own account"
MAX_MARK_URIS = 100  # URIs remembered at the mark's time (same-microsecond ties)


@dataclass(frozen=True, slots=True)
class Mark:
    """A place in the newest-first list: a time (µs) and the URIs seen at exactly it."""

    at: int
    uris: tuple[str, ...]

    def holds(self, at: int, uri: str) -> bool:
        """Whether the notification at `at` with `uri` is at or below this mark."""
        return at < self.at or (at == self.at and uri in self.uris)

    def raised(self, at: int, uri: str) -> Mark:
        """This mark moved up to take in a notification seen above or at it."""
        if at > self.at:
            return Mark(at, (uri,))
        if at == self.at and uri not in self.uris and len(self.uris) < MAX_MARK_URIS:
            return Mark(at, (*self.uris, uri))
        return self

    def as_json(self) -> dict[str, Any]:
        return {"at": self.at, "uris": list(self.uris)}


def top_of(top: Mark | None, at: int, uri: str) -> Mark:
    return Mark(at, (uri,)) if top is None else top.raised(at, uri)


@dataclass(frozen=True, slots=True)
class Walk:
    """An unfinished walk back: the platform's cursor of its next page, its top so far, and
    how many times in a row that page came back malformed."""

    cursor: str
    top: Mark | None
    bad: int = 0


@dataclass(frozen=True, slots=True)
class WalkState:
    """What `Page.cursor` holds for a Bluesky connection."""

    mark: Mark | None = None
    walk: Walk | None = None

    def text(self) -> str:
        walk = self.walk
        return json.dumps(
            {
                "mark": self.mark.as_json() if self.mark else None,
                "walk": None
                if walk is None
                else {
                    "cursor": walk.cursor,
                    "top": walk.top.as_json() if walk.top else None,
                    "bad": walk.bad,
                },
            },
            separators=(",", ":"),
        )

    @classmethod
    def parse(cls, text: str | None) -> WalkState:
        """The state a stored cursor holds (`None`: a first sync); ConnectorError when the
        text is not a Bluesky connector's cursor."""
        if text is None:
            return cls()
        try:
            data = json.loads(text)
            mark = _mark(data["mark"])
            w = data["walk"]
            walk = None
            if w is not None:
                if not isinstance(w["cursor"], str) or not isinstance(w.get("bad", 0), int):
                    raise TypeError("walk")
                walk = Walk(w["cursor"], _mark(w["top"]), w.get("bad", 0))
        except (ValueError, TypeError, KeyError) as e:
            raise ConnectorError(
                f"the stored Bluesky cursor is not one this version wrote ({type(e).__name__}:"
                f" {str(e)[:80]}); disconnect and connect the account again"
            ) from None
        return cls(mark, walk)


def _mark(value: object) -> Mark | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TypeError("mark")
    at, uris = value["at"], value["uris"]
    if not isinstance(at, int) or not isinstance(uris, list):
        raise TypeError("mark")
    if not all(isinstance(u, str) for u in uris):
        raise TypeError("mark uris")
    return Mark(at, tuple(uris))


@dataclass(frozen=True, slots=True)
class Read:
    """One notification read: its item, and its place in the list when it has one."""

    item: SourceItem
    at: int | None = None
    uri: str | None = None


def read_notification(line: int, n: object, org: IdentityKey | None) -> Read:
    """One entry of a page's `notifications` as an item (line: its number on the page)."""
    if not isinstance(n, dict):
        return Read(BadRow(line, raw_text(n), "a notification that is not an object"))
    uri, reason = n.get("uri"), n.get("reason")
    if not isinstance(uri, str) or not uri.startswith("at://"):
        return Read(BadRow(line, raw_text(n), "a notification without an at:// `uri`"))
    if not isinstance(reason, str) or not reason:
        return Read(BadRow(line, raw_text(n), "a notification without a `reason`"))
    indexed = n.get("indexedAt")
    if not isinstance(indexed, str):
        return Read(BadRow(line, raw_text(n), "a notification without `indexedAt`"))
    try:
        at = parse_time(indexed)
    except ValueError as e:
        return Read(BadRow(line, raw_text(n), f"indexedAt: {e}"))
    verb = VERBS.get(reason)
    if verb is None:
        return Read(SkippedRow(line, f"{_shown(reason)} notifications are not activities"),
                    at, uri)  # fmt: skip
    author = n.get("author")
    person = did_identity(author.get("did")) if isinstance(author, dict) else None
    if person is None:
        return Read(BadRow(line, raw_text(n), "a notification whose author has no DID"), at, uri)
    assert isinstance(author, dict)
    if person == org:
        return Read(SkippedRow(line, SELF), at, uri)
    record = n.get("record")
    text = record.get("text") if isinstance(record, dict) and reason in WITH_TEXT else None
    subject = n.get("reasonSubject")
    row = ParsedRow(
        line,
        KEY_PREFIX + uri,
        at,
        person,
        verb,
        "in",
        CHANNEL,
        object=subject if isinstance(subject, str) and subject else uri,
        text=text if isinstance(text, str) and text else None,
        name=_name(author),
    )
    return Read(row, at, uri)


def _name(author: dict[str, Any]) -> str | None:
    for key in ("displayName", "handle"):
        value = author.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def did_identity(value: object) -> IdentityKey | None:
    """A DID as a Bluesky identity, or None."""
    if not isinstance(value, str) or not value.startswith("did:") or len(value) > 2_048:
        return None
    try:
        return normalize_identity("bluesky", value)
    except IdentityError:
        return None


def _shown(text: str) -> str:
    return text if len(text) <= 60 and text.isprintable() else repr(text[:60]) + "…"
