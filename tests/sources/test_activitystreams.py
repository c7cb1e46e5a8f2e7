"""The `activitystreams` importer on fixtures (tests/sources/fixtures/activitystreams/) and on
the real Mastodon outbox in ../shared/data/formats/ read as a plain AS 2.0 collection."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from karmabank.errors import InputFileError
from karmabank.model import IdentityKey
from karmabank.sources.activitystreams import ActivityStreamsSource
from karmabank.sources.activitystreams_common import uri_account
from karmabank.sources.base import InputFile, ParsedRow, SkippedRow, SourceItem
from tests.conftest import require_data

FIXTURES = Path(__file__).parent / "fixtures" / "activitystreams"
ORG = IdentityKey("mastodon", "@org@example.social")
ANA = IdentityKey("mastodon", "@ana@other.example")
BOB = IdentityKey("mastodon", "@bob@third.example")


def read(
    path: Path, org: frozenset[IdentityKey] = frozenset({ORG}), **opts: str
) -> list[SourceItem]:
    source = ActivityStreamsSource(opts)
    source.use_organization(org)
    with InputFile(path) as f:
        return list(source.read(f))


def rows(items: list[SourceItem]) -> list[tuple[str, str, str, str | None]]:
    return [
        (i.person.key, i.verb, i.direction, i.target.key if i.target else None)
        for i in items
        if isinstance(i, ParsedRow)
    ]


def test_a_paged_collection_row_by_row() -> None:
    items = read(FIXTURES / "paged.json")
    assert rows(items) == [
        ("@ana@other.example", "like", "in", None),  # ana likes the organization's status
        ("https://blog.example/actor", "follow", "in", None),  # an actor URI of no Mastodon shape
        ("@ana@other.example", "reply", "in", None),
        ("@ana@other.example", "mention", "in", None),  # she mentions the organization...
        ("@ana@other.example", "mention", "peer", "@bob@third.example"),  # ...and bob
        ("@ana@other.example", "share", "give", None),  # the organization boosts her status
        ("@bob@third.example", "like", "peer", "@ana@other.example"),  # attributedTo says whose
        ("@ana@other.example", "attend", "in", None),  # Join of the organization's event
    ]
    skipped = Counter(i.reason for i in items if isinstance(i, SkippedRow))
    assert skipped == {
        "Undo activities are not imported": 1,
        "a post by someone else that replies to or mentions no one": 1,
        "Like: its status URI does not show the author (not a Mastodon-style path): not guessed": 1,
        "an activity given only by its URI (its content is elsewhere)": 1,
        "a direct message (imported with --include-direct)": 1,
    }
    first = next(i for i in items if isinstance(i, ParsedRow))
    assert (first.source_key, first.occurred_at, first.channel, first.line) == (
        "as2:https://activities.example/1", 1714552200_000000, "mastodon", 15,
    )  # fmt: skip
    assert first.object == "https://example.social/users/org/statuses/1"
    bob = next(i for i in items if isinstance(i, ParsedRow) and i.person == BOB)
    assert bob.name == "Bob"  # the embedded actor's name
    web = next(i for i in items if isinstance(i, ParsedRow) and i.person.platform == "web")
    assert web.channel == "web"


def test_direct_messages_with_include_direct() -> None:
    items = read(FIXTURES / "paged.json", include_direct="true")
    assert ("@ana@other.example", "mention", "in", None) in rows(items)[-1:]
    assert not any(isinstance(i, SkippedRow) and "direct" in i.reason for i in items)


def test_direction_follows_the_organization() -> None:
    """The same collection without knowing the organization: everything is between others,
    and the organization's account is just another account."""
    items = read(FIXTURES / "paged.json", org=frozenset())
    directions = Counter(d for _, _, d, _ in rows(items))
    assert directions == {"peer": 8}
    share = next(r for r in rows(items) if r[1] == "share")
    assert share == ("@org@example.social", "share", "peer", "@ana@other.example")


def test_pages_in_several_files_and_a_top_level_array() -> None:
    page = read(FIXTURES / "page3.json")
    assert rows(page) == [
        ("@ana@other.example", "like", "in", None),
        ("@bob@third.example", "follow", "give", None),
    ]
    paged = {i.source_key for i in read(FIXTURES / "paged.json") if isinstance(i, ParsedRow)}
    again = [i for i in page if isinstance(i, ParsedRow) and i.source_key in paged]
    assert len(again) == 1  # the same activity in two pages: one key, imported once
    assert rows(read(FIXTURES / "array.json")) == [
        ("@bob@third.example", "like", "in", None),
        ("@ana@other.example", "add", "give", None),
    ]


def test_pages_elsewhere_and_files_that_are_no_collection(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"pages elsewhere \('https://activities"):
        read(FIXTURES / "elsewhere.json")
    person = tmp_path / "person.json"
    person.write_text('{"type": "Person", "id": "https://example.social/users/org"}')
    with pytest.raises(InputFileError, match="not an ActivityStreams collection"):
        read(person)
    broken = tmp_path / "broken.json"
    broken.write_text('{"orderedItems": [\n  {"type": "Like"},\n  {"type": \n')
    with pytest.raises(InputFileError, match="broken.json: line 3: not valid JSON"):
        read(broken)
    empty = tmp_path / "empty.json"
    empty.write_text('{"type": "OrderedCollection", "orderedItems": []}')
    assert read(empty) == []


def test_the_real_outbox_as_a_collection_of_the_organizations_activities() -> None:
    owner = IdentityKey("mastodon", "@purplerain@o3o.ca")
    items = read(require_data("formats", "mastodon-archive", "outbox.json"), frozenset({owner}))
    kinds = Counter(f"{i.verb} {i.direction}" for i in items if isinstance(i, ParsedRow))
    assert kinds == {"share give": 51, "feature give": 13, "reply give": 9}


@pytest.mark.parametrize(
    ("uri", "account"),
    [
        ("https://o3o.ca/users/purplerain/statuses/1", "@purplerain@o3o.ca"),
        ("https://o3o.ca/users/PurpleRain", "@purplerain@o3o.ca"),
        ("https://o3o.ca/@purplerain/1059", "@purplerain@o3o.ca"),
        ("https://o3o.ca/@ana@other.example/1059", "@ana@other.example"),
        ("https://misskey.example/notes/9xyz", None),
        ("https://pleroma.example/objects/0b1c-uuid", None),
        ("https://o3o.ca/users/a/statuses/1/activity", None),
        ("http://localhost/users/a", None),
        ("not a uri", None),
    ],
)
def test_accounts_only_from_uris_that_show_them(uri: str, account: str | None) -> None:
    found = uri_account(uri)
    assert (found.key if found else None) == account


def test_an_id_spelled_with_escaped_slashes_gets_its_chunks_line(tmp_path: Path) -> None:
    path = tmp_path / "escaped.json"
    path.write_text(
        '{"type": "OrderedCollection",\n "orderedItems": [\n'
        '  {"id": "https://a.example/1", "type": "Like", "actor": "https://b.example/users/bo",'
        ' "published": "2024-01-01T00:00:00Z", "object": "https://example.social/users/org/statuses/1"},\n'
        '  {"id": "https:\\/\\/a.example\\/2", "type": "Like", "actor": "https://b.example/users/bo",'
        ' "published": "2024-01-01T00:00:00Z", "object": "https://example.social/users/org/statuses/1"}\n'
        "]}\n"
    )
    first, second = read(path)
    assert isinstance(first, ParsedRow) and isinstance(second, ParsedRow)
    assert (first.line, second.line) == (3, 6)  # 6: the last line read with it
    assert second.source_key == "as2:https://a.example/2"


def test_accepting_a_follow_is_toward_the_follower(tmp_path: Path) -> None:
    path = tmp_path / "accept.json"
    follow = {
        "id": "https://other.example/f/1",
        "type": "Follow",
        "actor": "https://other.example/users/ana",
        "object": "https://example.social/users/org",
    }
    accept = {
        "id": "https://example.social/a/1",
        "type": "Accept",
        "object": follow,
        "actor": "https://example.social/users/org",
        "published": "2024-05-01T00:00:00Z",
    }
    path.write_text(json.dumps({"type": "OrderedCollection", "orderedItems": [accept]}))
    assert rows(read(path)) == [("@ana@other.example", "accept", "give", None)]
