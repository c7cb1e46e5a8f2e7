"""Erasure (issue 18 item 3), on SQLite and PostgreSQL: erase a person, re-import the same files
and nothing of theirs comes back; no table, no file of the columnar copy or the snapshot, no
byte of the SQLite file holds their email or name; others' scores are those of a network they
were never in; campaign counts stay."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select, text

from karmabank.actions.campaigns import list_campaigns, show_campaign
from karmabank.actions.charts import network_charts, person_rhythm_svg
from karmabank.actions.erasure import erase_person
from karmabank.actions.import_preview import preview_files
from karmabank.actions.importing import import_files
from karmabank.actions.organization import ensure_organization
from karmabank.actions.scoring import rescore
from karmabank.errors import NotFoundError
from karmabank.measures.settings import MeasureSettings
from karmabank.store.erasures import ErasedIdentity
from karmabank.store.open import Store
from karmabank.store.tables import Ask, AuditLog, Base, Campaign, Person, PersonScore
from tests.conftest import NOW

SECRET = ("ada@example.org", "Ada Lovelace", "@ada@social.example")
HEADER = "occurred_at,person,name,verb,direction,target,text,also\n"
ROWS = (
    "2026-05-01,ada@example.org,Ada Lovelace,comment,in,,Rivers need friends,"
    "mastodon:@ada@social.example\n"
    "2026-05-02,bob@example.org,Bob Stone,comment,in,,I agree with Ada Lovelace,\n"
    "2026-05-03,carol@example.org,Carol Reed,comment,in,,Lovely day,\n"
    "2026-05-04,bob@example.org,Bob Stone,reply,peer,ada@example.org,to ada@example.org,\n"
    "2026-05-05,mastodon:@ada@social.example,Ada Lovelace,mention,peer,carol@example.org,hi,\n"
    "2026-05-06,carol@example.org,Carol Reed,reply,peer,bob@example.org,yes,\n"
    "2026-05-07,bob@example.org,Bob Stone,share,in,,,\n"
    "not-a-date,ada@example.org,Ada Lovelace,like,in,,,\n"  # quarantined, with her email
)


def _files(tmp_path: Path, *, with_ada: bool = True) -> list[Path]:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    f = folder / ("a.csv" if with_ada else "without.csv")
    rows = ROWS if with_ada else "".join(r for r in ROWS.splitlines(True) if "ada" not in r)
    f.write_text(HEADER + rows)
    return [f]


def _with_an_ask(store: Store, email: str) -> None:
    with store.sessions.begin() as s:
        ensure_organization(s, now=NOW)
        pid = s.execute(
            text("SELECT person_id FROM identity WHERE key = :k"), {"k": email}
        ).scalar()
        c = Campaign(name="Clean the river", action="share", budget=3, created_at=NOW)
        s.add(c)
        s.flush()
        s.add(Ask(campaign_id=c.id, person_id=pid, status="sent", planned_at=NOW, sent_at=NOW,
                  reason="Ada Lovelace is warm", draft="Dear Ada Lovelace, ..."))  # fmt: skip


def found_in_tables(store: Store, secrets: tuple[str, ...] = SECRET) -> list[str]:
    """Any of `secrets` in any column of any row of any table (each row as text)."""
    hits = []
    with store.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                shown = " ".join(str(v) for v in row).casefold()
                hits += [f"{table.name}: {s}" for s in secrets if s.casefold() in shown]
    return hits


def _found_in_files(folders: list[Path], person_id: int) -> list[str]:
    """Her email or name in any file's bytes (the SQLite file and its log included), her id in
    a person column of any Parquet file (the columnar copy holds ids, not names) or in the name
    of a cached chart (`charts-<token>-person.<id>.svg`, her rhythm strip)."""
    hits = []
    for folder in folders:
        for f in (p for p in folder.rglob("*") if p.is_file() and p.parent.name != "in"):
            if f".person.{person_id}." in f.name or f"-person.{person_id}." in f.name:
                hits.append(f"{f}: her chart")
            data = f.read_bytes().lower()
            hits += [f"{f}: {s}" for s in SECRET if s.casefold().encode() in data]
            if f.suffix == ".parquet":
                table = pq.read_table(f)
                for column in {"person_id", "target_id"} & set(table.column_names):
                    if person_id in table.column(column).to_pylist():
                        hits.append(f"{f}: {column} {person_id}")
    return hits


def _scores(store: Store) -> dict[str | None, tuple[float, int]]:
    with store.sessions() as s:
        rows = s.execute(select(Person.name, PersonScore.warmth, PersonScore.tenure_days)
                         .join(PersonScore, PersonScore.person_id == Person.id))  # fmt: skip
        return {name: (warmth, tenure) for name, warmth, tenure in rows}


def test_an_erased_person_leaves_nothing_and_never_comes_back(store: Store, tmp_path: Path) -> None:
    settings = MeasureSettings()
    files = _files(tmp_path)
    first = import_files(store=store, fmt="csv", paths=files, options={}, now=NOW)
    assert first.quarantined == 1
    _with_an_ask(store, "ada@example.org")
    funnel = show_campaign(store=store, name="Clean the river").funnel
    assert funnel["planned"] == funnel["sent"] == 1
    rescore(store=store, now=NOW, settings=settings)
    folders = [store.columns_dir] + ([tmp_path] if store.url.startswith("sqlite") else [])
    with store.sessions() as s:
        ada = s.execute(text("SELECT person_id FROM identity WHERE key = 'ada@example.org'"))
        ada_id = int(ada.scalar_one())
    network_charts(store=store, now=NOW, settings=settings)  # the chart cache, her strip too
    assert "<svg" in person_rhythm_svg(store=store, person_id=ada_id, now=NOW, settings=settings)
    assert found_in_tables(store) and _found_in_files(folders, ada_id)  # the test can fail
    assert any("her chart" in hit for hit in _found_in_files(folders, ada_id))

    done = erase_person(store=store, ref="ada@example.org", now=NOW, actor="cli",
                        settings=settings)  # fmt: skip
    assert done.tombstones == 2 and done.rescored
    assert done.removed["activity"] == 3 and done.removed["identity"] == 2
    dry = preview_files(store=store, fmt="csv", paths=files, options={})  # --dry-run: the same
    assert (dry.skip_reasons, dry.imported, dry.quarantined) == ({"erased": 4}, 0, 0)
    again = import_files(store=store, fmt="csv", paths=files, options={}, now=NOW)
    assert again.skip_reasons == {"erased": 4}  # hers, Bob's reply to her, her bad row
    assert again.imported == 0 and again.quarantined == 0

    assert found_in_tables(store) == []
    assert _found_in_files(folders, ada_id) == []
    with store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ErasedIdentity)) == 2
        husk = s.scalar(select(Person).where(Person.erased))
        assert husk is not None and husk.name is None and husk.identities == []
        ask = s.scalar(select(Ask))  # the campaign still counts one ask sent
        assert ask is not None and ask.status == "sent" and ask.draft is None
        audit = s.scalar(select(AuditLog).where(AuditLog.action == "erase"))
        assert audit is not None and audit.subject == f"person:{husk.id}"
        details = json.loads(audit.details or "")  # counts only
        assert set(details) == {"tombstones", "removed", "mentions_rewritten"}
        assert details["tombstones"] == 2 and details["removed"]["activity"] == 3
        assert all(isinstance(n, int) for n in details["removed"].values())
        assert all(isinstance(n, int) for n in details["mentions_rewritten"].values())
        bob = s.scalar(select(Person).where(Person.name == "Bob Stone"))
        assert bob is not None
        assert s.execute(text("SELECT count(*) FROM activity WHERE text LIKE '%[erased]%'")
                         ).scalar() == 1  # fmt: skip

    assert show_campaign(store=store, name="Clean the river").funnel == funnel
    assert [c.funnel for c in list_campaigns(store=store)] == [funnel]

    # only the others keep scores; she cannot be erased twice (nobody has her identities)
    assert set(_scores(store)) == {"Bob Stone", "Carol Reed"}
    with pytest.raises(NotFoundError):
        erase_person(store=store, ref="ada@example.org", now=NOW, actor="cli", settings=None)


def test_others_scores_are_those_of_a_network_without_her(store: Store, tmp_path: Path) -> None:
    settings = MeasureSettings()
    import_files(store=store, fmt="csv", paths=_files(tmp_path), options={}, now=NOW)
    erase_person(store=store, ref="Ada Lovelace", now=NOW, actor="cli", settings=settings)
    erased = _scores(store)
    with store.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name != "alembic_version":
                conn.execute(table.delete())
    import_files(store=store, fmt="csv", paths=_files(tmp_path, with_ada=False), options={},
                 now=NOW)  # fmt: skip
    rescore(store=store, now=NOW, settings=settings)
    warmth = {k: v[0] for k, v in erased.items()}
    assert warmth == {k: v[0] for k, v in _scores(store).items()}


def test_erasing_nobody_is_an_error(store: Store) -> None:
    with pytest.raises(NotFoundError):
        erase_person(store=store, ref="nobody@example.org", now=NOW, actor="cli", settings=None)
