from __future__ import annotations

from pathlib import Path

import pytest

from karmabank.errors import ConfigError, InputFileError
from karmabank.model import IdentityKey
from karmabank.sources.base import BadRow, InputFile, ParsedRow, SourceItem
from karmabank.sources.csv_source import CsvSource


def read(path: Path, **options: str) -> list[SourceItem]:
    with InputFile(path) as f:
        return list(CsvSource(options).read(f))


def test_rows_are_normalized(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_text(
        "occurred_at,person,name,verb,direction,channel,text,target,weight\n"
        '2026-05-01T10:00:00Z,Ada@Example.org,Ada,Create,in,,"Hello, river!",,\n'
        "1777000000,mastodon:@Bob@Social.Example,,reply,peer,mastodon,hi,email:ada@example.org,2\n"
    )
    a, b = read(p)
    assert isinstance(a, ParsedRow) and isinstance(b, ParsedRow)
    assert a.person == IdentityKey("email", "ada@example.org")
    assert (a.verb, a.direction, a.channel, a.text, a.name) == (
        "comment",
        "in",
        "email",
        "Hello, river!",
        "Ada",
    )
    assert b.person == IdentityKey("mastodon", "@bob@social.example")
    assert b.target == IdentityKey("email", "ada@example.org")
    assert (b.weight, b.occurred_at) == (2.0, 1777000000 * 1_000_000)


def test_bad_rows_are_quarantined_with_line_and_reason(tmp_path: Path) -> None:
    p = tmp_path / "b.csv"
    p.write_text(
        "occurred_at,person,verb,direction\n"
        "2026-05-01,ada@example.org,like,in\n"
        "not a time,ada@example.org,like,in\n"
        "2026-05-01,,like,in\n"
        "2026-05-01,ada@example.org,like,sideways\n"
        "2026-05-01,ada@example.org,like\n"
        "2026-05-01,bob@example.org,reply,peer\n"
        '"2026-05-02","multi\nline@example.org",like,in\n'
        "2026-05-03,carol@example.org,share,in\n"
    )
    items = read(p)
    bad = [(i.line, i.reason) for i in items if isinstance(i, BadRow)]
    assert bad == [
        (3, "unparseable time 'not a time' (use ISO-8601 or unix seconds)"),
        (4, "missing person"),
        (5, "unknown direction 'sideways' (use in, give, ask or peer)"),
        (6, "expected 4 columns, found 3"),
        (7, "a peer activity needs a target"),
        (
            8,
            "person: cannot tell the platform of 'multi\\nline@example.org': write it as "
            "platform:key (platforms: bluesky, email, event, github, linkedin, mastodon, "
            "other, phone, web, x)",
        ),
    ]
    good = [i for i in items if isinstance(i, ParsedRow)]
    assert [g.line for g in good] == [2, 10]


def test_map_renames_columns(tmp_path: Path) -> None:
    p = tmp_path / "c.csv"
    p.write_text("When,Email,What,Way\n2026-05-01,ada@example.org,donate,in\n")
    (row,) = read(p, map="When=occurred_at,Email=person,What=verb,Way=direction")
    assert isinstance(row, ParsedRow) and row.verb == "donate"


def test_missing_columns_fail_the_file_clearly(tmp_path: Path) -> None:
    p = tmp_path / "d.csv"
    p.write_text("when,who\n1,2\n")
    with pytest.raises(
        InputFileError, match="missing required column.*occurred_at, person, verb, direction"
    ):
        read(p)
    with pytest.raises(ConfigError, match="unknown field"):
        CsvSource({"map": "a=nonsense"})


def test_given_source_key_is_kept_and_default_key_is_stable(tmp_path: Path) -> None:
    p = tmp_path / "e.csv"
    p.write_text(
        "occurred_at,person,verb,direction,source_key\n"
        "2026-05-01,ada@example.org,like,in,post-42\n"
        "2026-05-01,ada@example.org,like,in,\n"
    )
    a, b = read(p)
    assert isinstance(a, ParsedRow) and isinstance(b, ParsedRow)
    assert a.source_key == "post-42"
    assert b.source_key.startswith("csv:")
    (_, again) = read(p)
    assert isinstance(again, ParsedRow) and again.source_key == b.source_key


def test_followers_column_feeds_the_person(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import select

    from karmabank.actions.importing import import_files
    from karmabank.store.open import open_store
    from karmabank.store.tables import Person

    f = tmp_path / "f.csv"
    f.write_text(
        "occurred_at,person,verb,direction,followers\n"
        "2026-05-01T10:00:00Z,mastodon:@ada@social.example,comment,in,1200\n"
        "2026-05-02T10:00:00Z,mastodon:@ada@social.example,like,in,1250\n"
        "2026-05-02T10:00:00Z,mastodon:@bob@social.example,like,in,many\n"
    )
    with open_store(str(tmp_path / "k.db"), create=True) as store:
        report = import_files(store=store, fmt="csv", paths=[f], options={},
                              now=datetime(2026, 6, 1, tzinfo=UTC))  # fmt: skip
        assert report.imported == 2 and report.quarantined == 1
        assert report.errors[0].reason == "followers is not a count: 'many'"
        with store.sessions() as s:
            assert s.scalars(select(Person.followers)).all() == [1250]


def test_the_also_column_states_other_identities_of_the_person(tmp_path: Path) -> None:
    p = tmp_path / "also.csv"
    p.write_text(
        "occurred_at,person,verb,direction,also\n"
        "2026-05-01,ada@example.org,comment,in,GitHub:Ada  https://ada.example ada@example.org\n"
        "2026-05-01,ada@example.org,comment,in,\n"
        "2026-05-01,ada@example.org,comment,in,github:ada nobody\n"
    )
    a, b, c = read(p)
    assert isinstance(a, ParsedRow) and isinstance(b, ParsedRow) and isinstance(c, BadRow)
    assert a.also == (IdentityKey("github", "ada"), IdentityKey("web", "https://ada.example"))
    assert b.also == ()
    assert c.line == 4 and c.reason.startswith("also: cannot tell the platform of 'nobody'")
