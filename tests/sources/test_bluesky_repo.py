"""The `bluesky-repo` importer on the real repository CAR in ../shared/data/formats/ (checked
against its expected decoding, snarfed2.json) and on a written fixture of every record kind
(tests/sources/fixtures/bluesky-repo/org.car, written by tests/sources/bluesky_car.py)."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from karmabank.actions.importing import import_files
from karmabank.errors import ConfigError, InputFileError
from karmabank.model import IdentityKey, to_micros
from karmabank.sources.base import (
    BadRow,
    InputFile,
    OrgContentRow,
    OrgIdentityRow,
    ParsedRow,
    SkippedRow,
    SourceItem,
)
from karmabank.sources.bluesky_repo import SELF, BlueskyRepoSource
from karmabank.store.open import Store, open_store
from karmabank.store.org_tables import OrgContent
from karmabank.store.tables import Activity, Identity, OrgIdentity
from tests.conftest import require_data
from tests.sources.bluesky_car import ADA, BO, CY, DROPPED, OWNER, car_bytes, org_car, org_records

FIXTURE = Path(__file__).parent / "fixtures" / "bluesky-repo" / "org.car"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
SNARFED = IdentityKey("bluesky", "did:plc:5zspv27pk4iqtrl2ql2nykjh")


def read(path: Path) -> list[SourceItem]:
    with InputFile(path) as f:
        return list(BlueskyRepoSource({}).read(f))


def kinds(items: list[SourceItem]) -> Counter[str]:
    out: Counter[str] = Counter()
    for item in items:
        if isinstance(item, ParsedRow):
            out[f"{item.verb} {item.direction}"] += 1
        elif isinstance(item, SkippedRow | BadRow):
            out[f"{type(item).__name__}: {item.reason}"] += 1
        else:
            out[type(item).__name__] += 1
    return out


def us(text: str) -> int:
    return to_micros(datetime.fromisoformat(text))


def test_the_real_repository_matches_its_expected_decoding() -> None:
    folder = require_data("formats", "bluesky-repo")
    items = read(folder / "snarfed2.car")
    assert kinds(items) == {
        "OrgIdentityRow": 1,
        "like give": 1,
        "follow give": 2,
        "SkippedRow: app.bsky.actor.profile records are not activities": 1,
        "SkippedRow: chat.bsky.actor.declaration records are not activities": 1,
    }
    assert items[0] == OrgIdentityRow(1, SNARFED)
    expected = json.loads((folder / "snarfed2.json").read_text())
    rows = {i.source_key: i for i in items if isinstance(i, ParsedRow)}
    for collection, verb in (("app.bsky.feed.like", "like"), ("app.bsky.graph.follow", "follow")):
        for rkey, record in expected[collection].items():
            row = rows.pop(f"bluesky-repo:at://{SNARFED.key}/{collection}/{rkey}")
            subject = record["subject"]
            did = subject if isinstance(subject, str) else subject["uri"].split("/")[2]
            assert (row.person, row.verb, row.direction, row.channel) == (
                IdentityKey("bluesky", did), verb, "give", "bluesky",
            )  # fmt: skip
            assert row.occurred_at == us(record["createdAt"])
            assert row.object == (None if isinstance(subject, str) else subject["uri"])
    assert rows == {}


def test_the_real_repository_into_sqlite_twice_imports_nothing_twice(tmp_path: Path) -> None:
    car = require_data("formats", "bluesky-repo", "snarfed2.car")
    with open_store(str(tmp_path / "k.db"), create=True) as store:
        first = import_files(store=store, fmt="bluesky-repo", paths=[car], options={}, now=NOW)
        again = import_files(store=store, fmt="bluesky-repo", paths=[car], options={}, now=NOW)
        assert (first.imported, first.skipped, first.quarantined) == (3, 2, 0)
        assert first.org_identities == (str(SNARFED),)
        assert (again.imported, again.duplicates, again.skipped) == (0, 3, 2)
        with store.sessions() as s:
            assert s.scalars(select(Activity.direction)).all() == ["give"] * 3
            keys = s.scalars(select(Identity.key).where(Identity.platform == "bluesky")).all()
            assert sorted(keys) == [  # the people acted on; the owner is the organization's
                "did:plc:bg5udl25mvzg3rt7l5n2hzet", "did:plc:xbifsywyv5pka5jlknhv5yv3",
                "did:plc:z72i7hdynmk6r22z27h6tvur",
            ]  # fmt: skip
            assert s.scalars(select(OrgIdentity.key)).all() == [SNARFED.key]


def test_the_fixture_is_what_the_writer_writes() -> None:
    assert FIXTURE.read_bytes() == org_car()


def test_every_record_kind_of_the_fixture() -> None:
    items = read(FIXTURE)
    assert kinds(items) == {
        "OrgIdentityRow": 1,
        "OrgContentRow": 4,
        "reply give": 1,
        "feature give": 1,
        "share give": 2,
        "like give": 1,
        "follow give": 1,
        f"SkippedRow: {SELF}": 1,
        "SkippedRow: app.bsky.actor.profile records are not activities": 1,
        "SkippedRow: app.bsky.graph.block records are not activities": 1,
        "BadRow: a record without `createdAt`": 1,
        "BadRow: the record's block is not in the file": 1,
        "BadRow: a follow whose subject is no DID": 1,
    }
    assert items[0] == OrgIdentityRow(1, IdentityKey("bluesky", OWNER))
    base = f"bluesky-repo:at://{OWNER}"
    rows = {i.source_key: i for i in items if isinstance(i, ParsedRow)}
    reply = rows[f"{base}/app.bsky.feed.post/3kaaaaaaaaa2b#reply"]
    assert (reply.person.key, reply.verb, reply.direction) == (ADA, "reply", "give")
    assert reply.object == f"at://{ADA}/app.bsky.feed.post/3kadaaaaaaa2a"
    assert reply.text == "Thank you Ada! And hi @bo"
    assert reply.occurred_at == us("2026-03-02T12:00:00+00:00")
    # the replied-to author is mentioned too: one reply, no feature for her
    feature = rows[f"{base}/app.bsky.feed.post/3kaaaaaaaaa2b#mention:{BO}"]
    assert (feature.person.key, feature.verb) == (BO, "feature")
    assert feature.object == f"at://{OWNER}/app.bsky.feed.post/3kaaaaaaaaa2b"
    quote = rows[f"{base}/app.bsky.feed.post/3kaaaaaaaaa2c#quote"]
    assert (quote.person.key, quote.verb, quote.object) == (
        CY, "share", f"at://{CY}/app.bsky.feed.post/3kcyaaaaaaa2a",
    )  # fmt: skip
    repost = rows[f"{base}/app.bsky.feed.repost/3kaaaaaaaaa2e"]
    assert (repost.person.key, repost.verb) == (ADA, "share")
    follow = rows[f"{base}/app.bsky.graph.follow/3kaaaaaaaaa2j"]
    assert (follow.person.key, follow.verb, follow.object) == (CY, "follow", None)
    assert all(r.channel == "bluesky" and r.direction == "give" for r in rows.values())
    content = [i for i in items if isinstance(i, OrgContentRow)]
    assert [c.object.rsplit("/", 1)[1] for c in content] == [
        "3kaaaaaaaaa2a", "3kaaaaaaaaa2b", "3kaaaaaaaaa2c", "3kaaaaaaaaa2d",
    ]  # fmt: skip
    assert content[0].text == "Spring cleanup at the river on Saturday"
    assert content[0].source_key == f"{base}/app.bsky.feed.post/3kaaaaaaaaa2a"


def test_lines_are_record_numbers_in_key_order() -> None:
    items = read(FIXTURE)
    keys = sorted(k for k, _ in org_records())
    bad = {i.line: i.reason for i in items if isinstance(i, BadRow)}
    dropped = keys.index(next(iter(DROPPED))) + 2
    assert bad[dropped] == "the record's block is not in the file"
    profile = keys.index("app.bsky.actor.profile/self") + 2
    assert any(isinstance(i, SkippedRow) and i.line == profile for i in items)


def test_the_fixture_imported_with_its_content_and_a_rerun_on_both_backends(store: Store) -> None:
    first = import_files(store=store, fmt="bluesky-repo", paths=[FIXTURE], options={}, now=NOW)
    again = import_files(store=store, fmt="bluesky-repo", paths=[FIXTURE], options={}, now=NOW)
    assert (first.imported, first.skipped, first.quarantined) == (10, 3, 3)
    assert first.org_content == 4
    assert (again.imported, again.duplicates, again.quarantined) == (0, 10, 3)
    with store.sessions() as s:
        assert len(s.scalars(select(OrgContent.id)).all()) == 4
        gives = s.execute(
            select(Identity.key, Activity.verb)
            .join(Identity, Identity.person_id == Activity.person_id)
            .where(Activity.direction == "give")
            .order_by(Identity.key, Activity.verb)
        ).all()
        assert [tuple(g) for g in gives] == [
            (ADA, "reply"), (ADA, "share"), (BO, "feature"), (BO, "like"), (CY, "follow"),
            (CY, "share"),
        ]  # fmt: skip


def test_a_larger_later_export_imports_only_the_new_records(tmp_path: Path) -> None:
    older, newer = tmp_path / "older.car", tmp_path / "newer.car"
    like = "app.bsky.feed.like"
    records = [(f"{like}/3k{i:011d}", {"$type": like, "createdAt": f"2026-01-{i + 1:02d}T00:00:00Z",
                "subject": {"uri": f"at://{BO}/app.bsky.feed.post/{i}", "cid": "x"}})
               for i in range(20)]  # fmt: skip
    older.write_bytes(car_bytes(records[:12], fanout=3))
    newer.write_bytes(car_bytes(records, fanout=5))
    with open_store(str(tmp_path / "k.db"), create=True) as store:
        first = import_files(store=store, fmt="bluesky-repo", paths=[older], options={}, now=NOW)
        second = import_files(store=store, fmt="bluesky-repo", paths=[newer], options={}, now=NOW)
    assert (first.imported, second.imported, second.duplicates) == (12, 8, 12)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "not a CAR file"),
        (b"Email Address,First Name\n", "not a CAR file"),
        (b'{"orderedItems": []}', "this looks like"),
    ],
)
def test_what_is_no_car_is_one_clear_error(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "repo.car"
    path.write_bytes(content)
    with pytest.raises(InputFileError) as e:
        read(path)
    assert str(e.value).startswith(f"{path}: not a Bluesky repository")
    assert problem in str(e.value) and "\n" not in str(e.value)


def test_a_broken_tree_or_commit_is_an_error_before_any_row(tmp_path: Path) -> None:
    path = tmp_path / "repo.car"
    whole = org_car()
    path.write_bytes(whole[: len(whole) - 40])  # the last block cut short
    with pytest.raises(InputFileError, match="not a Bluesky repository: not a CAR file"):
        read(path)
    path.write_bytes(car_bytes(org_records(), commit={"hello": "world"}))
    with pytest.raises(InputFileError, match="not a repository commit"):
        read(path)
    path.write_bytes(car_bytes(org_records(), commit={"did": "nobody", "data": b"\x01"}))
    with pytest.raises(InputFileError, match="names no DID"):
        read(path)
    path.write_bytes(car_bytes(org_records(), commit={"did": OWNER, "data": b"\x01q\x12 x"}))
    with pytest.raises(InputFileError, match="tree node .* is not in the file"):
        read(path)


def test_a_gzipped_car_reads_the_same_and_a_damaged_gzip_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "repo.car.gz"
    packed = gzip.compress(FIXTURE.read_bytes())
    path.write_bytes(packed)
    assert read(path) == read(FIXTURE)
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(InputFileError, match="a damaged gzip file"):
        read(path)


def test_unknown_options_are_refused() -> None:
    with pytest.raises(ConfigError, match="does not take --org"):
        BlueskyRepoSource({"org": "x"})
