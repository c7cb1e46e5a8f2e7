"""The organization's part of an import batch (`import_batches.Batcher` calls these in the
batch's transaction):

- `OrgIdentityRow`: the identity joins the organization's before the rows of its batch and of
  every batch after; one a person has stops the import (`org identity add ID --take` moves it).
- a `ParsedRow` of an organization identity is the organization's: toward a `target` it is the
  organization's give to that person; a `peer` row toward an organization identity is the
  person's inbound activity; any other row of the organization itself is skipped.
- `OrgContentRow`: the organization's own content, stored once per `source_key`.
- `OptOutRow`: the person (created if new) opted out of the channel.
- `AudienceRow`: a person's follower count from a follower list: set for a person already in
  the network (their reach), left out for one not in it yet (counted apart).

Organization identities and audiences are not data rows (not counted among imported,
duplicates, skipped or quarantined: the report lists them); content and opt-outs count as
imported or duplicates.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection, select, text

from karmabank.actions.opt_outs import store_opt_outs
from karmabank.actions.organization import add_org_identity, org_identity_owner
from karmabank.bounds import MAX_FOLLOWERS, check_micros
from karmabank.errors import InputFileError
from karmabank.model import Direction, IdentityKey, check_channel
from karmabank.sources.base import (
    AudienceRow,
    BadRow,
    OptOutRow,
    OrgContentRow,
    OrgIdentityRow,
    ParsedRow,
    SkippedRow,
    SourceItem,
)
from karmabank.sources.input_file import printable
from karmabank.sources.limits import (
    MAX_NAME,
    MAX_OBJECT,
    MAX_RAW,
    MAX_SOURCE_KEY,
    MAX_TEXT,
    character_problem,
)
from karmabank.store.bulk import BulkWriter
from karmabank.store.erasures import SKIP_REASON
from karmabank.store.org_tables import OrgContent

ITSELF = "the organization itself"
IdentityAdder = Callable[[OrgIdentityRow], bool]


@dataclass
class OrgItems:
    """A batch's items about the organization and consent, in file order."""

    identities: list[OrgIdentityRow] = field(default_factory=list)
    content: list[OrgContentRow] = field(default_factory=list)
    opt_outs: list[OptOutRow] = field(default_factory=list)
    audiences: list[AudienceRow] = field(default_factory=list)


@dataclass(frozen=True)
class OrgStored:
    """What the organization's part of a batch stored: content and opt-outs new (`imported`)
    or already stored (`duplicates`), the identities added."""

    content: int = 0
    opt_outs: int = 0
    duplicates: int = 0
    identities: tuple[str, ...] = ()
    bad: tuple[BadRow, ...] = ()
    audiences: int = 0  # people in the network whose follower count was read
    audiences_outside: int = 0  # followers not in the network yet (left out)

    @property
    def imported(self) -> int:
        return self.content + self.opt_outs


def attributed(row: ParsedRow, org_keys: set[IdentityKey]) -> ParsedRow | None:
    """The row as the organization's when an organization identity is in it (None: a row of
    the organization itself, skipped); rows without one are returned as they are."""
    person_org = row.person in org_keys
    target = row.target
    if not person_org:
        if target is not None and target in org_keys and row.direction == Direction.PEER.value:
            return dataclasses.replace(row, direction=Direction.IN.value, target=None)
        return row
    if target is None or target in org_keys:
        return None
    return dataclasses.replace(
        row, person=target, direction=Direction.GIVE.value, target=None, name=None,
        followers=None, also=(),
    )  # fmt: skip


def refuse_owned(conn: Connection, display: str, item: OrgIdentityRow) -> None:
    """Stop the import (InputFileError) when a person has the identity the file says is the
    organization's: which of their activities came through it is not known, so nothing is
    guessed."""
    owner = org_identity_owner(conn, item.identity)
    if owner is not None:
        key = item.identity
        raise InputFileError(
            f"{display} line {item.line}: the file says {key} is the organization's, but it is "
            f"the identity of person id:{owner}: make it the organization's with `karmabank org "
            f"identity add {key} --take` (their activities so far stay theirs), then import again"
        )


def org_identity_adder(conn: Connection, display: str) -> IdentityAdder:
    """What `sort_items` calls for an identity the file says is the organization's: refused
    (the import stops) when a person has it, else added; whether it was new."""
    org_id: list[int] = []

    def add(item: OrgIdentityRow) -> bool:
        refuse_owned(conn, display, item)
        if not org_id:
            org_id.append(int(conn.scalar(text("SELECT min(id) FROM organization")) or 0))
        return add_org_identity(conn, org_id[0], item.identity)

    return add


def sort_items(
    batch: list[SourceItem], org_keys: set[IdentityKey], add_identity: IdentityAdder
) -> tuple[list[ParsedRow], list[BadRow], Counter[str], OrgItems]:
    """A batch's rows to store, its rows to quarantine, why the others were skipped, and its
    organization items. The organization identities a batch states are added first
    (`add_identity`, and to `org_keys`), so they hold for the whole batch and every one after
    (a row before one in its batch would otherwise make a person of the organization)."""
    rows: list[ParsedRow] = []
    bad: list[BadRow] = []
    skipped: Counter[str] = Counter()
    org = OrgItems()
    for item in batch:
        if type(item) is OrgIdentityRow and item.identity not in org_keys:
            if add_identity(item):
                org.identities.append(item)
            org_keys.add(item.identity)
    for item in batch:
        kind = type(item)
        if kind is ParsedRow:
            assert isinstance(item, ParsedRow)
            if org_keys and (item.person in org_keys or item.target in org_keys):
                found = attributed(item, org_keys)
                if found is None:
                    skipped[ITSELF] += 1
                    continue
                item = found
            rows.append(item)
        elif kind is BadRow:
            assert isinstance(item, BadRow)
            bad.append(item)
        elif kind is SkippedRow:
            assert isinstance(item, SkippedRow)
            skipped[item.reason] += 1
        elif kind is OrgIdentityRow:
            continue  # added above
        elif kind is OrgContentRow:
            assert isinstance(item, OrgContentRow)
            org.content.append(item)
        elif kind is AudienceRow:
            assert isinstance(item, AudienceRow)
            if item.person not in org_keys:
                org.audiences.append(item)
        else:
            assert isinstance(item, OptOutRow)
            if item.person in org_keys:
                skipped[ITSELF] += 1
            else:
                org.opt_outs.append(item)
    return rows, bad, skipped, org


def content_problem(c: OrgContentRow) -> str | None:
    """Why a piece of content cannot be stored (`karmabank.sources.limits`, `bounds`), or None."""
    check_micros(c.occurred_at, str(c.occurred_at), "occurred_at (microseconds)")
    for what, value, limit in (
        ("source_key", c.source_key, MAX_SOURCE_KEY), ("object", c.object, MAX_OBJECT),
        ("title", c.title, MAX_NAME * 4), ("text", c.text, MAX_TEXT),
    ):  # fmt: skip
        if value is None:
            continue
        reason = character_problem(value, "is not valid in the file's encoding")
        if reason is not None:
            return f"{what} {reason}"
        if len(value) > limit:
            return f"{what} is too long: {len(value):,} characters (at most {limit:,})"
    if not c.source_key or not c.object:
        return "content without a source_key or object"
    return None


def store_org_items(
    conn: Connection, writer: BulkWriter, org: OrgItems, *, run_id: int, now_us: int,
    skipped: Counter[str],
) -> OrgStored:  # fmt: skip
    """Store the batch's organization content and opt-outs (persons of opt-outs resolved or
    created; one of an erased person is counted in `skipped`)."""
    bad: list[BadRow] = []
    values = []
    for c in org.content:
        try:
            channel = check_channel(c.channel)
            problem = content_problem(c)
        except ValueError as e:
            problem = str(e)
        if problem is not None:
            bad.append(BadRow(c.line, printable(c.object, MAX_RAW), printable(problem, 1_000)))
            continue
        values.append({"key": c.source_key, "at": c.occurred_at, "channel": channel,
                       "object": c.object, "title": c.title, "text": c.text,
                       "run": run_id})  # fmt: skip
    content = _insert_content(conn, values)
    wanted: list[tuple[int, str]] = []
    if org.opt_outs:
        keys = {o.person for o in org.opt_outs}
        people = writer.lookup(keys)
        names = {o.person: o.name for o in org.opt_outs if o.name}
        created = writer.create_persons(sorted(keys - people.keys()), names, now_us)
        people.update((k, (pid, False)) for k, pid in created.items())
        for o in org.opt_outs:
            pid, erased = people[o.person]
            try:
                channel = check_channel(o.channel)
            except ValueError as e:
                bad.append(BadRow(o.line, printable(str(o.person), MAX_RAW), str(e)))
                continue
            if erased:
                skipped[SKIP_REASON] += 1
            else:
                wanted.append((pid, channel))
    opted = store_opt_outs(conn, wanted, now_us, f"import_run:{run_id}")
    audiences, outside = _store_audiences(writer, org.audiences)
    return OrgStored(
        content=content, opt_outs=opted,
        duplicates=len(values) - content + len(wanted) - opted,
        identities=tuple(str(i.identity) for i in org.identities), bad=tuple(bad),
        audiences=audiences, audiences_outside=outside,
    )  # fmt: skip


def _store_audiences(writer: BulkWriter, rows: list[AudienceRow]) -> tuple[int, int]:
    """Set the follower counts of the people already in the network (not of an erased one);
    (how many were set, how many followers are not in the network)."""
    if not rows:
        return 0, 0
    wanted = {r.person: r.followers for r in rows if 0 <= r.followers <= MAX_FOLLOWERS}
    people = writer.lookup(wanted)
    counts = {pid: wanted[k] for k, (pid, erased) in people.items() if not erased}
    writer.update_followers(counts)
    return len(counts), len(wanted.keys() - people.keys())


def _insert_content(conn: Connection, values: list[dict[str, object]]) -> int:
    """Insert the content rows not stored yet (by `source_key`, the first of a batch's
    repeats); how many were new."""
    keys = list(dict.fromkeys(str(v["key"]) for v in values))
    stored: set[str] = set()
    for start in range(0, len(keys), 1_000):
        chunk = keys[start : start + 1_000]
        stored.update(
            conn.scalars(select(OrgContent.source_key).where(OrgContent.source_key.in_(chunk)))
        )
    new: dict[str, dict[str, object]] = {}
    for v in values:
        key = str(v["key"])
        if key not in stored:
            new.setdefault(key, v)
    if new:
        conn.execute(
            text(
                "INSERT INTO org_content (source_key, occurred_at, channel, object, title, text,"
                " import_run_id) VALUES (:key, :at, :channel, :object, :title, :text, :run)"
            ),
            list(new.values()),
        )
    return len(new)
