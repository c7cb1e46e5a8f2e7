"""The product's vocabulary as plain values: directions, platforms, verbs, circles, ladder
stages, rhythm statuses, identities.

The words are `StrEnum`s: a member is its string (stored, compared, hashed, formatted and written
to JSON as the string), so code below and above names them once, here.

Nothing here does I/O. See PRODUCT.md §2 for the words.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from karmabank.errors import StoredTimeOutOfRange


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


_PLATFORMS = frozenset(p.value for p in Platform)


class Flag(StrEnum):
    """Flags a person of the network can carry; set by people, never by imports."""

    TEAM = "team"
    BOT = "bot"
    DO_NOT_CONTACT = "do_not_contact"


class Verb(StrEnum):
    """Verbs the product names itself (the nurture queue's gives and a campaign's "acted"
    included), and those ActivityStreams types map onto (`AS2_VERBS`)."""

    LIKE = "like"
    FOLLOW = "follow"
    MENTION = "mention"
    SHARE = "share"
    COMMENT = "comment"
    REPLY = "reply"
    REGISTER = "register"
    ATTEND = "attend"
    SIGN = "sign"
    DONATE = "donate"
    VOLUNTEER = "volunteer"
    ORGANIZE = "organize"
    ANSWER = "answer"
    INTERACT = "interact"
    THANK = "thank"
    FEATURE = "feature"
    INTRODUCE = "introduce"
    HELP = "help"
    GIFT = "gift"
    WELCOME = "welcome"
    ASK = "ask"
    CHECK_IN = "check_in"
    CELEBRATE = "celebrate"
    ACT = "act"
    INVITE = "invite"
    OFFER = "offer"
    ACCEPT = "accept"
    ADD = "add"
    READ = "read"  # opened an email (a weak inbound signal: Mailchimp's opens)
    CLICK = "click"  # followed a link in an email (Mailchimp's clicks)


# ActivityStreams 2.0 types mapped onto the product's verbs (PRODUCT.md §2).
AS2_VERBS: dict[str, Verb] = {
    "create": Verb.COMMENT,
    "note": Verb.COMMENT,
    "like": Verb.LIKE,
    "announce": Verb.SHARE,
    "follow": Verb.FOLLOW,
    "join": Verb.ATTEND,
    "invite": Verb.INVITE,
    "offer": Verb.OFFER,
    "accept": Verb.ACCEPT,
    "add": Verb.ADD,
}
# Every verb an activity may carry once normalized, besides custom verbs (`CUSTOM_VERB`).
VERBS: frozenset[str] = frozenset(Verb)
# A custom verb: `x-` and 1 to 30 lower-case letters, digits, `_` or `-` (32 at most in all, what
# the API takes). Anything else is refused: a typo is not silently a new verb.
CUSTOM_VERB = re.compile(r"x-[a-z0-9][a-z0-9_-]{0,29}")
# A channel: a platform, or a name of 1 to 32 lower-case letters, digits, `.`, `_` or `-` that
# starts with a letter or digit (`blog`, `forum`, `donations`, `newsletter-2026`).
CHANNEL = re.compile(r"[a-z0-9][a-z0-9._-]{0,31}")


def normalize_verb(verb: str) -> str:
    """Lower-case a verb and map ActivityStreams names onto product aliases."""
    v = verb.strip().lower()
    return AS2_VERBS.get(v, v)


def check_verb(verb: str) -> str:
    """The verb normalized (`normalize_verb`) if it is one of `VERBS` or a custom verb
    (`CUSTOM_VERB`); else ValueError with a one-line reason."""
    v = normalize_verb(verb)
    if v in VERBS or CUSTOM_VERB.fullmatch(v):
        return v
    if not v:
        raise ValueError("missing verb")
    slug = re.sub(r"[^a-z0-9_-]+", "_", v).strip("_-")[:30]
    hint = f", e.g. x-{slug}" if slug and not v.startswith("x-") else ""
    raise ValueError(
        f"unknown verb {_quoted(verb)} (a custom verb is x- and up to 30 lower-case letters, "
        f"digits, _ or -{hint})"
    )


def check_channel(channel: str) -> str:
    """The channel lower-cased if it is a platform or a name `CHANNEL` allows; else
    ValueError with a one-line reason."""
    c = channel.strip().lower()
    if c in _PLATFORMS or CHANNEL.fullmatch(c):
        return c
    if not c:
        raise ValueError("empty channel")
    raise ValueError(
        f"channel {_quoted(channel)} is not a channel name (a platform, or up to 32 lower-case "
        "letters, digits, ., _ or -)"
    )


def _quoted(text: str, limit: int = 40) -> str:
    """`repr` of the text's first `limit` characters (a reason never grows with the input)."""
    return repr(text[:limit]) + ("…" if len(text) > limit else "")


class Circle(StrEnum):
    """Circles of the network, closest first (PRODUCT.md §3): the ranked ones are cut by warmth
    rank (`RANKED_CIRCLES`); newcomers and observers override the rank."""

    CORE = "core"
    ALLIES = "allies"
    FRIENDS = "friends"
    ACQUAINTANCES = "acquaintances"
    NEWCOMERS = "newcomers"
    OBSERVERS = "observers"


RANKED_CIRCLES: tuple[Circle, ...] = (
    Circle.CORE, Circle.ALLIES, Circle.FRIENDS, Circle.ACQUAINTANCES
)  # fmt: skip


class Stage(StrEnum):
    """Ladder stages, from awareness to action (lowest first)."""

    AWARE = "aware"
    ENGAGED = "engaged"
    PARTICIPANT = "participant"
    ADVOCATE = "advocate"
    LEADER = "leader"


class RhythmStatus(StrEnum):
    """Where a person is in their own rhythm, from the most present."""

    ACTIVE = "active"
    RESTING = "resting"
    DRIFTING = "drifting"
    QUIET = "quiet"
    DORMANT = "dormant"


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
    try:
        return _EPOCH + timedelta(microseconds=us)
    except OverflowError:
        raise StoredTimeOutOfRange(
            f"the database holds a time no calendar can show ({us} µs since 1970), imported "
            "before karmabank checked times: import the data again into a new database "
            "(rows out of range are quarantined now)"
        ) from None
