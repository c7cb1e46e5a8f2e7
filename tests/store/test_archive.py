"""The backup file itself (store/archive.py): a member big enough to be hashed from a map of
the file is checked like a small one, and a file cut off inside it is an error, not a crash."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from karmabank.errors import BackupError
from karmabank.store import archive
from karmabank.store.archive import Manifest, read_archive, write_archive


def manifest() -> Manifest:
    return Manifest(payload="sqlite", source_backend="sqlite", schema_revision="0016",
                    created_at="2026-06-01T12:00:00Z", karmabank_version="0", counts={})  # fmt: skip


@pytest.mark.parametrize("offset", [0, 1, 4096 + 512])
def test_a_range_hashed_from_a_map_is_its_sha256(tmp_path: Path, offset: int) -> None:
    data = os.urandom(archive._MAP_AT_LEAST + 12345)
    file = tmp_path / "f"
    file.write_bytes(data)
    size = len(data) - offset - 7
    assert archive._sha256(file, offset, size) == hashlib.sha256(data[offset:][:size]).hexdigest()
    # past the end of the file: the bytes there are (a caller compares the sizes)
    tail = hashlib.sha256(data[offset:]).hexdigest()
    assert archive._sha256(file, offset, len(data)) == tail


def test_a_big_member_round_trips_and_a_cut_or_a_changed_byte_is_an_error(
    tmp_path: Path,
) -> None:
    data = os.urandom(archive._MAP_AT_LEAST * 2 + 999)
    member = tmp_path / "database.sqlite"
    member.write_bytes(data)
    file = tmp_path / "b.kbb"
    made = write_archive(file, manifest(), {"database.sqlite": member})
    assert made.members["database.sqlite"].sha256 == hashlib.sha256(data).hexdigest()
    out = tmp_path / "out"
    read_archive(file, out)
    assert (out / "database.sqlite").read_bytes() == data
    whole = file.read_bytes()
    at = whole.index(data[:64])
    for n, damaged in enumerate((whole[: at + len(data) // 2], whole[: at + len(data) - 1])):
        cut = tmp_path / f"cut{n}.kbb"
        cut.write_bytes(damaged)
        with pytest.raises(BackupError, match="truncated"):
            read_archive(cut, tmp_path / f"o{n}")
    changed = bytearray(whole)
    changed[at + len(data) - 3] ^= 1
    bad = tmp_path / "bad.kbb"
    bad.write_bytes(bytes(changed))
    with pytest.raises(BackupError, match="sha256"):
        read_archive(bad, tmp_path / "o-bad")
