"""ActivityStreams 2.0, shared by the `activitystreams` and `mastodon-archive` importers.

- **Accounts from URIs** (`uri_account`): an actor's or a status's author is `@user@host` when
  the URI's path shows it (`/users/NAME`, `/users/NAME/statuses/ID`, `/@NAME`, `/@NAME/ID`,
  `/@NAME@HOST/ID`); a URI that does not is never guessed at (the row is skipped, with the reason).
- **Direction** (`Interpreter`): each activity's actor and counterpart (the object's author, the
  followed account, the replied-to or mentioned account) are compared with the organization's
  identities: the organization acting toward someone is a `give` to them, someone acting toward
  the organization is `in` from them, anyone else toward anyone else is `peer`, and the
  organization toward itself (a reply in its own thread, a boost of its own status) is nothing.
- **Content**: the organization's own public and unlisted statuses are its content
  (`OrgContentRow`), replies included; followers-only and direct ones are not.
- **Direct messages** are skipped unless `include_direct`; then their recipients are `mention`
  gives (a public post's mentioned accounts are `feature` gives) and a reply is still a `reply`.
- **Keys**: `as2:` + the activity's id (a global URI), the same for both importers, so an
  outbox read by either imports nothing twice; a status's content is keyed by the status's id.
"""

from __future__ import annotations

import functools
import html
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from karmabank.errors import ConfigError, IdentityError
from karmabank.identities import normalize_identity, normalize_url
from karmabank.model import IdentityKey
from karmabank.sources.base import (
    BadRow,
    OrgContentRow,
    ParsedRow,
    SkippedRow,
    SourceItem,
    digest,
    parse_time,
)

PUBLIC = frozenset({"https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"})
KEY_PREFIX = "as2"
MAX_ID = 400  # longer ids are digested so that keys stay within the limit
MAX_TEXT = 10_000  # characters of a status's text kept
MAX_RAW = 2_000  # characters of an activity's JSON kept with a quarantined row
_NAME = r"[A-Za-z0-9_.\-]+"
_USERS = re.compile(rf"^/users/({_NAME})(?:/statuses/[^/?#]+)?/?$")
_AT = re.compile(rf"^/@({_NAME})(?:@({_NAME}))?(?:/[^/?#]+)?/?$")
_TAGS = re.compile(r"<[^>]*>")
_BREAKS = re.compile(r"<br\s*/?>|</p>\s*<p[^>]*>", re.IGNORECASE)
ACTOR_OBJECT_TYPES = frozenset({"Follow", "Invite", "Block"})  # their object is an account
VERBS_OF_TYPES = {
    "Like": "like", "Announce": "share", "Follow": "follow", "Join": "attend",
    "Invite": "invite", "Offer": "offer", "Accept": "accept", "Add": "add",
}  # fmt: skip
CREATE = "Create"
NO_AUTHOR = "its status URI does not show the author (not a Mastodon-style path): not guessed"


def uri_account(uri: object) -> IdentityKey | None:
    """`@user@host` from an actor or status URI whose path shows the account, else None."""
    if not isinstance(uri, str) or not uri.startswith(("https://", "http://")):
        return None
    return _uri_account(uri)


@functools.lru_cache(maxsize=65_536)  # an outbox names the same few accounts again and again
def _uri_account(uri: str) -> IdentityKey | None:
    try:
        parts = urlsplit(uri)
        host = parts.hostname
    except ValueError:
        return None
    if not host:
        return None
    m = _USERS.match(parts.path)
    if m:
        name = m.group(1)
    else:
        m = _AT.match(parts.path)
        if not m:
            return None
        name, host = m.group(1), m.group(2) or host
    try:
        return normalize_identity("mastodon", f"@{name}@{host}")
    except IdentityError:
        return None


def actor_identity(actor: object) -> IdentityKey | None:
    """The identity of an actor (a URI or an object with `id`): `@user@host` when its URI
    shows the account, else the URI itself as a `web` identity; None without a usable id."""
    uri = ref(actor)
    if uri is None:
        return None
    account = uri_account(uri)
    if account is not None:
        return account
    try:
        return IdentityKey("web", normalize_url(uri)) if "://" in uri else None
    except IdentityError:
        return None


def ref(value: object) -> str | None:
    """The URI a property gives: the string itself, an object's `id`, a list's first."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("id") or value.get("href")
    return value if isinstance(value, str) and value else None


def addresses(*objects: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The `to` and `cc` addresses of the first of `objects` that has any."""
    for obj in objects:
        to, cc = _strings(obj.get("to")), _strings(obj.get("cc"))
        if to or cc:
            return to, cc
    return set(), set()


def visibility(*objects: dict[str, Any]) -> str:
    """`public`, `unlisted` (public in cc), `followers` or `direct`, from `to`/`cc`."""
    to, cc = addresses(*objects)
    if to & PUBLIC:
        return "public"
    if cc & PUBLIC:
        return "unlisted"
    if any(a.endswith("/followers") for a in to | cc):
        return "followers"
    return "direct"


def _strings(value: object) -> set[str]:
    items = value if isinstance(value, list) else [value]
    out = {v for v in items if type(v) is str and v}
    if len(out) < len(items):
        out.update(s for s in (ref(v) for v in items if type(v) is not str) if s)
    return out


def plain_text(markup: object) -> str | None:
    """A status's HTML as plain text (tags dropped, entities decoded), cut to MAX_TEXT."""
    if not isinstance(markup, str) or not markup:
        return None
    text = html.unescape(_TAGS.sub("", _BREAKS.sub("\n", markup))).strip()
    return text[:MAX_TEXT] or None


def raw_text(item: object) -> str:
    """An item as compact JSON, cut (the raw text of a quarantined row)."""
    try:
        text = json.dumps(item, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        text = repr(item)
    return text[:MAX_RAW]


def activity_key(uri: str, suffix: str = "") -> str:
    """The source key of an activity (or a status) with this id."""
    if len(uri) > MAX_ID:
        uri = "~" + digest(uri)
    return f"{KEY_PREFIX}:{uri}{suffix}"


def _type(value: object) -> str | None:
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str)), None)
    if isinstance(value, str):
        return value.rpartition(":")[2] if value.startswith("as:") else value
    return None


@dataclass
class Interpreter:
    """Turns activities into rows (see the module docstring) for an organization."""

    org: frozenset[IdentityKey]
    include_direct: bool = False
    _actor_name: str | None = field(default=None, init=False, repr=False)  # of this activity

    def activity(self, line: int, item: object) -> Iterator[SourceItem]:
        """The rows of one item of a collection."""
        if isinstance(item, str):
            yield SkippedRow(line, "an activity given only by its URI (its content is elsewhere)")
            return
        if not isinstance(item, dict):
            yield BadRow(line, raw_text(item), "an item that is not an ActivityStreams object")
            return
        kind = _type(item.get("type"))
        uri = ref(item.get("id"))
        if kind is None or uri is None:
            what = "a type" if kind is None else "an id"
            yield BadRow(line, raw_text(item), f"an activity without {what}")
            return
        actor = actor_identity(item.get("actor"))
        named = item.get("actor")
        named = named.get("name") if isinstance(named, dict) else None
        self._actor_name = named.strip()[:200] or None if isinstance(named, str) else None
        obj = item.get("object")
        if actor is None:
            yield BadRow(line, raw_text(item), "an activity without an actor URI")
            return
        published = item.get("published")
        if not isinstance(published, str) and isinstance(obj, dict):
            published = obj.get("published")
        if not isinstance(published, str):
            yield BadRow(line, raw_text(item), "no `published` time: karmabank needs when")
            return
        try:
            at = parse_time(published)
        except ValueError as e:
            yield BadRow(line, raw_text(item), f"published: {e}")
            return
        if kind == CREATE:
            yield from self._create(line, uri, at, actor, item, obj)
        elif kind in VERBS_OF_TYPES:
            yield from self._toward(line, uri, at, actor, kind, item, obj)
        else:
            yield SkippedRow(line, f"{_shown(kind)} activities are not imported")

    def _toward(
        self, line: int, uri: str, at: int, actor: IdentityKey, kind: str,
        item: dict[str, Any], obj: object,
    ) -> Iterator[SourceItem]:  # fmt: skip
        """An activity on one object: a like, a boost, a follow, ..."""
        if kind in ACTOR_OBJECT_TYPES:
            other = actor_identity(obj)
        elif isinstance(obj, dict) and ref(obj.get("attributedTo")):
            other = actor_identity(obj.get("attributedTo"))
        elif isinstance(obj, dict) and ref(obj.get("actor")):  # an activity: Accept of a Follow
            other = actor_identity(obj.get("actor"))
        else:
            other = uri_account(ref(obj))
        target = ref(obj)
        if other is None:
            yield SkippedRow(line, f"{kind}: {NO_AUTHOR}" if target else f"{kind} of nothing")
            return
        if kind != "Follow" and visibility(item) == "direct" and not self.include_direct:
            if item.get("to") or item.get("cc"):
                yield SkippedRow(line, "a direct message (imported with --include-direct)")
                return
        row = self._row(line, activity_key(uri), at, actor, other, VERBS_OF_TYPES[kind], target)
        yield row if row is not None else SkippedRow(line, "the organization toward itself")

    def _create(
        self, line: int, uri: str, at: int, actor: IdentityKey, item: dict[str, Any],
        obj: object,
    ) -> Iterator[SourceItem]:  # fmt: skip
        """A post: a reply to its author, mentions of the accounts it tags, the content."""
        if not isinstance(obj, dict):
            yield SkippedRow(line, "a Create whose object is only a URI (its content is elsewhere)")
            return
        seen = visibility(obj, item)
        if seen == "direct" and not self.include_direct:
            yield SkippedRow(line, "a direct message (imported with --include-direct)")
            return
        status = ref(obj.get("id")) or uri
        url = ref(obj.get("url")) or status
        text = plain_text(obj.get("content"))
        rows: list[SourceItem] = []
        replied = ref(obj.get("inReplyTo"))
        replied_to = uri_account(replied) if replied else None
        if replied and replied_to is None:
            rows.append(SkippedRow(line, f"a reply: {NO_AUTHOR}"))
        elif replied_to is not None:
            row = self._row(line, activity_key(uri, "#reply"), at, actor, replied_to, "reply",
                            replied, text)  # fmt: skip
            rows.extend([row] if row is not None else [])
        mention = "mention" if seen == "direct" else "feature"
        for account in self._mentions(obj.get("tag"), {actor, replied_to}):
            suffix = f"#mention:{account.key}"
            verb = mention if actor in self.org else "mention"
            row = self._row(line, activity_key(uri, suffix), at, actor, account, verb, url, text)
            rows.extend([row] if row is not None else [])
        if actor in self.org and seen in ("public", "unlisted"):
            title = obj.get("name") or obj.get("summary")
            rows.append(OrgContentRow(
                line, activity_key(status), at, actor.platform, url,
                title[:500] if isinstance(title, str) and title else None, text,
            ))  # fmt: skip
        if not rows:
            if actor not in self.org:
                why = "a post by someone else that replies to or mentions no one"
            elif seen == "direct":
                why = "a direct message that replies to or mentions no one else"
            else:
                why = f"a {seen}-only post (not public content) that replies to or mentions no one"
            rows.append(SkippedRow(line, why))
        yield from rows

    def _mentions(self, tags: object, besides: set[IdentityKey | None]) -> list[IdentityKey]:
        """The accounts a post's `Mention` tags name (by `href`, else a full `@user@host`)."""
        out: list[IdentityKey] = []
        for tag in tags if isinstance(tags, list) else [tags]:
            if not isinstance(tag, dict) or _type(tag.get("type")) != "Mention":
                continue
            account = uri_account(ref(tag.get("href")))
            name = tag.get("name")
            if account is None and isinstance(name, str) and name.count("@") == 2:
                try:
                    account = normalize_identity("mastodon", name)
                except IdentityError:
                    account = None
            if account is None and isinstance(tag.get("href"), str):
                account = actor_identity(tag.get("href"))
            if account is not None and account not in besides and account not in out:
                out.append(account)
        return out

    def _row(
        self, line: int, key: str, at: int, actor: IdentityKey, other: IdentityKey, verb: str,
        obj: str | None, text: str | None = None,
    ) -> ParsedRow | None:  # fmt: skip
        """The activity of `actor` toward `other` in the direction the organization decides;
        None when both are the organization."""
        ours, theirs = actor in self.org, other in self.org
        channel = other.platform if ours else actor.platform
        if ours and theirs:
            return None
        if ours:
            return ParsedRow(line, key, at, other, verb, "give", channel, obj, text)
        if theirs:
            verb = "mention" if verb == "feature" else verb
            return ParsedRow(line, key, at, actor, verb, "in", channel, obj, text,
                             name=self._actor_name)  # fmt: skip
        return ParsedRow(line, key, at, actor, verb, "peer", channel, obj, text, target=other,
                         name=self._actor_name)  # fmt: skip


def _shown(kind: str) -> str:
    return kind if len(kind) <= 40 and kind.isprintable() else repr(kind[:40]) + "…"


def flag(options: Mapping[str, str], name: str) -> bool:
    """A yes/no option (`--include-direct` -> "true")."""
    value = options.get(name, "false").strip().lower()
    if value not in ("true", "false", "1", "0", "yes", "no"):
        raise ConfigError(f"--{name.replace('_', '-')}: expected true or false, not {value!r}")
    return value in ("true", "1", "yes")
