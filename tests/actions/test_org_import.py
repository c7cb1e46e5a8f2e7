"""What every importer shares (issue 16): the organization's identities, its own content and
opt-outs stored at import, rows of the organization attributed to it, `--dry-run`; on both
backends, through `import_files` and `preview_files` with a source that yields each item."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import func, select

from karmabank.actions.import_preview import preview_files
from karmabank.actions.importing import import_files
from karmabank.errors import InputFileError
from karmabank.model import IdentityKey
from karmabank.sources import registry
from karmabank.sources.base import (
    InputFile,
    OptOutRow,
    OrgContentRow,
    OrgIdentityRow,
    ParsedRow,
    SourceItem,
)
from karmabank.store.open import Store
from karmabank.store.org_tables import OptOut, OrgContent
from karmabank.store.tables import Activity, Identity, OrgIdentity, Person
from tests.conftest import NOW

ORG = IdentityKey("mastodon", "@us@social.example")
ADA = IdentityKey("mastodon", "@ada@social.example")
BO = IdentityKey("email", "bo@example.org")
AT = 1_770_000_000 * 10**6


class _ArchiveSource:
    """An archive of the organization: a row of the owner before the file says who it is (the
    whole batch is the organization's), the owner, a supporter's comment, the organization's
    reply to them (as a peer row from the owner), its own post twice, a peer row toward the
    owner, a row of the owner alone, an unsubscribe twice, content on a bad channel."""

    name: ClassVar[str] = "archive"
    description: ClassVar[str] = "a test archive"
    option_names: ClassVar[frozenset[str]] = frozenset()
    told: ClassVar[list[frozenset[IdentityKey]]] = []

    def __init__(self, options: Mapping[str, str]) -> None:
        pass

    def organization_identities(self) -> list[IdentityKey]:
        return []

    def use_organization(self, identities: frozenset[IdentityKey]) -> None:
        self.told.append(identities)

    def read(self, file: InputFile) -> Iterator[SourceItem]:
        yield ParsedRow(1, "t:0", AT, ORG, "comment", "in", "mastodon")
        yield OrgIdentityRow(2, ORG)
        yield ParsedRow(3, "t:1", AT + 1, ADA, "comment", "in", "mastodon", name="Ada")
        yield ParsedRow(4, "t:2", AT + 2, ORG, "reply", "peer", "mastodon", target=ADA,
                        name="Us", followers=999)  # fmt: skip
        yield OrgContentRow(5, "t:post:1", AT + 3, "mastodon", "https://social.example/@us/1",
                            "A post", "Come to the river cleanup")  # fmt: skip
        yield OrgContentRow(6, "t:post:1", AT + 3, "mastodon", "https://social.example/@us/1")
        yield ParsedRow(7, "t:3", AT + 4, ADA, "share", "peer", "mastodon", target=ORG)
        yield ParsedRow(8, "t:4", AT + 5, ORG, "like", "in", "mastodon")
        yield OptOutRow(9, BO, "email", name="Bo")
        yield OptOutRow(10, BO, "email")
        yield OrgContentRow(11, "t:post:2", AT + 6, "no such channel!", "https://x.example/2")


@pytest.fixture
def archive(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(registry, "load", lambda name, options: _ArchiveSource(options))
    _ArchiveSource.told.clear()
    f = tmp_path / "archive.txt"
    f.write_text("x\n")
    return f


def _rows(store: Store) -> list[tuple[str, int, str, str, int | None]]:
    with store.sessions() as s:
        return [
            (a.source_key, a.person_id, a.verb, a.direction, a.target_id)
            for a in s.scalars(select(Activity).order_by(Activity.source_key))
        ]


def _person(store: Store, key: IdentityKey) -> int:
    with store.sessions() as s:
        pid = s.scalar(
            select(Identity.person_id).where(
                Identity.platform == key.platform, Identity.key == key.key
            )
        )
    assert pid is not None
    return int(pid)


def test_an_archive_stores_the_organization_its_content_and_opt_outs(
    store: Store, archive: Path
) -> None:
    report = import_files(store=store, fmt="archive", paths=[archive], options={}, now=NOW)
    # 10 data rows (the identity row is none): 3 activities, 1 content and 1 opt-out imported;
    # a repeated content and opt-out; 2 rows of the organization alone; 1 bad channel
    assert (report.imported, report.duplicates, report.skipped, report.quarantined) == (5, 2, 2, 1)
    assert report.rows_read == 10
    assert report.skip_reasons == {"the organization itself": 2}
    assert (report.org_content, report.opt_outs) == (1, 1)
    assert report.org_identities == ("mastodon:@us@social.example",)
    assert report.as_json()["organization"] == {
        "identities_added": ["mastodon:@us@social.example"], "content": 1, "opt_outs": 1,
    }  # fmt: skip
    assert [e.line for e in report.errors] == [11]
    ada = _person(store, ADA)
    assert _rows(store) == [
        ("t:1", ada, "comment", "in", None),
        ("t:2", ada, "reply", "give", None),  # the organization's reply: a give to Ada
        ("t:3", ada, "share", "in", None),  # a peer row toward the organization: inbound
    ]
    with store.sessions() as s:
        assert s.scalars(select(Person.name).where(Person.id == ada)).one() == "Ada"
        assert s.scalar(select(Person.followers).where(Person.id == ada)) is None
        content = s.scalars(select(OrgContent)).all()
        assert [(c.source_key, c.title, c.text) for c in content] == [
            ("t:post:1", "A post", "Come to the river cleanup")
        ]
        assert [(o.person_id, o.channel, o.source) for o in s.scalars(select(OptOut))] == [
            (_person(store, BO), "email", f"import_run:{report.run_id}")
        ]
        assert s.scalar(select(func.count()).select_from(OrgIdentity)) == 1
        assert s.scalar(select(func.count()).where(Identity.key == ORG.key)) == 0  # no person
    assert _ArchiveSource.told == [frozenset()]  # told before reading: nothing known yet


def test_a_re_run_imports_nothing_twice(store: Store, archive: Path) -> None:
    import_files(store=store, fmt="archive", paths=[archive], options={}, now=NOW)
    again = import_files(store=store, fmt="archive", paths=[archive], options={}, now=NOW)
    assert (again.imported, again.duplicates, again.skipped, again.quarantined) == (0, 7, 2, 1)
    assert again.org_identities == ()
    assert "organization" not in again.as_json()
    assert _ArchiveSource.told[-1] == frozenset({ORG})  # the stored identities, before reading
    with store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OrgContent)) == 1
        assert s.scalar(select(func.count()).select_from(OptOut)) == 1


def test_an_owner_a_person_has_stops_the_import_and_nothing_of_the_batch_is_stored(
    store: Store, archive: Path
) -> None:
    with store.sessions.begin() as s:
        p = Person(name="Us, imported earlier", created_at=NOW)
        s.add(p)
        s.flush()
        s.add(Identity(person_id=p.id, platform=ORG.platform, key=ORG.key))
    with pytest.raises(InputFileError, match=r"archive.txt line 2: the file says "
                       r"mastodon:@us@social.example is the organization's, but it is the "
                       r"identity of person id:\d+: make it the organization's with `karmabank "
                       r"org identity add mastodon:@us@social.example --take`"):  # fmt: skip
        import_files(store=store, fmt="archive", paths=[archive], options={}, now=NOW)
    with store.sessions() as s:
        for table in (Activity, OrgIdentity, OrgContent, OptOut):
            assert s.scalar(select(func.count()).select_from(table)) == 0, table
    with pytest.raises(InputFileError, match="--take"):  # the dry run stops the same way
        preview_files(store=store, fmt="archive", paths=[archive], options={})


def test_dry_run_counts_what_the_import_would_and_stores_nothing(
    store: Store, archive: Path
) -> None:
    preview = preview_files(store=store, fmt="archive", paths=[archive], options={})
    assert (preview.imported, preview.duplicates, preview.skipped, preview.quarantined) == (
        5, 2, 2, 1,
    )  # fmt: skip
    assert (preview.org_content, preview.opt_outs) == (1, 1)
    assert preview.org_identities == ["mastodon:@us@social.example"]
    assert [(r["line"], r["person"], r["direction"]) for r in preview.first_rows] == [
        (3, "mastodon:@ada@social.example", "in"), (4, "mastodon:@ada@social.example", "give"), (7, "mastodon:@ada@social.example", "in"),
    ]  # fmt: skip
    with store.sessions() as s:
        for table in (Activity, Person, Identity, OrgIdentity, OrgContent, OptOut):
            assert s.scalar(select(func.count()).select_from(table)) == 0, table
    report = import_files(store=store, fmt="archive", paths=[archive], options={}, now=NOW)
    assert (report.imported, report.duplicates) == (preview.imported, preview.duplicates)
    after = preview_files(store=store, fmt="archive", paths=[archive], options={})
    assert (after.imported, after.duplicates) == (0, 7)


def test_dry_run_without_a_database(archive: Path) -> None:
    preview = preview_files(store=None, fmt="archive", paths=[archive], options={})
    assert (preview.imported, preview.duplicates, preview.checked_database) == (5, 2, False)


class _BadContentSource(_ArchiveSource):
    """Content no database stores (NUL, too long, out of range) and an erased person's
    opt-out."""

    def read(self, file: InputFile) -> Iterator[SourceItem]:
        yield OrgContentRow(1, "b:1", AT, "blog", "https://x.example/1", text="a\x00b")
        yield OrgContentRow(2, "b:2", AT, "blog", "https://x.example/2", title="t" * 5_000)
        yield OrgContentRow(3, "b:3", 2**62, "blog", "https://x.example/3")
        yield OrgContentRow(4, "b:4", AT, "blog", "")
        yield OrgContentRow(5, "b:5", AT, "blog", "https://x.example/5", "Fine")
        yield OptOutRow(6, BO, "email")


def test_content_no_database_stores_is_quarantined_and_an_erased_person_skipped(
    store: Store, archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with store.sessions.begin() as s:
        p = Person(name=None, created_at=NOW, erased=True)
        s.add(p)
        s.flush()
        s.add(Identity(person_id=p.id, platform=BO.platform, key=BO.key))
    monkeypatch.setattr(registry, "load", lambda name, options: _BadContentSource(options))
    report = import_files(store=store, fmt="archive", paths=[archive], options={}, now=NOW)
    assert (report.imported, report.duplicates, report.skipped, report.quarantined) == (1, 0, 1, 4)
    assert report.skip_reasons == {"erased": 1}
    reasons = [e.reason for e in report.errors]
    assert reasons[0].startswith("text contains a NUL character")
    assert reasons[1] == "title is too long: 5,000 characters (at most 2,048)"
    assert reasons[2].startswith("occurred_at (microseconds) out of range")
    assert reasons[3] == "content without a source_key or object"
    with store.sessions() as s:
        assert s.scalars(select(OrgContent.source_key)).all() == ["b:5"]
        assert s.scalar(select(func.count()).select_from(OptOut)) == 0
    preview = preview_files(store=store, fmt="archive", paths=[archive], options={})
    assert (preview.imported, preview.duplicates, preview.skipped, preview.quarantined) == (
        0, 1, 1, 4,
    )  # fmt: skip
