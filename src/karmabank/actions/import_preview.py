"""`karmabank import --dry-run`: read the files as an import would, store nothing.

Every file is read and checked exactly as `import_files` does (the same source, batches,
vocabulary, bounds and limits, the same attribution to the organization), and the database is
only read: which rows are stored already (`duplicates`), which persons were erased, which
identities a person has. Counted as an import would count them, with the first rows shown.
Without a database (none yet, or behind) nothing is stored already.

Two things an import decides while writing are not previewed: the merge suggestions a row's
`also` identities may raise, and a repeat of a source key more than `SEEN_LIMIT` rows apart in
the files (counted as new).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from karmabank.actions.import_batches import MAX_REPORTED_ERRORS, RowError, batches
from karmabank.actions.import_org import OrgItems, content_problem, refuse_owned, sort_items
from karmabank.actions.organization import org_identity_known
from karmabank.model import IdentityKey, check_channel, from_micros
from karmabank.sources import registry
from karmabank.sources.base import InputFile, OrgIdentityRow, ParsedRow
from karmabank.store.bulk import BulkWriter
from karmabank.store.erasures import SKIP_REASON, erased_mentions
from karmabank.store.open import Store
from karmabank.store.org_tables import OptOut, OrgContent
from karmabank.store.tables import Activity, OrgIdentity

SEEN_LIMIT = 1_000_000  # source keys remembered across batches, to count repeats


@dataclass
class ImportPreview:
    """What an import of the files would do: the counts an `ImportReport` has, the
    organization's part, and the first rows as they would be stored."""

    imported: int = 0
    duplicates: int = 0
    skipped: int = 0
    quarantined: int = 0
    errors: list[RowError] = field(default_factory=list)
    skip_reasons: Counter[str] = field(default_factory=Counter)
    org_content: int = 0
    opt_outs: int = 0
    org_identities: list[str] = field(default_factory=list)
    first_rows: list[dict[str, Any]] = field(default_factory=list)
    checked_database: bool = True

    @property
    def rows_read(self) -> int:
        return self.imported + self.duplicates + self.skipped + self.quarantined

    def as_json(self) -> dict[str, Any]:
        return {
            "dry_run": True, "imported": self.imported, "duplicates": self.duplicates,
            "skipped": self.skipped, "skip_reasons": dict(sorted(self.skip_reasons.items())),
            "quarantined": self.quarantined,
            "errors": [{"file": e.file, "line": e.line, "reason": e.reason} for e in self.errors],
            "organization": {"identities_added": self.org_identities,
                             "content": self.org_content, "opt_outs": self.opt_outs},
            "first_rows": self.first_rows, "checked_database": self.checked_database,
        }  # fmt: skip


def row_json(display: str, r: ParsedRow) -> dict[str, Any]:
    """A row as it would be stored (after the organization's attribution)."""
    return {
        "file": display, "line": r.line, "occurred_at": from_micros(r.occurred_at).isoformat(),
        "person": str(r.person), "verb": r.verb, "direction": r.direction,
        "channel": r.channel, "target": str(r.target) if r.target else None,
        "object": r.object, "name": r.name, "source_key": r.source_key,
    }  # fmt: skip


class _Stored:
    """What the database holds already, read only (nothing when there is no database)."""

    def __init__(self, conn: Connection | None) -> None:
        self.conn = conn
        self.seen: dict[str, set[str]] = {}  # source keys of this preview by table

    def new_keys(self, table: Any, keys: list[str]) -> set[str]:
        """The keys neither stored nor seen earlier in the files."""
        seen = self.seen.setdefault(str(table), set())
        fresh = [k for k in dict.fromkeys(keys) if k not in seen]
        if self.conn is not None:
            found: set[str] = set()
            for start in range(0, len(fresh), 1_000):
                chunk = fresh[start : start + 1_000]
                found.update(self.conn.scalars(select(table).where(table.in_(chunk))))
            fresh = [k for k in fresh if k not in found]
        if len(seen) < SEEN_LIMIT:
            seen.update(fresh)
        return set(fresh)

    def people(self, keys: set[IdentityKey]) -> dict[IdentityKey, tuple[int, bool]]:
        return BulkWriter(self.conn).lookup(keys) if self.conn is not None and keys else {}

    def add_identity(self, display: str, item: OrgIdentityRow) -> bool:
        if self.conn is None:
            return True
        refuse_owned(self.conn, display, item)
        return not org_identity_known(self.conn, item.identity)


def preview_files(
    *, store: Store | None, fmt: str, paths: Sequence[Path], options: Mapping[str, str],
    encoding: str | None = None, first: int = 10, batch_size: int = 50_000,
) -> ImportPreview:  # fmt: skip
    """What importing `paths` with format `fmt` would do, with its first `first` rows; the
    database (`store`, None: none yet) is only read."""
    source = registry.load(fmt, options)
    opened = getattr(source, "input_path", None)  # sources.base.ReadsFolders
    files = [InputFile(opened(p) if opened else p, encoding) for p in paths]
    preview = ImportPreview(checked_database=store is not None)
    conn = store.engine.connect() if store is not None else None
    try:
        org_keys = set(source.organization_identities())
        if conn is not None:
            org_keys.update(IdentityKey(p, k) for p, k in conn.execute(
                select(OrgIdentity.platform, OrgIdentity.key)))  # fmt: skip
        use = getattr(source, "use_organization", None)
        if callable(use):
            use(frozenset(org_keys))
        stored = _Stored(conn)
        for file in files:
            with file:
                for batch in batches(source, file, batch_size):
                    _preview_batch(preview, stored, file.display, batch, org_keys, first)
                if file.damage is not None:
                    d = file.damage
                    preview.errors.append(RowError(file.display, d.line, d.reason))
    finally:
        for file in files:
            file.close()
        if conn is not None:
            conn.rollback()
            conn.close()
    del preview.errors[MAX_REPORTED_ERRORS:]
    return preview


def _preview_batch(
    preview: ImportPreview, stored: _Stored, display: str, batch: list[Any],
    org_keys: set[IdentityKey], first: int,
) -> None:  # fmt: skip
    rows, bad, skipped, org = sort_items(
        batch, org_keys, lambda item: stored.add_identity(display, item)
    )
    preview.org_identities.extend(str(i.identity) for i in org.identities)
    people = stored.people({k for r in rows for k in (r.person, r.target) if k is not None})
    kept: list[ParsedRow] = []
    for r in rows:
        erased = people.get(r.person, (0, False))[1]
        if r.target is not None:
            erased = erased or people.get(r.target, (0, False))[1]
        if erased:
            skipped[SKIP_REASON] += 1
        else:
            kept.append(r)
    if stored.conn is not None and (theirs := erased_mentions(stored.conn, [b.raw for b in bad])):
        skipped[SKIP_REASON] += len(theirs)  # as the import does: an erased person's bad row
        bad = [b for i, b in enumerate(bad) if i not in theirs]
    fresh = _count_new(stored.new_keys(Activity.source_key, [r.source_key for r in kept]),
                       [r.source_key for r in kept])  # fmt: skip
    preview.imported += fresh
    preview.duplicates += len(kept) - fresh
    for r in kept[: max(first - len(preview.first_rows), 0)]:
        preview.first_rows.append(row_json(display, r))
    refused = [(b.line, b.reason) for b in bad] + _preview_org(preview, stored, org, skipped)
    preview.quarantined += len(refused)
    room = MAX_REPORTED_ERRORS - len(preview.errors)
    preview.errors.extend(RowError(display, line, why) for line, why in refused[: max(room, 0)])
    preview.skipped += skipped.total()
    preview.skip_reasons.update(skipped)


def _count_new(new: set[str], keys: list[str]) -> int:
    """How many of `keys` are new: the first of each key in `new` (a repeat is a duplicate)."""
    n = 0
    for k in keys:
        if k in new:
            new.discard(k)
            n += 1
    return n


def _preview_org(
    preview: ImportPreview, stored: _Stored, org: OrgItems, skipped: Counter[str]
) -> list[tuple[int, str]]:
    """Count the batch's content and opt-outs; the (line, reason) of those quarantined."""
    bad: list[tuple[int, str]] = []
    good = []
    for c in org.content:
        try:
            check_channel(c.channel)
            problem = content_problem(c)
        except ValueError as e:
            problem = str(e)
        if problem is None:
            good.append(c.source_key)
        else:
            bad.append((c.line, problem))
    fresh = _count_new(stored.new_keys(OrgContent.source_key, good), good)
    preview.org_content += fresh
    preview.imported += fresh
    preview.duplicates += len(good) - fresh
    people = stored.people({o.person for o in org.opt_outs})
    pairs: set[tuple[int | IdentityKey, str]] = set()
    for o in org.opt_outs:
        try:
            channel = check_channel(o.channel)
        except ValueError as e:
            bad.append((o.line, str(e)))
            continue
        pid, erased = people.get(o.person, (0, False))
        if erased:
            skipped[SKIP_REASON] += 1
            continue
        pair = (pid or o.person, channel)
        if pair in pairs or (pid and _opted_out(stored, pid, channel)):
            preview.duplicates += 1
        else:
            pairs.add(pair)
            preview.opt_outs += 1
            preview.imported += 1
    return bad


def _opted_out(stored: _Stored, person_id: int, channel: str) -> bool:
    if stored.conn is None:
        return False
    found = stored.conn.scalar(
        select(OptOut.id).where(OptOut.person_id == person_id, OptOut.channel == channel)
    )
    return found is not None
