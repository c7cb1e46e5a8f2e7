"""The `mastodon-archive` importer on the real archive in ../shared/data/formats/ and on small
fixtures of the quirks (tests/sources/fixtures/mastodon-archive/)."""

from __future__ import annotations

import shutil
import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from karmabank.actions.importing import import_files
from karmabank.errors import InputFileError
from karmabank.model import IdentityKey
from karmabank.sources.base import (
    BadRow,
    InputFile,
    OrgContentRow,
    OrgIdentityRow,
    ParsedRow,
    SkippedRow,
    SourceItem,
)
from karmabank.sources.mastodon_archive import NO_TIME, MastodonArchiveSource
from karmabank.store.open import open_store
from karmabank.store.org_tables import OrgContent
from karmabank.store.tables import Activity, ImportRun, OrgIdentity
from tests.conftest import require_data

FIXTURES = Path(__file__).parent / "fixtures" / "mastodon-archive"
OWNER = IdentityKey("mastodon", "@purplerain@o3o.ca")
ORG = IdentityKey("mastodon", "@org@example.social")
DM = "a direct message (imported with --include-direct)"
FOLLOWERS = "a followers-only post (not public content) that replies to or mentions no one"
NO_AUTHOR = "its status URI does not show the author (not a Mastodon-style path): not guessed"


def read(path: Path, **options: str) -> list[SourceItem]:
    source = MastodonArchiveSource(options)
    with InputFile(source.input_path(path)) as f:
        return list(source.read(f))


def kinds(items: list[SourceItem]) -> Counter[str]:
    out: Counter[str] = Counter()
    for item in items:
        if isinstance(item, ParsedRow):
            out[f"{item.verb} {item.direction}"] += 1
        elif isinstance(item, SkippedRow):
            out[f"skipped: {item.reason}"] += 1
        else:
            out[type(item).__name__] += 1
    return out


REAL = {
    "OrgIdentityRow": 1,
    "OrgContentRow": 1392,
    "share give": 51,
    "feature give": 13,
    "reply give": 9,
    f"skipped: {DM}": 9,
    f"skipped: {FOLLOWERS}": 24,
    f"skipped: {NO_TIME}": 498,
}


def test_the_real_archive_folder_outbox_and_zip_read_the_same(tmp_path: Path) -> None:
    folder = require_data("formats", "mastodon-archive")
    items = read(folder)
    assert kinds(items) == REAL
    assert items[0] == OrgIdentityRow(1, OWNER)
    assert read(folder / "outbox.json") == items
    archive = tmp_path / "archive.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for name in ("actor.json", "outbox.json", "likes.json", "bookmarks.json"):
            z.write(folder / name, f"archive-2024/{name}")
    assert read(archive) == items


def test_the_real_archive_row_by_row() -> None:
    items = read(require_data("formats", "mastodon-archive"))
    rows = {i.source_key: i for i in items if isinstance(i, ParsedRow)}
    status = "https://o3o.ca/users/purplerain/statuses/107595853330808041"
    reply = rows[f"as2:{status}/activity#reply"]
    assert (reply.person, reply.verb, reply.direction, reply.channel, reply.line) == (
        IdentityKey("mastodon", "@sweetdaysandherlastkiss@me.ns.ci"), "reply", "give",
        "mastodon", 41924,  # the line of the activity's "id"
    )  # fmt: skip
    assert reply.object is not None and reply.object.startswith("https://me.ns.ci/users/")
    boost = rows["as2:https://o3o.ca/users/purplerain/statuses/106035745099357195/activity"]
    assert (boost.person, boost.verb, boost.direction) == (
        IdentityKey("mastodon", "@yourshot@acg.mn"), "share", "give",
    )  # fmt: skip
    assert boost.object is not None and boost.object.startswith("https://acg.mn/users/yourshot/")
    assert boost.occurred_at == 1617977067_000000  # 2021-04-09T14:04:27Z
    feature = next(r for r in rows.values() if r.verb == "feature")
    assert feature.source_key.endswith(f"#mention:{feature.person.key}")
    assert all(r.person != OWNER for r in rows.values())
    content = [i for i in items if isinstance(i, OrgContentRow)]
    assert (
        content[0].source_key == "as2:https://o3o.ca/users/purplerain/statuses/105965319060623712"
    )
    assert content[0].object == "https://o3o.ca/@purplerain/105965319060623712"
    assert content[0].text == "滑板每周真是未看其片先闻吐槽"
    assert len({c.source_key for c in content}) == len(content)


def test_direct_messages_only_with_include_direct() -> None:
    items = read(require_data("formats", "mastodon-archive"), include_direct="true")
    expected = dict(REAL)
    del expected[f"skipped: {DM}"]
    expected["mention give"] = 2
    expected["skipped: a direct message that replies to or mentions no one else"] = 7
    assert kinds(items) == expected
    dm = [i for i in items if isinstance(i, ParsedRow) and i.verb == "mention"]
    assert {r.person for r in dm} == {IdentityKey("mastodon", "@ciao@bgme.me")}


QUIRKS = {
    "OrgIdentityRow": 1,
    "OrgContentRow": 5,  # 1, 2 (a reply to ana), 3 (in its own thread), 9, 12 (a poll)
    "feature give": 2,  # ana in 1, bob in 2 (ana is 2's replied-to author: its reply)
    "reply give": 1,
    "share give": 2,  # ana's status, carol's (a /@carol@elsewhere.example/ID URI)
    f"skipped: {FOLLOWERS}": 1,
    f"skipped: {DM}": 1,
    f"skipped: Announce: {NO_AUTHOR}": 1,  # a Misskey /notes/ID URI
    f"skipped: a reply: {NO_AUTHOR}": 1,  # a Pleroma /objects/UUID URI
    "skipped: the organization toward itself": 1,  # a boost of its own status
    f"skipped: {NO_TIME}": 2,
    "BadRow": 1,  # no published time
}


@pytest.mark.parametrize("layout", ["quirks", "full-first"])
def test_duplicate_ordered_items_in_either_order(layout: str) -> None:
    """`orderedItems` twice, the empty one first (quirks) or last (full-first); full-first
    has no actor.json, so the owner comes from the first activity's actor."""
    items = read(FIXTURES / layout)
    expected = dict(QUIRKS)
    if layout == "full-first":
        del expected[f"skipped: {NO_TIME}"]  # no likes.json there
    assert kinds(items) == expected
    assert isinstance(items[0], OrgIdentityRow) and items[0].identity == ORG
    gives = {(i.person.key, i.verb) for i in items if isinstance(i, ParsedRow)}
    assert gives == {
        ("@ana@other.example", "feature"), ("@bob@third.example", "feature"),
        ("@ana@other.example", "reply"), ("@ana@other.example", "share"),
        ("@carol@elsewhere.example", "share"),
    }  # fmt: skip
    bad = next(i for i in items if isinstance(i, BadRow))
    assert bad.reason == "no `published` time: karmabank needs when"
    assert '"statuses/11/activity"' in bad.raw or "statuses/11/activity" in bad.raw


def test_the_two_orders_give_the_same_rows() -> None:
    def rows(layout: str) -> list[tuple[str, str]]:
        return [(i.source_key, i.person.key) for i in read(FIXTURES / layout)
                if isinstance(i, ParsedRow)]  # fmt: skip

    assert rows("quirks") == rows("full-first")


def test_lines_are_those_of_each_activitys_id() -> None:
    items = read(FIXTURES / "quirks")
    lines = (FIXTURES / "quirks" / "outbox.json").read_text().splitlines()
    reply = next(i for i in items if isinstance(i, ParsedRow) and i.verb == "reply")
    assert lines[reply.line - 1].strip() == (
        '"id": "https://example.social/users/org/statuses/2/activity",'
    )
    at = {i.line for i in items if not isinstance(i, OrgIdentityRow | SkippedRow)}
    assert all('"id": "https://example.social/users/org/statuses/' in lines[n - 1] for n in at)


def test_malformed_outbox_is_one_error_naming_the_line(tmp_path: Path) -> None:
    broken = tmp_path / "outbox.json"
    shutil.copy(FIXTURES / "broken-outbox.json", broken)
    shutil.copy(FIXTURES / "quirks" / "actor.json", tmp_path / "actor.json")
    source = MastodonArchiveSource({})
    with InputFile(broken) as f:
        rows = source.read(f)
        assert isinstance(next(rows), OrgIdentityRow)  # one pass: rows come as it is read
        with pytest.raises(InputFileError, match=r"outbox\.json: line 60: not valid JSON"):
            list(rows)


def test_a_broken_outbox_stores_nothing_even_in_small_batches(tmp_path: Path) -> None:
    """The file is stored in one transaction (`stored_whole`): the batches before the
    broken line are not kept."""
    broken = tmp_path / "outbox.json"
    shutil.copy(FIXTURES / "broken-outbox.json", broken)
    shutil.copy(FIXTURES / "quirks" / "actor.json", tmp_path / "actor.json")
    with open_store(str(tmp_path / "k.db"), create=True) as store:
        with pytest.raises(InputFileError, match=r"outbox\.json: line 60: not valid JSON"):
            import_files(store=store, fmt="mastodon-archive", paths=[broken], options={},
                         now=datetime(2026, 1, 1, tzinfo=UTC), batch_size=1)  # fmt: skip
        with store.sessions() as s:
            assert s.scalar(select(func.count()).select_from(Activity)) == 0
            assert s.scalar(select(func.count()).select_from(OrgContent)) == 0
            assert s.scalar(select(func.count()).select_from(OrgIdentity)) == 0
            assert s.scalar(select(ImportRun.status)) == "failed"


def test_a_zip_without_an_outbox_and_a_file_of_another_format(tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("actor.json", "{}")
    with pytest.raises(InputFileError, match="no outbox.json in it"):
        read(archive)
    xml = tmp_path / "export.xml"
    xml.write_text('<?xml version="1.0"?><rss xmlns:wp="http://wordpress.org/export/1.2/"/>')
    with pytest.raises(InputFileError, match="line 1: not valid JSON.*import wxr"):
        read(xml)
    other = tmp_path / "x.json"
    other.write_text('{"type": "Person"}\n')
    with pytest.raises(InputFileError, match="no orderedItems list: not a Mastodon outbox"):
        read(other)


def test_an_empty_outbox_and_a_gzipped_one(tmp_path: Path) -> None:
    import gzip

    empty = tmp_path / "empty" / "outbox.json"
    empty.parent.mkdir()
    empty.write_text('{"type": "OrderedCollection", "totalItems": 0, "orderedItems": []}')
    assert read(empty.parent) == []
    packed = tmp_path / "outbox.json.gz"
    packed.write_bytes(gzip.compress((FIXTURES / "full-first" / "outbox.json").read_bytes()))
    assert read(packed) == read(FIXTURES / "full-first")


def test_unknown_options_are_refused() -> None:
    from karmabank.errors import ConfigError

    with pytest.raises(ConfigError, match="does not take --org"):
        MastodonArchiveSource({"org": "x"})
    with pytest.raises(ConfigError, match="--include-direct: expected true or false"):
        MastodonArchiveSource({"include_direct": "maybe"})
