"""What every importer shares: the rows it yields, the input file it reads, row keys.

`InputFile` (the file, decoded, line by line) lives in `karmabank.sources.input_file`;
the rules every yielded row obeys (lengths, NUL, undecodable bytes) in
`karmabank.sources.limits`.

An importer (a *source*) turns one input file into a stream of `ParsedRow` (an activity
ready to store), `BadRow` (quarantined with file, line, raw text and reason) and
`SkippedRow` (read, understood, and deliberately not stored, with the reason).
Importers do no database work: `karmabank.actions.importing` stores what they yield.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import ClassVar, Protocol

from karmabank.bounds import (
    EARLIEST_US,
    LATEST_US,
    MAX_FOLLOWERS,
    MAX_WEIGHT,
    check_micros,
    check_weight,
    parse_count,
    shown,
)
from karmabank.model import IdentityKey, to_micros
from karmabank.sources.input_file import InputFile as InputFile  # re-exported


@dataclass(slots=True)
class ParsedRow:
    """One activity read from a file, normalized, not yet tied to database ids."""

    line: int
    source_key: str
    occurred_at: int  # UTC microseconds since the epoch
    person: IdentityKey
    verb: str
    direction: str
    channel: str
    object: str | None = None
    text: str | None = None
    target: IdentityKey | None = None
    weight: float | None = None
    name: str | None = None
    followers: int | None = None  # the person's audience on that platform, if the source says
    # Other identities of the same person, as the source itself states them (a profile's
    # links, a comment's email and website: the CSV column `also`). Unowned ones are given to
    # `person`; one owned by a different person yields a merge suggestion with this row as its
    # evidence, never a silent join (`actions/import_batches.py`).
    also: tuple[IdentityKey, ...] = ()


@dataclass(slots=True, frozen=True)
class BadRow:
    """A row that cannot be imported; it is quarantined and reported with file and line."""

    line: int
    raw: str
    reason: str


@dataclass(slots=True, frozen=True)
class SkippedRow:
    """A row understood and deliberately not stored (e.g. a self-loop)."""

    line: int
    reason: str


@dataclass(slots=True, frozen=True)
class OrgIdentityRow:
    """The file says who the organization is (an archive's owner, a site's author): this
    identity is added to the organization's identities before the rows after it are stored."""

    line: int
    identity: IdentityKey


@dataclass(slots=True, frozen=True)
class OrgContentRow:
    """A piece of the organization's own content (a post, a page, a status): not a supporter's
    activity, kept so "their shares of our content" and affinity can use it. `object` is its
    URL (or id), `source_key` the platform's own id, as for activities."""

    line: int
    source_key: str
    occurred_at: int  # UTC microseconds since the epoch
    channel: str
    object: str
    title: str | None = None
    text: str | None = None


@dataclass(slots=True, frozen=True)
class OptOutRow:
    """The file says this person opted out of being contacted on `channel` (a Mailchimp
    unsubscribed or cleaned file: the email channel): stored as a per-channel opt-out
    (`karmabank optout`), creating the person if needed; not an activity."""

    line: int
    person: IdentityKey
    channel: str
    name: str | None = None


@dataclass(slots=True, frozen=True)
class AudienceRow:
    """The platform says how many followers this person has, with no activity (a connector's
    reading of the organization's follower list): a person already in the network gets it as
    their audience (reach); one not in it yet is left out, since a list without times cannot
    say when they came. Not a data row: not counted among imported, duplicates or skipped."""

    line: int
    person: IdentityKey
    followers: int


SourceItem = (
    ParsedRow | BadRow | SkippedRow | OrgIdentityRow | OrgContentRow | OptOutRow | AudienceRow
)


class Source(Protocol):
    """The interface every importer implements (built-ins and third-party alike).

    Register a source under the entry-point group `karmabank.sources`:
    `[project.entry-points."karmabank.sources"] myformat = "mypkg.module:MySource"`.
    The class is constructed with the options the user gave (`--org 88` -> {"org": "88"})
    and must raise `karmabank.errors.ConfigError` for options it does not understand.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    option_names: ClassVar[frozenset[str]]

    def read(self, file: InputFile) -> Iterator[SourceItem]:
        """Yield one item per data row of the file, in order."""
        ...

    def organization_identities(self) -> list[IdentityKey]:
        """Identities that are the organization itself (e.g. `--org 88` of an edge list)."""
        ...


class KnowsOrganization(Protocol):
    """Optional: a source whose rows' direction depends on who the organization is (an
    ActivityStreams collection) also defines `use_organization`, called with the organization's
    identities before `read`."""

    def use_organization(self, identities: frozenset[IdentityKey]) -> None: ...


class StoredWhole(Protocol):
    """Optional: a source whose files are checked as they are read (an XML or JSON document
    is well-formed only at its end) sets `stored_whole = True`, and `import_files` stores
    each of its files in one transaction: a file found broken part-way leaves nothing stored,
    with no pass over the file before its rows."""

    stored_whole: ClassVar[bool]


class ReadsFolders(Protocol):
    """Optional: a source that takes a folder on the command line (a Mastodon archive's)
    defines `input_path`, which names the file to open for each path given (a folder's
    `outbox.json`); `import_files` opens that file instead."""

    def input_path(self, path: Path) -> Path: ...


def digest(*parts: str) -> str:
    """A short, stable digest of a normalized row (64 bits, hex; keys also carry the time).
    Undecodable bytes (lone surrogates) are digested too: the row is quarantined for them."""
    joined = "\x1f".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(joined, digest_size=8).hexdigest()


class RowKeys:
    """Stable `source_key`s for rows that carry none: a digest of the normalized row.

    Two identical rows in one file are two activities (an edge list lists one message per
    line), so the n-th repeat of a row within the last `window` distinct rows gets `#n`
    appended. Memory is bounded by `window`, and the same file always yields the same keys,
    so a re-run finds every row already stored.
    """

    def __init__(self, prefix: str, window: int = 100_000) -> None:
        self.prefix = prefix
        self.window = window
        self._seen: OrderedDict[str, int] = OrderedDict()

    def key(self, at: int, *parts: str) -> str:
        """The key of a row at time `at` (microseconds) with these normalized parts.

        Keys start with the time in hex, so a file in time order appends to the end of the
        unique index instead of writing all over it (imports run several times faster).
        """
        d = digest(str(at), *parts)
        seen = self._seen
        n = seen.get(d)
        if n is None:
            seen[d] = 0
            if len(seen) > self.window:
                seen.popitem(last=False)
            return f"{self.prefix}:{at:x}:{d}"
        seen[d] = n + 1
        seen.move_to_end(d)
        return f"{self.prefix}:{at:x}:{d}#{n + 1}"


def parse_time(text: str) -> int:
    """ISO-8601 (a naive time is UTC) or unix seconds -> UTC microseconds, within the
    supported range (`karmabank.bounds`).

    Raises ValueError with a readable message.
    """
    t = text.strip()
    if not t:
        raise ValueError("empty time")
    if t.isascii() and t.isdigit():
        # int() of a huge string is slow: anything longer is past the range anyway
        return check_micros(int(t) * 1_000_000 if len(t) <= 20 else LATEST_US, t)
    if t[4:5] == "-" and t[7:8] == "-":  # looks like ISO-8601 (YYYY-MM-...): tried first
        try:
            dt = datetime.fromisoformat(t)
        except ValueError:
            pass  # some other form (`1.0e-5` has a `-` there too)
        else:
            return check_micros(to_micros(dt), t)
    try:
        seconds = float(t)
    except ValueError:
        pass
    else:
        us = round(seconds * 1_000_000) if math.isfinite(seconds) else LATEST_US
        return check_micros(us, t)
    try:
        dt = datetime.fromisoformat(t)
    except ValueError:
        raise ValueError(f"unparseable time {shown(t)} (use ISO-8601 or unix seconds)") from None
    return check_micros(to_micros(dt), t)


def out_of_bounds(row: ParsedRow) -> str | None:
    """Why a row some source yielded is outside `karmabank.bounds` (its time, weight or
    followers), or None. The built-in sources never yield such a row (they parse with
    `parse_time`, `parse_weight`, `parse_count`); this holds third-party sources to the same
    rule before anything is stored."""
    at, weight, followers = row.occurred_at, row.weight, row.followers
    if (
        EARLIEST_US <= at < LATEST_US
        and (weight is None or (math.isfinite(weight) and abs(weight) <= MAX_WEIGHT))
        and (followers is None or 0 <= followers <= MAX_FOLLOWERS)
    ):
        return None
    try:
        check_micros(at, str(at), "occurred_at (microseconds)")
        if weight is not None:
            check_weight(weight, repr(weight))
        if followers is not None:
            parse_count(str(followers), "followers")
    except ValueError as e:
        return str(e)
    return None


def parse_mapping(text: str, what: str) -> dict[str, str]:
    """`a=b,c=d` -> {"a": "b", "c": "d"}; raises ValueError naming `what`."""
    out: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        k, sep, v = item.partition("=")
        if not sep or not k.strip() or not v.strip():
            raise ValueError(f"{what}: expected name=value pairs separated by commas, got {item!r}")
        out[k.strip()] = v.strip()
    return out


def check_options(source: str, given: Mapping[str, str], allowed: frozenset[str]) -> None:
    from karmabank.errors import ConfigError

    extra = sorted(set(given) - allowed)
    if extra:
        opts = ", ".join("--" + o.replace("_", "-") for o in extra)
        raise ConfigError(f"the {source} format does not take {opts}")
