"""10,000 generated files through the `bluesky-repo` parser: repositories of generated records
(any shape, right or wrong), damaged copies of a real-shaped repository and plain bytes; each
yields only the importers' items or raises a clean one-line KarmabankError (no traceback)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from karmabank.errors import KarmabankError
from karmabank.sources.base import (
    BadRow,
    InputFile,
    OrgContentRow,
    OrgIdentityRow,
    ParsedRow,
    SkippedRow,
)
from karmabank.sources.bluesky_repo import BlueskyRepoSource
from tests.sources.bluesky_car import ADA, OWNER, car_bytes, org_car

ITEMS = (ParsedRow, BadRow, SkippedRow, OrgIdentityRow, OrgContentRow)
FUZZ = settings(
    max_examples=int(os.environ.get("KB_FUZZ_EXAMPLES", "10000")), derandomize=True, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)  # fmt: skip
COLLECTIONS = [
    "app.bsky.feed.post", "app.bsky.feed.like", "app.bsky.feed.repost", "app.bsky.graph.follow",
    "app.bsky.graph.block", "app.bsky.actor.profile", "", "x/y",
]  # fmt: skip
dids = st.sampled_from([ADA, OWNER, "did:web:example.com", "did:", "nobody", "@ada.bsky.social"])
uris = st.one_of(
    st.builds(lambda d, c, r: f"at://{d}/{c}/{r}", dids, st.sampled_from(COLLECTIONS), st.text()),
    st.text(max_size=30),
)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.text(max_size=20),
    st.binary(max_size=20), uris, dids,
    st.sampled_from(["2026-03-01T12:00:00Z", "2026-13-01", "9999-12-31T23:59:59Z", "0"]),
)  # fmt: skip
FIELDS = ["$type", "createdAt", "subject", "uri", "reply", "parent", "embed", "record", "text",
          "facets", "features", "did", "cid"]  # fmt: skip
values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(FIELDS), inner, max_size=5),
    ),
    max_leaves=6,
)
records = st.lists(
    st.tuples(st.builds(lambda c, r: f"{c}/{r}", st.sampled_from(COLLECTIONS), st.text(max_size=8)),
              st.one_of(values, st.dictionaries(st.sampled_from(FIELDS), values, max_size=6))),
    max_size=5, unique_by=lambda kv: kv[0],
)  # fmt: skip
BASE = org_car()


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    data = bytearray(BASE)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(data) - 1))
        data[i] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


@st.composite
def repositories(draw: st.DrawFn) -> bytes:
    recs = draw(records)
    drop = frozenset(k for k, _ in recs if draw(st.booleans()) and draw(st.booleans()))
    return car_bytes(recs, draw(dids), fanout=draw(st.integers(1, 4)), drop=drop)


documents = st.one_of(repositories(), damaged(), st.binary(max_size=200))


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


@pytest.mark.slow  # about 15 s of CPU (10,000 files written and read)
@FUZZ
@given(data=documents)
def test_bluesky_repo_parser_never_crashes(folder: Path, data: bytes) -> None:
    path = folder / "repo.car"
    path.write_bytes(data)
    try:
        with InputFile(path) as f:
            for item in BlueskyRepoSource({}).read(f):
                assert isinstance(item, ITEMS)
                if isinstance(item, ParsedRow):
                    assert item.direction == "give" and item.channel == "bluesky"
                    assert item.source_key.startswith("bluesky-repo:at://")
                    assert item.person.key.startswith("did:")
    except KarmabankError as e:
        assert str(e) and "\n" not in str(e)
