"""Names are compared by their key (`karmabank.names.name_key`) on both backends: migration 0008
fills it for the rows already stored, and every write of a name keeps it: the importers' bulk
writes (new people, names seen again), `record`, issue add and campaign new."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select, text

from karmabank.actions.campaigns import new_campaign, show_campaign
from karmabank.actions.importing import import_files
from karmabank.actions.issues import add_issue, find_issue
from karmabank.actions.people import find_person
from karmabank.actions.recording import record_activity
from karmabank.errors import ConfigError
from karmabank.model import Direction
from karmabank.names import like_pattern, name_key
from karmabank.store import migrate
from karmabank.store.engine import make_engine
from karmabank.store.open import Store, open_store
from karmabank.store.tables import Campaign, Issue, Person
from tests.conftest import NOW, PgDatabases


def test_the_key_folds_case_and_unicode_forms_and_keeps_accents() -> None:
    assert name_key("  Émile   ZOLA ") == "émile zola"
    assert name_key("E\u0301mile") == name_key("Émile")  # a combining accent: NFKC composes it
    assert name_key("STRASSE") == name_key("Straße") == "strasse"
    assert name_key("ＡＢＣ ﬁ") == "abc fi"  # full-width letters, a ligature
    assert name_key("Emile") != name_key("Émile")
    assert name_key(None) is None and name_key("   ") is None
    assert like_pattern("50%_\\") == "%50\\%\\_\\\\%"


def test_the_ascii_fast_path_gives_the_general_rule_s_key() -> None:
    import unicodedata

    for c in map(chr, range(128)):
        text = f"A{c}b  {c}Z"
        general = " ".join(unicodedata.normalize("NFKC", text).casefold().split()) or None
        assert name_key(text) == general, repr(c)


def _old_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.node.callspec.params["backend"] == "sqlite":
        return str(tmp_path / "old.db")
    dbs: PgDatabases = request.getfixturevalue("pg_databases")
    return dbs.fresh(migrated=False)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migration_0008_fills_the_keys_of_stored_names(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    db = _old_database(request, tmp_path)
    engine = make_engine(db)
    try:
        command.upgrade(migrate.alembic_config(engine), "0007")
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO person (id, name, name_manual, team, bot, do_not_contact,"
                     " erased, created_at) VALUES (:id, :name, false, false, false, false,"
                     " false, 0)"),
                [{"id": 1, "name": "ÉMILE Zola"}, {"id": 2, "name": None}],
            )  # fmt: skip
            conn.execute(text("INSERT INTO issue (id, name, description, keywords, created_at)"
                              " VALUES (1, 'Été propre', '', '[\"river\"]', 0)"))  # fmt: skip
            conn.execute(text("INSERT INTO campaign (id, name, action, budget, created_at)"
                              " VALUES (1, 'Grand Ménage', 'share', 3, 0)"))  # fmt: skip
        command.upgrade(migrate.alembic_config(engine), "head")
        with engine.connect() as conn:
            keys = {
                table: conn.execute(text(f"SELECT id, name_key FROM {table} ORDER BY id")).all()
                for table in ("person", "issue", "campaign")
            }
    finally:
        engine.dispose()
    assert keys == {
        "person": [(1, "émile zola"), (2, None)],
        "issue": [(1, "été propre")],
        "campaign": [(1, "grand ménage")],
    }
    with open_store(db) as store, store.sessions() as session:
        assert find_person(session, "émile ZOLA").id == 1
    with open_store(db) as store:
        assert find_issue(store=store, ref="ÉTÉ PROPRE").id == 1


def test_every_write_of_a_name_keeps_its_key(store: Store, tmp_path: Path) -> None:
    csv = tmp_path / "a.csv"
    csv.write_text(
        "occurred_at,person,name,verb,direction\n"
        "2026-05-01T10:00:00Z,emile@example.org,ÉMILE Zola,comment,in\n"
        "2026-05-01T11:00:00Z,ada@example.org,Ada,comment,in\n",
        encoding="utf-8",
    )
    import_files(store=store, fmt="csv", paths=[csv], options={}, now=NOW)
    again = tmp_path / "b.csv"  # a name seen again, changed: the key follows it
    again.write_text(
        "occurred_at,person,name,verb,direction\n"
        "2026-05-02T10:00:00Z,ada@example.org,ADA Lövelace,comment,in\n",
        encoding="utf-8",
    )
    import_files(store=store, fmt="csv", paths=[again], options={}, now=NOW)
    record_activity(store=store, direction=Direction.IN, ref="email:zoe@example.org",
                    verb="comment", at=NOW, now=NOW, name="Zoë  Ünal")  # fmt: skip
    add_issue(store=store, name="Été propre", keywords=["river"], now=NOW)
    new_campaign(store=store, name="Grand Ménage", action="share", budget=3, now=NOW)
    with store.sessions() as session:
        people = dict(session.execute(select(Person.name, Person.name_key)).all())
        assert people == {"ÉMILE Zola": "émile zola", "ADA Lövelace": "ada lövelace",
                          "Zoë  Ünal": "zoë ünal"}  # fmt: skip
        assert session.scalar(select(Issue.name_key)) == "été propre"
        assert session.scalar(select(Campaign.name_key)) == "grand ménage"
        assert find_person(session, "Émile zola").name == "ÉMILE Zola"
        assert find_person(session, "ada LÖVELACE").name == "ADA Lövelace"
        assert find_person(session, "ZOË ÜNAL").name == "Zoë  Ünal"
    with pytest.raises(ConfigError, match="an issue named 'ÉTÉ PROPRE' already exists"):
        add_issue(store=store, name="ÉTÉ PROPRE", keywords=["x"], now=NOW)
    with pytest.raises(ConfigError, match="a campaign named 'grand ménage' already exists"):
        new_campaign(store=store, name="grand  ménage", action="share", budget=3, now=NOW)
    assert show_campaign(store=store, name="GRAND MÉNAGE").campaign.name == "Grand Ménage"
