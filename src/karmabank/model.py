"""The product's vocabulary as plain values: directions, platforms, verbs, identities.

Nothing here does I/O. See PRODUCT.md §2 for the words.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import NamedTuple


class Direction(StrEnum):
    """Which way an activity goes, seen from the organization."""

    IN = "in"  # person -> organization
    GIVE = "give"  # organization -> person, no ask attached
    ASK = "ask"  # organization -> person, a request to act
    PEER = "peer"  # person -> person


class Platform(StrEnum):
    EMAIL = "email"
    WEB = "web"
    MASTODON = "mastodon"
    BLUESKY = "bluesky"
    X = "x"
    LINKEDIN = "linkedin"
    GITHUB = "github"
    PHONE = "phone"
    EVENT = "event"
    OTHER = "other"


class Flag(StrEnum):
    """Flags a person of the network can carry; set by people, never by imports."""

    TEAM = "team"
    BOT = "bot"
    DO_NOT_CONTACT = "do_not_contact"


# ActivityStreams 2.0 types mapped onto the product's verbs (PRODUCT.md §2).
AS2_VERBS: dict[str, str] = {
    "create": "comment",
    "note": "comment",
    "like": "like",
    "announce": "share",
    "follow": "follow",
    "join": "attend",
    "invite": "invite",
    "offer": "offer",
    "accept": "accept",
    "add": "add",
}

# Verbs the product names itself; any other verb is kept (lower-cased) as given.
PRODUCT_VERBS: frozenset[str] = frozenset(
    {
        "like", "follow", "mention", "share", "comment", "reply", "register", "attend",
        "sign", "donate", "volunteer", "organize", "answer", "interact",
        "thank", "feature", "introduce", "help", "gift", "welcome", "ask",
    }
)  # fmt: skip


def normalize_verb(verb: str) -> str:
    """Lower-case a verb and map ActivityStreams names onto product aliases."""
    v = verb.strip().lower()
    return AS2_VERBS.get(v, v)


class IdentityKey(NamedTuple):
    """A normalized `(platform, key)`: how one person is known on one platform.

    A tuple, so that hashing and sorting millions of them during an import runs in C.
    """

    platform: str
    key: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.key}"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_micros(dt: datetime) -> int:
    """UTC microseconds since the epoch; a naive datetime is taken as UTC."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    delta = dt - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(us: int) -> datetime:
    """The aware UTC datetime of microseconds since the epoch."""
    return _EPOCH + timedelta(microseconds=us)
