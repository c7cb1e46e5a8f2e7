"""One batch of an import, stored in one transaction: its people resolved or created set-wise,
its activities inserted (duplicates found by `source_key`), names and follower counts updated,
bad rows quarantined and the run's counters moved, together; the counts an import reports are
added up (`Tally`) only once a batch is sure to commit."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import Connection, text

from karmabank.actions.import_org import org_identity_adder, sort_items, store_org_items
from karmabank.actions.source_links import Owner, StatedLink, plan_owners, store_links
from karmabank.model import IdentityKey
from karmabank.names import name_key
from karmabank.sources.base import (
    AudienceRow,
    BadRow,
    InputFile,
    OrgIdentityRow,
    ParsedRow,
    Source,
    SourceItem,
    out_of_bounds,
)
from karmabank.sources.limits import read_items
from karmabank.sources.vocabulary import RowVocabulary, row_text
from karmabank.store.batch_gate import batch_shared
from karmabank.store.bulk import ActivityTuple, BulkWriter
from karmabank.store.erasures import SKIP_REASON, erased_mentions
from karmabank.store.open import Store

MAX_REPORTED_ERRORS = 100
IDENTITY_CACHE_LIMIT = 500_000
NOT_ROWS = (OrgIdentityRow, AudienceRow)  # items a batch holds that are not data rows (import_org)


@dataclass(frozen=True)
class RowError:
    file: str
    line: int
    reason: str


@dataclass
class Tally:
    """The counts of a running import, added to as its batches commit."""

    imported: int = 0
    duplicates: int = 0
    skipped: int = 0
    quarantined: int = 0
    errors: list[RowError] = field(default_factory=list)  # the first quarantined rows
    skip_reasons: Counter[str] = field(default_factory=Counter)
    damaged: list[RowError] = field(default_factory=list)  # files that broke off part-way
    # the organization's part (import_org): content and opt-outs stored (among `imported`),
    # identities added
    org_content: int = 0
    opt_outs: int = 0
    org_identities: list[str] = field(default_factory=list)
    # follower counts read from a follower list (not data rows): set for people in the
    # network, and how many followers were not in it
    audiences: int = 0
    audiences_outside: int = 0


Batch = list[SourceItem]


def batches(source: Source, file: InputFile, size: int) -> Iterator[Batch]:
    """The file's rows in batches of `size`, each row's verb, channel and bounds checked (a row
    out of them is quarantined)."""
    batch: Batch = []
    vocabulary = RowVocabulary()  # every source's verbs and channels: docs/importing.md
    verbs, channels = vocabulary.verbs, vocabulary.channels
    for item in read_items(source, file):  # the limits: karmabank.sources.limits
        if type(item) is ParsedRow and (item.verb not in verbs or item.channel not in channels):
            item = vocabulary.check(item)
        if type(item) is ParsedRow and (reason := out_of_bounds(item)) is not None:
            item = BadRow(item.line, row_text(item), reason)  # karmabank.bounds, any source
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class Batcher:
    """Stores batches of one run, each in one transaction, counting them in `tally` once it
    is sure to commit; remembers resolved identities between batches."""

    def __init__(
        self, store: Store, run_id: int, org_keys: set[IdentityKey], now_us: int, tally: Tally,
    ) -> None:  # fmt: skip
        self.store = store
        self.run_id = run_id
        self.org_keys = org_keys
        self.now_us = now_us
        self.tally = tally
        self.people: dict[IdentityKey, tuple[int, bool]] = {}
        self.names_seen: set[tuple[IdentityKey, str]] = set()  # recorded in this run

    def store_batch(self, display: str, stored_as: str, batch: Batch) -> None:
        with self.store.engine.begin() as conn:
            self._store(conn, display, stored_as, batch)

    def store_batch_in(self, conn: Connection, display: str, stored_as: str, batch: Batch) -> None:
        """Store a batch in the caller's transaction (a sync writes the page's cursor in it
        first: `actions/syncing.py`); counted in `tally` as the transaction commits, so the
        caller commits right after."""
        self._store(conn, display, stored_as, batch)

    def _store(self, conn: Connection, display: str, stored_as: str, batch: Batch) -> None:
        # The first statement writes, so SQLite's write lock is held for the whole batch.
        conn.execute(  # organization identities are not data rows (import_org)
            text("UPDATE import_run SET rows_read = rows_read + :n WHERE id = :id"),
            {"n": sum(type(i) not in NOT_ROWS for i in batch), "id": self.run_id},
        )
        batch_shared(conn)  # PostgreSQL: an erasure or retention pass waits for this batch
        writer = BulkWriter(conn)
        rows, bad, skipped, org = sort_items(
            batch, self.org_keys, org_identity_adder(conn, display)
        )
        people, links = self._resolve(writer, rows)
        store_links(conn, links, file=display, now_us=self.now_us)
        tuples, names, followers = self._activities(rows, people, skipped)
        inserted = writer.insert_activities(tuples)
        writer.update_names(names)
        writer.record_names(self._new_names(rows, people))
        writer.update_followers(followers)
        ours = store_org_items(conn, writer, org, run_id=self.run_id, now_us=self.now_us,
                               skipped=skipped)  # fmt: skip
        duplicates = len(tuples) - inserted + ours.duplicates
        inserted += ours.imported
        bad.extend(ours.bad)
        if theirs := erased_mentions(conn, [b.raw for b in bad]):  # an erased person's bad row
            skipped[SKIP_REASON] += len(theirs)
            bad = [b for i, b in enumerate(bad) if i not in theirs]
        _quarantine(conn, self.run_id, stored_as, bad, self.now_us)
        n_skipped = skipped.total()
        conn.execute(
            text(
                "UPDATE import_run SET imported = imported + :i, duplicates = duplicates + :d,"
                " skipped = skipped + :s, quarantined = quarantined + :q WHERE id = :id"
            ),
            {"i": inserted, "d": duplicates, "s": n_skipped, "q": len(bad), "id": self.run_id},
        )
        # Counted only once the transaction is sure to commit (nothing below can fail).
        rep = self.tally
        rep.imported += inserted
        rep.duplicates += duplicates
        rep.org_content += ours.content
        rep.opt_outs += ours.opt_outs
        rep.org_identities.extend(ours.identities)
        rep.audiences += ours.audiences
        rep.audiences_outside += ours.audiences_outside
        rep.skipped += n_skipped
        rep.quarantined += len(bad)
        rep.skip_reasons.update(skipped)
        room = MAX_REPORTED_ERRORS - len(rep.errors)
        rep.errors.extend(RowError(display, b.line, b.reason) for b in bad[: max(room, 0)])

    def _new_names(
        self, rows: list[ParsedRow], people: dict[IdentityKey, tuple[int, bool]]
    ) -> list[tuple[IdentityKey, str, str]]:
        """The (identity, name key, name) pairs of the rows not recorded yet in this run (none
        for an erased person)."""
        seen = self.names_seen
        if len(seen) > IDENTITY_CACHE_LIMIT:
            seen.clear()
        new: list[tuple[IdentityKey, str, str]] = []
        for r in rows:
            if not r.name or people[r.person][1]:
                continue
            if (key := name_key(r.name)) is not None and (r.person, key) not in seen:
                seen.add((r.person, key))
                new.append((r.person, key, r.name))
        return new

    def _activities(
        self, rows: list[ParsedRow], people: dict[IdentityKey, tuple[int, bool]],
        skipped: Counter[str],
    ) -> tuple[list[ActivityTuple], dict[int, str], dict[int, int]]:  # fmt: skip
        """The rows as activity tuples (those of or toward an erased person counted in
        `skipped` instead), and the names and follower counts they give (the last one wins)."""
        tuples: list[ActivityTuple] = []
        names: dict[int, str] = {}
        followers: dict[int, int] = {}
        run_id = self.run_id
        for r in rows:
            pid, erased = people[r.person]
            target_id = None
            if r.target is not None:
                target_id, target_erased = people[r.target]
                erased = erased or target_erased
            if erased:
                skipped[SKIP_REASON] += 1
                continue
            if r.name:
                names[pid] = r.name
            if r.followers is not None:
                followers[pid] = r.followers
            tuples.append((
                r.source_key, r.occurred_at, pid, r.verb, r.direction, r.channel,
                r.object, r.text, target_id, r.weight, run_id,
            ))  # fmt: skip
        return tuples, names, followers

    def _resolve(
        self, writer: BulkWriter, rows: list[ParsedRow]
    ) -> tuple[dict[IdentityKey, tuple[int, bool]], list[tuple[int, int, StatedLink]]]:
        """Every identity of the rows -> (person id, erased), creating persons for new ones
        and giving a row's person the `also` identities nobody holds (`source_links`); and
        the stated links to persons who hold them, as person ids."""
        people = self.people
        if len(people) > IDENTITY_CACHE_LIMIT:
            people.clear()
        wanted: set[IdentityKey] = set()
        names: dict[IdentityKey, str] = {}
        stating = False  # whether a row states other identities of its person
        for r in rows:
            if r.person not in people:
                wanted.add(r.person)
                if r.name:
                    names.setdefault(r.person, r.name)
            if r.target is not None and r.target not in people:
                wanted.add(r.target)
            if r.also:
                stating = True
                wanted.update(k for k in r.also if k not in people and k not in self.org_keys)
        found = writer.lookup(wanted) if wanted else {}
        people.update(found)
        if not stating:
            created = writer.create_persons(sorted(wanted - found.keys()), names, self.now_us)
            people.update((k, (pid, False)) for k, pid in created.items())
            return people, []
        plan = plan_owners(rows, people, organization=self.org_keys)
        created = writer.create_persons(sorted(plan.new), names, self.now_us)
        people.update((k, (pid, False)) for k, pid in created.items())

        def pid(owner: Owner) -> int:
            return people[owner][0] if isinstance(owner, IdentityKey) else owner

        attached = {k: pid(owner) for k, owner in plan.attached.items()}
        writer.add_identities(attached)
        people.update((k, (p, False)) for k, p in attached.items())
        return people, [(pid(x.mine), pid(x.theirs), x) for x in plan.links]


def _quarantine(
    conn: Connection, run_id: int, stored_as: str, bad: list[BadRow], now_us: int
) -> None:
    """Keep the bad rows with their file, line and reason (once per file, line and text)."""
    if not bad:
        return
    conn.execute(
        text(
            "INSERT INTO quarantine (import_run_id, file, line, raw, raw_digest, reason,"
            " created_at) VALUES (:run, :file, :line, :raw, :digest, :reason, :at)"
            " ON CONFLICT (file, line, raw_digest) DO NOTHING"
        ),
        [
            {
                "run": run_id, "file": stored_as, "line": b.line, "raw": b.raw,
                "digest": hashlib.blake2b(b.raw.encode(), digest_size=16).hexdigest(),
                "reason": b.reason, "at": now_us,
            }
            for b in bad
        ],
    )  # fmt: skip
