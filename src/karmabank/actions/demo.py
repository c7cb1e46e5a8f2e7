"""`karmabank demo`: a demo database built from a generated network, through the real
CSV importer, with a few people flagged as a community manager would."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from karmabank.actions.importing import ImportReport, import_files
from karmabank.actions.people import set_flag
from karmabank.actions.relationships import list_people
from karmabank.actions.scoring import measure_settings
from karmabank.demo_network import generate, write_csv
from karmabank.errors import ConfigError
from karmabank.model import Flag
from karmabank.store.engine import database_url
from karmabank.store.open import open_store
from karmabank.store.tables import Activity, Person


@dataclass(frozen=True)
class DemoSummary:
    db: str
    now: datetime
    people: int
    activities: int
    report: ImportReport
    tour: list[tuple[str, str]]


def build_demo(*, db: str, now: datetime, people: int = 3000, seed: int = 7) -> DemoSummary:
    """Build (or rebuild) the demo database at `db`."""
    if people < 10:
        raise ConfigError("--people must be at least 10")
    url = database_url(db)
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :])
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    network = generate(seed=seed, now=now, people=people)
    with open_store(db, create=True) as store:
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
        with store.sessions() as session:
            n_people = session.scalar(select(func.count()).select_from(Person)) or 0
            n_acts = session.scalar(select(func.count()).select_from(Activity)) or 0
        top = list_people(
            store=store, now=now, settings=measure_settings(store), limit=1, circle="core"
        )
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
