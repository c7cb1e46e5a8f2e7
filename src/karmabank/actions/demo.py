"""`karmabank demo`: a demo database built from a generated network, through the real
CSV importer, with a few people flagged as a community manager would."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from karmabank.actions.clock import fix_now, fixed_now
from karmabank.actions.database import open_database
from karmabank.actions.importing import ImportReport, import_files
from karmabank.actions.people import set_flag
from karmabank.actions.relationships import list_people
from karmabank.demo_network import generate, write_csv
from karmabank.errors import ConfigError, StoreError
from karmabank.model import Flag
from karmabank.settings import Settings
from karmabank.store.engine import database_url
from karmabank.store.open import Store, columns_dir, open_store
from karmabank.store.tables import Activity, Person

DEMO_NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # the demo's time unless --now says


@dataclass(frozen=True)
class DemoSummary:
    db: str
    now: datetime
    people: int
    activities: int
    report: ImportReport | None  # None: an existing demo database, kept as it was
    tour: list[tuple[str, str]]
    backed_up: Path | None = None  # where the database --force replaced was backed up first

    @property
    def kept(self) -> bool:
        return self.report is None


def _sqlite_path(db: str) -> Path | None:
    url = database_url(db)
    return Path(url[len("sqlite:///") :]) if url.startswith("sqlite:///") else None


def demo_exists(db: str) -> bool:
    """Whether `db` is already there: a SQLite file, or a PostgreSQL database holding people."""
    path = _sqlite_path(db)
    if path is not None:
        return path.exists()
    try:
        with open_store(db) as store, store.sessions() as session:
            return bool(session.scalar(select(func.count()).select_from(Person)))
    except StoreError:  # not a karmabank database yet
        return False


def build_demo(
    *, settings: Settings, now: datetime = DEMO_NOW, people: int = 3000, seed: int = 7,
    force: bool = False,
) -> DemoSummary:  # fmt: skip
    """Build the demo database at `settings.db`, fixed at `now` (commands on it compute as of
    `now` unless --now says otherwise, so its counts never change with the clock). An existing
    database is replaced only with `force` (a SQLite file, backed up first; a PostgreSQL
    database must be empty, with or without it): it may hold a real import, its users and
    issues."""
    if people < 10:
        raise ConfigError("--people must be at least 10")
    db = settings.db
    path = _sqlite_path(db)
    if not force and demo_exists(db):
        raise ConfigError(
            f"{db} already exists: add --force to replace it (everything in it is deleted), "
            "or --keep to keep it and see the tour"
        )
    exists = demo_exists(db)
    if exists and path is None:  # a PostgreSQL database is never emptied for the demo
        raise ConfigError(f"{db} already holds people: the demo needs an empty database")
    saved = _back_up_first(db, path) if force and exists and path is not None else None
    if path is not None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        shutil.rmtree(columns_dir(database_url(db)), ignore_errors=True)
    network = generate(seed=seed, now=now, people=people)
    with open_database(settings=settings, create=True) as store:
        with store.sessions() as session:
            if session.scalar(select(func.count()).select_from(Person)):
                raise ConfigError(f"{db} already holds people: the demo needs an empty database")
        with tempfile.TemporaryDirectory(prefix="karmabank-demo-") as tmp:
            csv_path = Path(tmp) / "riverside-commons.csv"
            write_csv(network, csv_path)
            report = import_files(
                store=store, fmt="csv", paths=[csv_path], options={}, now=now, actor="demo"
            )
        for flag, refs in (
            (Flag.TEAM, network.team),
            (Flag.BOT, network.bots),
            (Flag.DO_NOT_CONTACT, network.do_not_contact),
        ):
            for ref in refs:
                set_flag(store=store, ref=ref, flag=flag, on=True, now=now, actor="demo")
        with store.sessions.begin() as session:
            fix_now(session, now=now, actor="demo")
        return replace(_summary(store, settings, now, report), backed_up=saved)


def _back_up_first(db: str, path: Path) -> Path:
    """Back up the SQLite file a forced demo replaces, to a named file beside it:
    `<name>.before-demo-<UTC time>.kbbackup`."""
    from karmabank.actions.backup import backup_database

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = path.parent / f"{path.name}.before-demo-{stamp}.kbbackup"
    backup_database(db=db, path=target)
    return target


def keep_demo(*, settings: Settings) -> DemoSummary:
    """The summary and tour of the demo database already at `settings.db`, which is kept as it
    is (its users, issues and whatever was recorded since), as of `settings.now` if given."""
    with open_database(settings=settings) as store:
        when = settings.now or fixed_now(store) or datetime.now(UTC)
        return _summary(store, settings, when, None)


def _summary(
    store: Store, settings: Settings, now: datetime, report: ImportReport | None
) -> DemoSummary:
    db = settings.db
    with store.sessions() as session:
        n_people = session.scalar(select(func.count()).select_from(Person)) or 0
        n_acts = session.scalar(select(func.count()).select_from(Activity)) or 0
    top = list_people(store=store, now=now, settings=settings.measures, limit=1, circle="core")
    star = top[0].person.identities[0] if top and top[0].person.identities else None
    star_ref = f"{star.platform}:{star.key}" if star else "1"
    export = f"export KARMABANK_DB={db}"
    tour = [
        (export, "so the commands below use the demo database (or add --db to each)"),
        ("karmabank status", "share ratio (sharer or hoarder?), people per circle, rhythm, stage"),
        ("karmabank people --limit 10", "the warmest people: circle, rhythm status, balance"),
        ("karmabank people --circle core --status drifting",
         "close friends who have gone quieter than their own rhythm: check in gently"),
        ("karmabank people -q river", "search by name or identity"),
        (f"karmabank person {star_ref}", "one person: every score with the reason for it"),
        (f"karmabank person {star_ref} --json", "the same, as JSON for scripts"),
        (f"karmabank record give {star_ref} thank --text 'Thanks for the cleanup photos!'",
         "record something you gave (karmabank never sends anything itself)"),
        (f"karmabank flag {star_ref} do_not_contact", "respect someone who asked for quiet"),
        ("karmabank import edgelist ../shared/data/opsahl-ucsocial/out.opsahl-ucsocial "
         "--org 1624 --db ucsocial.db",
         "import a real network: quarantined rows are reported with file and line"),
    ]  # fmt: skip
    return DemoSummary(db, now, n_people, n_acts, report, tour)
