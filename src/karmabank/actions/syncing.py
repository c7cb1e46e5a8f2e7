"""Syncing connections: what came in on each platform since its stored cursor, imported.

For each connection (`karmabank sync`, or one with `--connection N`), the connector
(`karmabank.connectors`) yields pages since the stored cursor; each page's items go through the
same pipeline as files (`import_batches.Batcher`: the vocabulary, the bounds and limits, people
resolved set-wise, activities keyed by platform ids so nothing is stored twice, bad rows
quarantined with the page's URL as their file) and the connection's cursor moves **in the same
transaction** as the page's rows. A sync killed at any moment leaves the cursor on the last
committed page: the next sync fetches the rest, and anything fetched twice is a duplicate.

A first sync (no cursor) reads back to `since` only (90 days by default) and says so. Each
connection is its own import run (format `sync:<platform>`), audited when it ends; one that
fails (a refused token, the network past its retries, a missing secret) is one line naming the
connection, kept as its `last_result`, and the other connections are synced still.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from karmabank.actions.connections import (
    Secrets,
    connection_options,
    find_connection,
    transport_for,
)
from karmabank.actions.import_batches import Batch, Batcher, Tally
from karmabank.actions.import_runs import mark_interrupted, run_lock
from karmabank.actions.importing import finish_run, finish_run_in, sync_columns
from karmabank.actions.organization import ensure_organization, write_audit
from karmabank.connectors.base import ConnectionSettings, Page
from karmabank.connectors.http import Policy, Progress
from karmabank.connectors.registry import make_connector
from karmabank.errors import ConfigError, ConnectorError
from karmabank.model import IdentityKey, to_micros
from karmabank.settings import parse_instant
from karmabank.sources.base import BadRow, ParsedRow, SourceItem, out_of_bounds
from karmabank.sources.limits import fetched_items
from karmabank.sources.vocabulary import RowVocabulary, row_text
from karmabank.store.connections import Connection
from karmabank.store.open import Store
from karmabank.store.tables import ImportRun, OrgIdentity

DEFAULT_SINCE = "90d"
_SPAN = re.compile(r"(\d{1,5})\s*([dwh])")
_UNITS = {"d": "days", "w": "weeks", "h": "hours"}


def since_of(text: str, now: datetime) -> datetime:
    """How far back a first sync reads: `90d`, `12w`, `36h` before `now`, or an ISO date."""
    value = text.strip().lower()
    if match := _SPAN.fullmatch(value):
        return now - timedelta(**{_UNITS[match[2]]: int(match[1])})
    if not value[:4].isdigit():
        raise ConfigError(f"since {text!r}: expected a span such as 90d, 12w, 36h, or an ISO date")
    return parse_instant(text, "since")  # a naive date is UTC; in karmabank.bounds


@dataclass(frozen=True)
class ConnectionSync:
    """What one connection's sync did: exact counts, pages, the cursor it left, notes."""

    connection: str
    platform: str
    run_id: int | None
    imported: int = 0
    duplicates: int = 0
    skipped: int = 0
    quarantined: int = 0
    pages: int = 0
    cursor: str | None = None
    audiences: int = 0  # people in the network whose follower count the follower list gave
    audiences_outside: int = 0  # followers not in the network yet (left out: no activity)
    first_since: datetime | None = None  # a first sync: how far back it read
    notes: tuple[str, ...] = ()
    error: str | None = None  # one line naming the connection; the sync of it stopped there

    @property
    def result(self) -> str:
        """One line, kept as the connection's `last_result`."""
        if self.error:
            return self.error
        line = (
            f"{self.imported} imported, {self.duplicates} duplicates, {self.skipped} skipped, "
            f"{self.quarantined} quarantined ({self.pages} pages)"
        )
        if self.audiences or self.audiences_outside:
            outside = self.audiences_outside
            line += (
                f"; follower counts of {self.audiences} {_people(self.audiences)} in the network"
                f" ({outside} other {'follower' if outside == 1 else 'followers'} not in it yet)"
            )
        return line

    def as_json(self) -> dict[str, Any]:
        return {
            "connection": self.connection,
            "platform": self.platform,
            "run_id": self.run_id,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "skipped": self.skipped,
            "quarantined": self.quarantined,
            "pages": self.pages,
            "cursor": self.cursor,
            "follower_counts_set": self.audiences,
            "followers_not_in_network": self.audiences_outside,
            "first_sync_since": self.first_since.isoformat() if self.first_since else None,
            "notes": list(self.notes),
            "error": self.error,
        }


def _people(n: int) -> str:
    return "person" if n == 1 else "people"


@dataclass(frozen=True)
class SyncReport:
    connections: tuple[ConnectionSync, ...]
    interrupted: tuple[int, ...]  # earlier runs found killed

    @property
    def failed(self) -> list[ConnectionSync]:
        return [c for c in self.connections if c.error]

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"connections": [c.as_json() for c in self.connections]}
        if self.interrupted:
            found["interrupted_runs"] = list(self.interrupted)
        return found


def sync(
    *,
    store: Store,
    secrets: Secrets,
    now: datetime,
    connection: str | None = None,
    since: datetime | None = None,
    policy: Policy | None = None,
    progress: Progress | None = None,
    actor: str = "cli",
    followers_every: timedelta | None = timedelta(days=1),
) -> SyncReport:
    """Sync every connection (or the one named `connection`); `since` bounds a first sync
    (default: 90 days before `now`); a follower list is read again `followers_every` after
    the last reading (None: never)."""
    with store.sessions() as session:
        if connection is not None:
            ids = [find_connection(session, connection).id]
        else:
            ids = list(session.scalars(select(Connection.id).order_by(Connection.id)))
    interrupted = mark_interrupted(store, now)
    bound = since if since is not None else since_of(DEFAULT_SINCE, now)
    job = _Job(store, secrets, now, bound, policy or Policy(), progress, actor, followers_every)
    done = tuple(job.run(i) for i in ids)
    if any(c.imported for c in done):
        sync_columns(store)
    return SyncReport(done, tuple(interrupted))


class _Job:
    def __init__(
        self, store: Store, secrets: Secrets, now: datetime, since: datetime, policy: Policy,
        progress: Progress | None, actor: str, followers_every: timedelta | None,
    ) -> None:  # fmt: skip
        self.store, self.secrets, self.now, self.since = store, secrets, now, since
        self.policy, self.progress, self.actor = policy, progress, actor
        self.followers_every = followers_every

    def _say(self, line: str) -> None:
        if self.progress is not None:
            self.progress(line)

    def run(self, connection_id: int) -> ConnectionSync:
        with self.store.sessions() as session:
            row = session.get(Connection, connection_id)
            assert row is not None
            platform, cursor = row.platform, row.cursor
            settings = ConnectionSettings(
                row.name, row.base_url, row.secret_env, connection_options(row),
                audience_every=self.followers_every,
            )  # fmt: skip
        name = settings.name
        try:
            secret = self.secrets.read(settings.secret_env, connection=name)
        except ConfigError as e:
            return self._record(connection_id, ConnectionSync(name, platform, None, error=str(e)))
        lock = contextlib.ExitStack()
        with lock:
            run_id, org_keys = self._start(lock, platform, name, cursor)
            page_sync = _Pages(self, connection_id, run_id, org_keys, cursor, settings)
            try:
                with transport_for(
                    settings, secret=secret, policy=self.policy, progress=self.progress
                ) as transport:
                    connector = make_connector(
                        platform, settings, secret=secret, transport=transport
                    )
                    for page in connector.pages(cursor, self.since, now=self.now):
                        page_sync.store(page)
            except (ConnectorError, ConfigError) as e:
                finish_run(self.store, run_id, "failed", self.now)
                view = page_sync.view(name, platform, cursor is None, error=str(e))
                return self._record(connection_id, view)
            except BaseException:
                finish_run(self.store, run_id, "failed", self.now)
                raise
            view = page_sync.view(name, platform, cursor is None)
            return self._record(connection_id, view, done=True)

    def _start(
        self, lock: contextlib.ExitStack, platform: str, name: str, cursor: str | None
    ) -> tuple[int, set[IdentityKey]]:
        """The new run's id (its lock taken before its row commits) and the organization's
        identities."""
        with self.store.sessions.begin() as session:
            ensure_organization(session, now=self.now)
            run = ImportRun(
                format=f"sync:{platform}"[:32], paths=json.dumps([name]),
                options=json.dumps({"cursor": cursor, "since": self.since.isoformat()}),
                started_at=self.now, status="running",
            )  # fmt: skip
            session.add(run)
            session.flush()
            lock.enter_context(run_lock(self.store, run.id))
            org_keys = {
                IdentityKey(p, k)
                for p, k in session.execute(select(OrgIdentity.platform, OrgIdentity.key))
            }
            return run.id, org_keys

    def _record(
        self, connection_id: int, view: ConnectionSync, *, done: bool = False
    ) -> ConnectionSync:
        """Keep the result with the connection (and, when the run ended well, end it and
        audit it in the same transaction)."""
        with self.store.sessions.begin() as session:
            values: dict[str, Any] = {"last_sync_at": self.now, "last_result": view.result}
            if view.run_id is not None:
                values["last_import_run_id"] = view.run_id
            session.execute(update(Connection).where(Connection.id == connection_id)
                            .values(**values))  # fmt: skip
            if done and view.run_id is not None:
                finish_run_in(session, view.run_id, "done", self.now)
                write_audit(
                    session, now=self.now, actor=self.actor, action="sync",
                    subject=f"import_run:{view.run_id}",
                    details=view.as_json(),
                    scored=view.imported > 0,
                )  # fmt: skip
        return view


class _Pages:
    """Stores one connection's pages, each with its cursor in one transaction."""

    def __init__(
        self, job: _Job, connection_id: int, run_id: int, org_keys: set[IdentityKey],
        cursor: str | None, settings: ConnectionSettings,
    ) -> None:  # fmt: skip
        self.base_url = settings.base_url.rstrip("/")
        self.options = dict(settings.options)  # as stored: `Page.keep` merges into them
        self.job, self.connection_id, self.run_id = job, connection_id, run_id
        self.tally = Tally()
        self.batcher = Batcher(job.store, run_id, org_keys, to_micros(job.now), self.tally)
        self.vocabulary = RowVocabulary()
        self.pages = 0
        self.cursor = cursor  # where the connection stands: moved with each stored page
        self.notes: list[str] = []

    def store(self, page: Page) -> None:
        if page.note:
            self.notes.append(page.note)
            self.job._say(page.note)
        batch = self._checked(page.items)
        url = page.url if "://" in page.url else self.base_url + page.url  # whole, in quarantine
        values: dict[str, str | None] = {"cursor": page.cursor}
        if page.keep:  # an empty value removes the option
            options = {k: v for k, v in {**self.options, **page.keep}.items() if v}
            values["options"] = json.dumps(options, sort_keys=True)
        with self.job.store.engine.begin() as conn:
            self.batcher.store_batch_in(conn, url, url, batch)
            conn.execute(
                update(Connection).where(Connection.id == self.connection_id).values(**values)
            )
        if page.keep:
            self.options = options
        self.pages += 1
        self.cursor = page.cursor

    def _checked(self, items: list[SourceItem]) -> Batch:
        """The page's rows checked as a file's are (the vocabulary, the bounds, the limits)."""
        batch: Batch = []
        verbs, channels = self.vocabulary.verbs, self.vocabulary.channels
        for item in fetched_items(items):
            if type(item) is ParsedRow and (item.verb not in verbs or item.channel not in channels):
                item = self.vocabulary.check(item)
            if type(item) is ParsedRow and (reason := out_of_bounds(item)) is not None:
                item = BadRow(item.line, row_text(item), reason)
            batch.append(item)
        return batch

    def view(
        self, name: str, platform: str, first: bool, *, error: str | None = None
    ) -> ConnectionSync:
        t = self.tally
        return ConnectionSync(
            connection=name, platform=platform, run_id=self.run_id, imported=t.imported,
            duplicates=t.duplicates, skipped=t.skipped, quarantined=t.quarantined,
            pages=self.pages, cursor=self.cursor, audiences=t.audiences,
            audiences_outside=t.audiences_outside, first_since=self.job.since if first else None,
            notes=tuple(self.notes), error=error,
        )  # fmt: skip
