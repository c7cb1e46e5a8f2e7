"""The audit log in use, on both backends: every kind of write leaves its entry (who, when,
what, about what); `read_audit` filters by person and time and pages by id; `karmabank audit`
prints and exits 1 on a bad filter; the entry of an erasure holds no personal data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from karmabank.actions import accounts, campaigns, issues, organization, retention
from karmabank.actions.audit import audit_change, read_audit
from karmabank.actions.backup import backup_database
from karmabank.actions.importing import import_files
from karmabank.actions.merging import merge_never, merge_people, unmerge
from karmabank.actions.mobilization import plan_campaign
from karmabank.actions.nurture import nurture_queue, nurture_skip, nurture_snooze
from karmabank.actions.opt_outs import set_opt_out
from karmabank.actions.people import find_person, set_flag
from karmabank.actions.recording import record_activity
from karmabank.actions.restore import restore_database
from karmabank.errors import KarmabankError
from karmabank.model import Direction, Flag
from karmabank.settings import load_settings
from karmabank.store.open import Store, open_store
from karmabank.store.tables import AuditLog
from tests.actions import test_campaigns
from tests.actions.test_campaigns import S
from tests.cli_helpers import run
from tests.conftest import NOW

world = test_campaigns.network
HUB = "hub@example.org"
T = NOW + timedelta(hours=1)  # every write under test happens then: after the world's own


def _import(store: Store, tmp: Path) -> None:
    f = tmp / "more.csv"
    f.write_text("occurred_at,person,name,verb,direction,channel,text,target\n"
                 "2026-05-30T10:00:00Z,new@example.org,New Person,comment,in,blog,hi,\n")  # fmt: skip
    import_files(store=store, fmt="csv", paths=[f], options={}, now=T, actor="ann")


def _failed_import(store: Store, tmp: Path) -> None:
    f = tmp / "bad.csv"
    f.write_text("foo,bar\n1,2\n")
    with pytest.raises(KarmabankError, match="missing required column"):
        import_files(store=store, fmt="csv", paths=[f], options={}, now=T, actor="ann")


def _merge(store: Store) -> int:
    record_activity(store=store, direction=Direction.IN, ref="twin@example.org", verb="like",
                    at=NOW, now=NOW, name="Twin", actor="seed")  # fmt: skip
    return merge_people(store=store, a=HUB, b="twin@example.org", now=T, decided_by="ann").id


def _campaign(store: Store) -> None:
    campaigns.new_campaign(store=store, name="Drive", action="share", budget=3, now=NOW)
    plan_campaign(store=store, name="Drive", now=NOW, settings=S)


def _user(store: Store) -> None:
    accounts.add_user(store=store, email="bo@example.org", role="viewer", now=NOW,
                      password="a long password 1", actor="seed")  # fmt: skip


def _backup(store: Store, tmp: Path) -> None:
    # the portable dump reads a SQLite file through ADBC's own SQLite: no other connection of
    # this process may hold the file meanwhile (docs/architecture.md)
    store.engine.dispose()
    backup_database(db=store.url, path=tmp / "b.kbbackup", portable=True, clock=T, actor="ann")


def _restore(store: Store, tmp: Path) -> Store:
    store.engine.dispose()
    backup_database(db=store.url, path=tmp / "b.kbbackup", portable=True, clock=NOW)
    target = str(tmp / "restored.db")
    restore_database(path=tmp / "b.kbbackup", settings=load_settings(db=target), actor="ann")
    return open_store(target)


def _item(store: Store) -> int:
    return nurture_queue(store=store, now=NOW, settings=S)[0].id


def _seq(*steps: Callable[[], Any]) -> None:
    for step in steps:
        step()


# kind -> (the write, done as "ann" at T, after any set-up; the action and subject it leaves)
WRITES: dict[str, tuple[Callable[[Store, Path], Any], str, str | None]] = {
    "import": (_import, "import", "import_run:"),
    "import failed": (_failed_import, "import failed", "import_run:"),
    "record": (lambda s, t: record_activity(store=s, direction=Direction.GIVE, ref=HUB,
                                            verb="thank", at=T, now=T, actor="ann"),
               "record", "person:"),
    "flag": (lambda s, t: set_flag(store=s, ref=HUB, flag=Flag.BOT, on=True, now=T, actor="ann"),
             "flag", "person:"),
    "merge": (lambda s, t: _merge(s), "merge", "merge:"),
    "unmerge": (lambda s, t: unmerge(store=s, merge_id=_merge(s), now=T, decided_by="ann"),
                "unmerge", "merge:"),
    "merge never": (lambda s, t: merge_never(store=s, a=HUB, b="solo@example.org", now=T,
                                             decided_by="ann"), "merge never", "person:"),
    "optout": (lambda s, t: set_opt_out(store=s, ref=HUB, channel="email", on=True, now=T,
                                        actor="ann"), "optout", "person:"),
    "send": (lambda s, t: _seq(lambda: _campaign(s), lambda: campaigns.send_campaign(
        store=s, name="Drive", now=T, actor="ann")), "campaign send", "campaign:"),
    "respond": (lambda s, t: _seq(lambda: _campaign(s),
                                  lambda: campaigns.send_campaign(store=s, name="Drive", now=NOW),
                                  lambda: campaigns.respond(store=s, name="Drive", ref=HUB,
                                                            response="yes", now=T, actor="ann")),
                "campaign respond", "campaign:"),
    "plan": (lambda s, t: _seq(
        lambda: campaigns.new_campaign(store=s, name="Drive", action="share", budget=3, now=NOW),
        lambda: plan_campaign(store=s, name="Drive", now=T, settings=S, actor="ann")),
             "campaign plan", "campaign:"),
    "nurture skip": (lambda s, t: nurture_skip(store=s, item_id=_item(s), now=T, actor="ann"),
                     "nurture skipped", "person:"),
    "nurture snooze": (lambda s, t: nurture_snooze(store=s, item_id=_item(s), now=T, days=3,
                                                   actor="ann"), "nurture snoozed", "person:"),
    "campaign": (lambda s, t: campaigns.new_campaign(store=s, name="C", action="share", budget=1,
                                                     now=T, actor="ann"),
                 "campaign new", "campaign:"),
    "issue": (lambda s, t: issues.add_issue(store=s, name="Rivers", keywords=["river"], now=T,
                                            actor="ann"), "issue", "issue:"),
    "user add": (lambda s, t: accounts.add_user(store=s, email="cy@example.org", role="owner",
                                                now=T, password="a long password 2",
                                                actor="ann"), "user add", "user:"),
    "user disable": (lambda s, t: _seq(lambda: _user(s), lambda: accounts.set_disabled(
        store=s, email="bo@example.org", disabled=True, now=T, actor="ann")),
                     "user disable", "user:"),
    "token new": (lambda s, t: _seq(lambda: _user(s), lambda: accounts.new_token(
        store=s, email="bo@example.org", now=T, actor="ann")), "token new", "user:"),
    "token revoke": (lambda s, t: _seq(
        lambda: _user(s),
        lambda: accounts.revoke_token(store=s, token=accounts.new_token(
            store=s, email="bo@example.org", now=NOW, actor="seed")[1], now=T, actor="ann")),
                     "token revoke", "user:"),
    "org name": (lambda s, t: organization.set_org_name(store=s, name="River Friends", now=T,
                                                        actor="ann"), "org name", None),
    "org identity": (lambda s, t: organization.add_org_identities(
        store=s, identities=["mastodon:@us@social.example"], take=False, now=T, actor="ann"),
                     "org identity add", None),
    "retention": (lambda s, t: retention.set_retention(store=s, days=30, now=T, actor="ann"),
                  "retention set", "organization:"),
    "backup": (_backup, "backup", "database"),
    "restore": (_restore, "restore", "database"),
    "connector": (lambda s, t: audit_change(s, now=T, actor="ann", action="connect",
                                            subject="connection:1", details={"platform": "x"}),
                  "connect", "connection:"),
}  # fmt: skip


@pytest.mark.parametrize("kind", list(WRITES))
def test_every_write_leaves_its_entry(world: Store, tmp_path: Path, kind: str) -> None:
    write, action, subject = WRITES[kind]
    done = write(world, tmp_path)
    store = done if isinstance(done, Store) else world
    try:
        found = [e for e in read_audit(store=store, limit=1000).entries if e.action == action]
    finally:
        if store is not world:
            store.close()
    assert found, f"no {action!r} entry"
    e = found[0]
    assert e.actor == "ann"
    if kind != "restore":  # a restore's entry is at the clock's time
        assert e.at == T
    if subject is not None:
        assert e.subject.startswith(subject)


def test_filters_and_pages(world: Store) -> None:
    with world.sessions() as s:
        hub, solo = find_person(s, HUB).id, find_person(s, "solo@example.org").id
    set_flag(store=world, ref=HUB, flag=Flag.BOT, on=True, now=T, actor="ann")
    set_flag(store=world, ref="solo@example.org", flag=Flag.BOT, on=True, now=T, actor="ann")
    merge_never(store=world, a="solo@example.org", b=HUB, now=T, decided_by="ann")
    mine = read_audit(store=world, person=HUB).entries
    assert [e.action for e in mine] == ["merge never", "flag"]  # newest first
    assert all(f"person:{hub}" == e.subject or hub in e.details.values() for e in mine)
    assert [e.action for e in read_audit(store=world, person="solo@example.org").entries] == [
        "merge never", "flag"]  # fmt: skip
    assert solo != hub
    later = read_audit(store=world, since=T).entries
    assert len(later) == 3 and all(e.at >= T for e in later)
    everything = read_audit(store=world, limit=1000).entries
    assert len(everything) > 3
    first = read_audit(store=world, limit=2)
    assert len(first.entries) == 2 and first.next_before == first.entries[-1].id
    second = read_audit(store=world, limit=2, before=first.next_before)
    assert [e.id for e in first.entries + second.entries] == [e.id for e in everything[:4]]
    last = read_audit(store=world, limit=1000, before=everything[-1].id + 1)
    assert last.next_before is None


def test_the_cli(world: Store, capsys: pytest.CaptureFixture[str]) -> None:
    set_flag(store=world, ref=HUB, flag=Flag.BOT, on=True, now=T, actor="ann")
    r = run(capsys, "audit", "--db", world.url, "--person", HUB)
    assert r.code == 0 and "ann  flag  person:" in r.out and 'flag="bot"' in r.out
    r = run(capsys, "audit", "--db", world.url, "--json", "--since", T.isoformat())
    assert r.code == 0 and '"action": "flag"' in r.out and '"import"' not in r.out
    r = run(capsys, "audit", "--db", world.url, "--person", "nobody@example.org")
    assert r.code == 1 and "no person" in r.err
    r = run(capsys, "audit", "--db", world.url, "--since", "yesterday-ish")
    assert r.code == 1 and "--since" in r.err


def test_the_audit_of_an_erasure_holds_no_personal_data(world: Store) -> None:
    erasure = pytest.importorskip("karmabank.actions.erasure")
    record_activity(store=world, direction=Direction.IN, ref=HUB, verb="comment", at=T, now=T,
                    text="Hub Host writes", actor="ann")  # fmt: skip
    set_opt_out(store=world, ref=HUB, channel="email", on=True, now=T, actor="ann")
    erasure.erase_person(store=world, ref=HUB, now=T, actor="ann", settings=None)
    with world.sessions() as s:
        rows = s.execute(select(AuditLog.actor, AuditLog.subject, AuditLog.details)).all()
    assert any(r.subject.startswith("person:") for r in rows)
    text = repr(rows)
    for personal in ("Hub Host", "hub@example.org", "hub"):
        assert personal not in text
