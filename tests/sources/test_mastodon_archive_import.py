"""The `mastodon-archive` and `activitystreams` importers through the real command line into a
real database (SQLite and PostgreSQL): exact counts, the owner added as the organization's
identity, its statuses stored as its content, gives attributed row by row, re-runs and the
other importer on the same outbox importing nothing twice."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from karmabank.store.open import open_store
from karmabank.store.org_tables import OrgContent
from karmabank.store.tables import Activity, Identity, OrgIdentity
from tests.cli_helpers import run
from tests.conftest import require_data

LIKES = "a like without a time (likes.json lists only the liked statuses' URIs)"
SKIPS = {
    "a direct message (imported with --include-direct)": 9,
    "a followers-only post (not public content) that replies to or mentions no one": 24,
}


def _import(capsys: pytest.CaptureFixture[str], db: str, *args: str) -> dict[str, object]:
    r = run(capsys, "import", *args, "--db", db, "--json")
    assert r.code == 0, r.err
    report: dict[str, object] = json.loads(r.out)
    return report


def test_the_real_archive_imported_once_whatever_the_form(
    capsys: pytest.CaptureFixture[str], db_url: str, tmp_path: Path
) -> None:
    folder = require_data("formats", "mastodon-archive")
    first = _import(capsys, db_url, "mastodon-archive", str(folder))
    assert {k: first[k] for k in ("imported", "duplicates", "skipped", "quarantined")} == {
        "imported": 1465,
        "duplicates": 0,
        "skipped": 531,
        "quarantined": 0,
    }  # fmt: skip  (1,392 statuses + 51 share, 13 feature, 9 reply gives)
    assert first["organization"] == {
        "identities_added": ["mastodon:@purplerain@o3o.ca"], "content": 1392, "opt_outs": 0,
    }  # fmt: skip
    archive = tmp_path / "archive.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for name in ("actor.json", "outbox.json", "likes.json"):
            z.write(folder / name, name)
    again = _import(capsys, db_url, "mastodon-archive", str(archive))
    assert (again["imported"], again["duplicates"], again["skipped"]) == (0, 1465, 531)
    plain = _import(capsys, db_url, "activitystreams", str(folder / "outbox.json"))
    assert (plain["imported"], plain["duplicates"], plain["skipped"]) == (0, 1465, 33)
    direct = _import(capsys, db_url, "mastodon-archive", str(folder), "--include-direct")
    assert (direct["imported"], direct["duplicates"]) == (2, 1465)

    with open_store(db_url) as store, store.sessions() as s:
        assert s.scalars(select(OrgIdentity.key)).all() == ["@purplerain@o3o.ca"]
        assert s.scalar(select(func.count()).select_from(OrgContent)) == 1392
        grouped = s.execute(
            select(Activity.verb, Activity.direction, func.count())
            .group_by(Activity.verb, Activity.direction)
        ).all()  # fmt: skip
        counts = {f"{verb} {direction}": n for verb, direction, n in grouped}
        assert counts == {"share give": 51, "feature give": 13, "reply give": 9, "mention give": 2}
        assert s.scalar(select(func.count()).where(Identity.key == "@purplerain@o3o.ca")) == 0
        key = "as2:https://o3o.ca/users/purplerain/statuses/107595853330808041/activity#reply"
        reply = s.execute(
            select(Activity.verb, Activity.direction, Activity.channel, Identity.key)
            .join(Identity, Identity.person_id == Activity.person_id)
            .where(Activity.source_key == key)
        ).one()  # fmt: skip
        assert tuple(reply) == ("reply", "give", "mastodon", "@sweetdaysandherlastkiss@me.ns.ci")


def test_skip_reasons_are_reported(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = str(tmp_path / "k.db")
    folder = require_data("formats", "mastodon-archive")
    r = run(capsys, "import", "mastodon-archive", str(folder), "--db", db)
    assert r.code == 0, r.err
    for reason, n in {**SKIPS, LIKES: 498}.items():
        assert f"skipped {n}: {reason}" in r.out


def test_a_broken_outbox_stores_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = str(tmp_path / "k.db")
    fixtures = Path(__file__).parent / "fixtures" / "mastodon-archive"
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "outbox.json").write_bytes((fixtures / "broken-outbox.json").read_bytes())
    (folder / "actor.json").write_bytes((fixtures / "quirks" / "actor.json").read_bytes())
    r = run(capsys, "import", "mastodon-archive", str(folder), "--db", db)
    assert r.code == 1
    assert "outbox.json: line 60: not valid JSON (parse error: premature EOF)" in r.err
    assert "Traceback" not in r.err and len(r.err.strip().splitlines()) == 1
    with open_store(db) as store, store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OrgContent)) == 0
        assert s.scalar(select(func.count()).select_from(OrgIdentity)) == 0
