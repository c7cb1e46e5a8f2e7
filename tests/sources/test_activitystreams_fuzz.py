"""10,000 generated files through the `activitystreams` and `mastodon-archive` parsers: every
one yields only the importers' items or raises a clean KarmabankError (no traceback)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from karmabank.errors import KarmabankError
from karmabank.model import IdentityKey
from karmabank.sources.activitystreams import ActivityStreamsSource
from karmabank.sources.base import (
    BadRow,
    InputFile,
    OrgContentRow,
    OrgIdentityRow,
    ParsedRow,
    SkippedRow,
)
from karmabank.sources.mastodon_archive import MastodonArchiveSource
from tests.sources.activitystreams_strategies import documents

ITEMS = (ParsedRow, BadRow, SkippedRow, OrgIdentityRow, OrgContentRow)
FUZZ = settings(
    max_examples=10_000, derandomize=True, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)  # fmt: skip


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def _through(source: ActivityStreamsSource | MastodonArchiveSource, path: Path) -> None:
    try:
        with InputFile(path) as f:
            for item in source.read(f):
                assert isinstance(item, ITEMS)
                if isinstance(item, ParsedRow):
                    assert item.direction in ("in", "give", "peer")
                    assert item.source_key.startswith("as2:")
    except KarmabankError as e:
        assert str(e) and "\n" not in str(e)


@pytest.mark.slow  # about 15-20 s of CPU each (10,000 files written and read)
@FUZZ
@given(data=documents)
def test_activitystreams_parser_never_crashes(folder: Path, data: bytes) -> None:
    path = folder / "collection.json"
    path.write_bytes(data)
    source = ActivityStreamsSource({"include_direct": "true"})
    source.use_organization(frozenset({IdentityKey("mastodon", "@org@example.social")}))
    _through(source, path)


@pytest.mark.slow  # about 15-20 s of CPU each (10,000 files written and read)
@FUZZ
@given(data=documents)
def test_mastodon_archive_parser_never_crashes(folder: Path, data: bytes) -> None:
    path = folder / "outbox.json"
    path.write_bytes(data)
    _through(MastodonArchiveSource({}), path)
