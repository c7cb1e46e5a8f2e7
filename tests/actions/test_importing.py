"""Imports on a real SQLite file and a real PostgreSQL: counts, quarantine, idempotence."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from karmabank.actions.importing import import_files
from karmabank.actions.people import set_flag
from karmabank.model import Flag
from karmabank.store.open import Store
from karmabank.store.tables import (
    Activity,
    AuditLog,
    Identity,
    ImportRun,
    OrgIdentity,
    Person,
    Quarantine,
)
from tests.conftest import NOW

CSV = (
    "occurred_at,person,name,verb,direction,channel,object,text,target\n"
    "2026-05-01T10:00:00Z,Ada@Example.org,Ada Lovelace,comment,in,blog,https://org.example/p/1,Lovely!,\n"
    "2026-05-02T10:00:00Z,ada@example.org,,thank,give,email,,,\n"
    "yesterday,ada@example.org,,like,in,,,,\n"
    "2026-05-03T10:00:00Z,mastodon:@Bob@Social.Example,Bob,reply,peer,mastodon,,hi,ada@example.org\n"
    "2026-05-04T10:00:00Z,bob,,like,in,,,,\n"
    "2026-05-05T10:00:00Z,carol@example.org,Carol,ask,ask,email,Spring cleanup,,\n"
)


def count(store: Store, model: type) -> int:
    with store.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_csv_import_quarantines_bad_rows_and_is_idempotent(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "acts.csv"
    f.write_text(CSV)
    r1 = import_files(store=store, fmt="csv", paths=[f], options={}, now=NOW)
    assert r1.as_json() == {
        "imported": 4, "duplicates": 0, "skipped": 0, "quarantined": 2,
        "errors": [
            {"file": str(f), "line": 4, "reason": "unparseable time 'yesterday' (use ISO-8601 or unix seconds)"},
            {"file": str(f), "line": 6, "reason": "person: cannot tell the platform of 'bob': write it "
             "as platform:key (platforms: bluesky, email, event, github, linkedin, mastodon, other, phone, web, x)"},
        ],
    }  # fmt: skip
    assert count(store, Person) == 3 and count(store, Identity) == 3
    with store.sessions() as s:
        q = s.scalars(select(Quarantine).order_by(Quarantine.line)).all()
        assert [(x.file, x.line, x.raw) for x in q] == [
            (str(f.resolve()), 4, "yesterday,ada@example.org,,like,in,,,,"),
            (str(f.resolve()), 6, "2026-05-04T10:00:00Z,bob,,like,in,,,,"),
        ]
        ada = s.scalar(select(Person).join(Identity).where(Identity.key == "ada@example.org"))
        assert ada is not None and ada.name == "Ada Lovelace"
        peer = s.scalar(select(Activity).where(Activity.direction == "peer"))
        assert peer is not None and peer.target_id == ada.id
        run = s.get(ImportRun, r1.run_id)
        assert run is not None and (run.status, run.rows_read, run.imported, run.quarantined) == (
            "done",
            6,
            4,
            2,
        )
        assert s.scalar(select(AuditLog).where(AuditLog.action == "import")) is not None

    r2 = import_files(store=store, fmt="csv", paths=[f], options={}, now=NOW)
    assert (r2.imported, r2.duplicates, r2.skipped, r2.quarantined) == (0, 4, 0, 2)
    assert count(store, Activity) == 4
    assert count(store, Quarantine) == 2  # the same bad rows are not stored twice


def test_manual_name_and_flags_survive_imports(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "a.csv"
    f.write_text("occurred_at,person,name,verb,direction\n2026-05-01,ada@example.org,Ada,like,in\n")
    import_files(store=store, fmt="csv", paths=[f], options={}, now=NOW)
    with store.sessions.begin() as s:
        p = s.scalar(select(Person))
        assert p is not None
        p.name, p.name_manual = "Ada L. (board)", True
    set_flag(
        store=store, ref="ada@example.org", flag=Flag.DO_NOT_CONTACT, on=True, now=NOW, actor="t"
    )
    g = tmp_path / "b.csv"
    g.write_text(
        "occurred_at,person,name,verb,direction\n2026-05-02,ada@example.org,ADA,comment,in\n"
    )
    import_files(store=store, fmt="csv", paths=[g], options={}, now=NOW)
    with store.sessions() as s:
        p = s.scalar(select(Person))
        assert p is not None and (p.name, p.do_not_contact) == ("Ada L. (board)", True)
    # a name that nobody typed follows the newest import
    h = tmp_path / "c.csv"
    h.write_text(
        "occurred_at,person,name,verb,direction\n2026-05-02,bob@example.org,Bob,like,in\n"
        "2026-05-03,bob@example.org,Robert,like,in\n"
    )
    import_files(store=store, fmt="csv", paths=[h], options={}, now=NOW)
    with store.sessions() as s:
        bob = s.scalar(select(Person).where(Person.name.in_(["Bob", "Robert"])))
        assert bob is not None and bob.name == "Robert"


def test_erased_people_are_never_reimported(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "a.csv"
    f.write_text("occurred_at,person,verb,direction\n2026-05-01,ada@example.org,like,in\n")
    import_files(store=store, fmt="csv", paths=[f], options={}, now=NOW)
    with store.sessions.begin() as s:
        p = s.scalar(select(Person))
        assert p is not None
        p.erased = True
    g = tmp_path / "b.csv"
    g.write_text("occurred_at,person,verb,direction\n2026-05-02,ada@example.org,comment,in\n")
    r = import_files(store=store, fmt="csv", paths=[g], options={}, now=NOW)
    assert (r.imported, r.skipped, r.skip_reasons) == (0, 1, {"erased": 1})


def test_edgelist_org_directions_in_the_store(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "e.txt"
    f.write_text("5 88 1341100972 RT\n88 7 1341100973 RE\n5 7 1341100974 MT\n7 7 1341100975 RT\n"
                 "bad line\n")  # fmt: skip
    r = import_files(
        store=store, fmt="edgelist", paths=[f], options={"org": "88", "verb_map": "RT=share,MT=mention,RE=reply"},
        now=NOW,
    )  # fmt: skip
    assert (r.imported, r.duplicates, r.skipped, r.quarantined) == (3, 0, 1, 1)
    assert r.errors[0].line == 5
    with store.sessions() as s:
        rows = s.execute(
            select(Activity.direction, Activity.verb, Identity.key)
            .join(Identity, Identity.person_id == Activity.person_id)
            .order_by(Activity.occurred_at)
        ).all()
        assert [tuple(x) for x in rows] == [
            ("in", "share", "5"),
            ("give", "reply", "7"),
            ("peer", "mention", "5"),
        ]
        assert s.scalar(select(OrgIdentity.key)) == "88"
        assert s.scalar(select(func.count()).select_from(Identity).where(Identity.key == "88")) == 0
        run = s.get(ImportRun, r.run_id)
        assert run is not None and json.loads(run.options) == {
            "org": "88",
            "verb_map": "RT=share,MT=mention,RE=reply",
        }


def test_small_batches_give_the_same_result(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "e.txt"
    f.write_text("".join(f"{i % 7} {(i * 3) % 11 + 20} {1341100000 + i}\n" for i in range(200)))
    r = import_files(
        store=store, fmt="edgelist", paths=[f], options={"org": "0"}, now=NOW, batch_size=7
    )
    assert r.imported == 200 and r.rows_read == 200
    assert count(store, Activity) == 200
    assert count(store, Person) == 6 + 11


def test_a_missing_second_file_fails_before_anything_is_written(
    store: Store, tmp_path: Path
) -> None:
    import pytest

    from karmabank.errors import InputFileError

    f = tmp_path / "a.csv"
    f.write_text("occurred_at,person,verb,direction\n2026-05-01,ada@example.org,like,in\n")
    with pytest.raises(InputFileError, match="no such file"):
        import_files(
            store=store, fmt="csv", paths=[f, tmp_path / "missing.csv"], options={}, now=NOW
        )
    assert count(store, Activity) == 0 and count(store, ImportRun) == 0
