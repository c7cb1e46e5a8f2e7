"""Names, handles and domains in the forms identity resolution compares (issue 15).

Pure functions, no I/O. Unlike `karmabank.names.name_key` (which keeps accents, since it looks
names up), these forms are for *matching* and fold everything a person varies between
accounts: Unicode compatibility forms and diacritics (NFKD, combining marks dropped; ł, ø, ß,
þ, æ spelled out), case, punctuation, initials' dots, and common nicknames (Bob -> robert,
Liz -> elizabeth, Pepe -> jose).
"""

from __future__ import annotations

import unicodedata

# nickname -> the given name it is short for (folded forms); one direction, so a given name
# is its own canonical form
NICKNAMES: dict[str, str] = {
    "bob": "robert", "bobby": "robert", "rob": "robert", "robbie": "robert", "bert": "robert",
    "liz": "elizabeth", "lizzie": "elizabeth", "beth": "elizabeth", "betty": "elizabeth",
    "eliza": "elizabeth", "pepe": "jose", "bill": "william", "billy": "william",
    "will": "william", "willy": "william", "liam": "william", "maggie": "margaret",
    "peggy": "margaret", "meg": "margaret", "kate": "katherine", "katie": "katherine",
    "kathy": "katherine", "catherine": "katherine", "jim": "james", "jimmy": "james",
    "jamie": "james", "alex": "alexander", "sasha": "alexander", "jen": "jennifer",
    "jenny": "jennifer", "mike": "michael", "mick": "michael", "rick": "richard",
    "dick": "richard", "rich": "richard", "paco": "francisco", "pancho": "francisco",
    "dan": "daniel", "danny": "daniel", "sue": "susan", "susie": "susan", "tom": "thomas",
    "tommy": "thomas", "pat": "patricia", "trish": "patricia", "patty": "patricia",
    "tony": "anthony", "chris": "christopher", "nick": "nicholas", "ted": "edward",
    "ed": "edward", "eddie": "edward", "joe": "joseph", "sam": "samuel", "ben": "benjamin",
    "nacho": "ignacio", "chema": "jose maria", "lupe": "guadalupe", "sandy": "alexandra",
}  # fmt: skip
SPELLED = {"ł": "l", "ø": "o", "ß": "ss", "þ": "th", "æ": "ae", "œ": "oe", "đ": "d", "ı": "i"}
_SPELLED = str.maketrans(SPELLED)
# email local parts that name a role, not a person: never compared
ROLE_MAILBOXES = frozenset({
    "info", "contact", "hello", "admin", "office", "mail", "team", "noreply", "no-reply",
    "support", "webmaster", "press", "jobs", "sales", "newsletter",
})  # fmt: skip
FREE_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "yahoo.com",
    "icloud.com", "me.com", "proton.me", "protonmail.com", "posteo.de", "gmx.de", "gmx.net",
    "web.de", "aol.com", "mail.com", "fastmail.com", "riseup.net", "orange.fr", "free.fr",
})  # fmt: skip
MIN_HANDLE = 4  # shorter handles and name forms (`bob`, `jo`) say nothing about a person


def fold(text: str) -> str:
    """Lower case, no diacritics, compatibility forms unfolded: `Zoë ŁUKASZ` -> `zoe lukasz`."""
    lowered = unicodedata.normalize("NFKD", text.casefold()).translate(_SPELLED)
    return "".join(c for c in lowered if not unicodedata.combining(c))


def name_words(name: str | None) -> list[str]:
    """The folded words of a name, punctuation gone (`O'Brien` -> `obrien`, `R.` -> `r`)."""
    if not name:
        return []
    words = []
    for raw in fold(name).replace("-", " ").replace(".", " ").split():
        w = "".join(c for c in raw if c.isalnum())
        if w:
            words.append(w)
    return words


def canonical_first(word: str) -> str:
    """A given name's canonical form: the name a nickname is short for, else itself."""
    return NICKNAMES.get(word, word)


class NameParts:
    """A display name in parts: first (canonical), last, the first letter, the whole."""

    __slots__ = ("first", "given", "last", "initial", "full", "raw")

    def __init__(self, name: str | None) -> None:
        words = name_words(name)
        self.raw = " ".join(words) or None  # folded, nickname kept
        self.given = words[0] if words else None  # as written (folded)
        self.first = canonical_first(words[0]) if words else None
        self.initial = words[0][0] if words else None
        self.last = "".join(words[1:]) if len(words) > 1 else None  # `van der berg` -> one
        if self.first and self.last and len(words[0]) > 1:
            self.full: str | None = f"{self.first} {self.last}"
        else:
            self.full = None  # an initial or the first name alone is not a full name


def name_forms(name: str | None) -> set[str]:
    """The handles a name is often turned into: `robsmith`, `robertsmith`, `rsmith`, `smithr`,
    `smithrobert` (nickname and canonical first name both), `robert` alone when long enough."""
    parts = NameParts(name)
    if parts.given is None:
        return set()
    firsts = {parts.given, parts.first or parts.given}
    if parts.last is None:
        return {f for f in firsts if len(f) >= MIN_HANDLE + 2}
    last = parts.last
    forms = set()
    for f in firsts:
        forms |= {f[0] + last, last + f[0]}
        if len(f) > 1:
            forms |= {f + last, last + f, f + last[0]}
    return {f for f in forms if len(f) >= MIN_HANDLE}


def handle_stem(handle: str) -> str | None:
    """A handle's letters and digits, folded (`Rob.Smith_` -> `robsmith`); None if too short."""
    stem = "".join(c for c in fold(handle) if c.isalnum())
    return stem if len(stem) >= MIN_HANDLE else None


def handle_root(stem: str) -> str | None:
    """A handle stem without its trailing digits (`fcastellanos2` -> `fcastellanos`), when what
    is left is long enough to say something (`bob42` says nothing)."""
    root = stem.rstrip("0123456789")
    return root if len(root) >= MIN_HANDLE * 2 else None


def identity_handles(platform: str, key: str) -> list[str]:
    """The person-chosen handles in one normalized identity (its stems)."""
    if platform == "email":
        local = key.split("@", 1)[0].split("+", 1)[0]
        return [] if local in ROLE_MAILBOXES else _stems(local)
    if platform == "mastodon":
        return _stems(key.lstrip("@").split("@", 1)[0])
    if platform == "bluesky":  # a handle that is a domain is compared as a domain
        if key.startswith("did:") or not key.endswith(".bsky.social"):
            return []
        return _stems(key.removesuffix(".bsky.social"))
    if platform in ("github", "x", "linkedin"):
        return _stems(key)
    return []


def _stems(handle: str) -> list[str]:
    stem = handle_stem(handle)
    return [stem] if stem else []


def identity_domains(platform: str, key: str) -> list[str]:
    """Web domains an identity proves: a website's host, a Bluesky handle that is a domain, an
    email's domain when it is not a free mail provider's."""
    host: str | None = None
    if platform == "web":
        host = key.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    elif platform == "bluesky" and not key.startswith("did:"):
        host = None if key.endswith(".bsky.social") else key
    elif platform == "email":
        domain = key.rsplit("@", 1)[-1]
        host = None if domain in FREE_MAIL_DOMAINS else domain
    if not host:
        return []
    return [host.removeprefix("www.")]
