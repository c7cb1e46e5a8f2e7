"""The backup file itself (store/archive.py): a member big enough to be hashed from a map of
the file is checked like a small one, and a file cut off inside it is an error, not a crash;
files of format version 1 (sha256 digests) are still read, and checked as strictly."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
import xxhash

from karmabank.errors import BackupError
from karmabank.store import archive
from karmabank.store.archive import Manifest, read_archive, write_archive


def manifest() -> Manifest:
    return Manifest(payload="sqlite", source_backend="sqlite", schema_revision="0016",
                    created_at="2026-06-01T12:00:00Z", karmabank_version="0", counts={})  # fmt: skip


def reference(algorithm: str, data: bytes) -> str:
    if algorithm == "sha256":
        return hashlib.sha256(data).hexdigest()
    return xxhash.xxh3_128(data).hexdigest()


@pytest.mark.parametrize("algorithm", ["xxh3_128", "sha256"])
@pytest.mark.parametrize("offset", [0, 1, 4096 + 512])
def test_a_range_hashed_from_a_map_is_its_digest(
    tmp_path: Path, offset: int, algorithm: str
) -> None:
    data = os.urandom(archive._MAP_AT_LEAST + 12345)
    file = tmp_path / "f"
    file.write_bytes(data)
    size = len(data) - offset - 7
    got = archive._digests((algorithm,), file, offset, size)
    assert got == {algorithm: reference(algorithm, data[offset:][:size])}
    # past the end of the file: the bytes there are (a caller compares the sizes)
    tail = reference(algorithm, data[offset:])
    assert archive._digests((algorithm,), file, offset, len(data)) == {algorithm: tail}
    both = archive._digests(("sha256", "xxh3_128"), file, offset, size)  # in one pass
    assert both == {a: reference(a, data[offset:][:size]) for a in ("sha256", "xxh3_128")}


@pytest.mark.parametrize("version", [2, 1])
def test_a_big_member_round_trips_and_a_cut_or_a_changed_byte_is_an_error(
    tmp_path: Path, version: int
) -> None:
    algorithm = archive.CHECKED[version]  # what a restore checks: xxh3_128, or v1's sha256
    data = os.urandom(archive._MAP_AT_LEAST * 2 + 999)
    member = tmp_path / "database.sqlite"
    member.write_bytes(data)
    file = tmp_path / "b.kbb"
    made = write_archive(file, manifest(), {"database.sqlite": member}, version=version)
    assert made.version == version
    digests = made.members["database.sqlite"].digests
    assert set(digests) == set(archive.WRITTEN[version])  # both, and the sha256 always
    assert digests == {a: reference(a, data) for a in digests}
    tail = file.read_bytes()[-4096 * 4 :].decode(errors="replace")
    assert all(f'"{a}": "{d}"' in tail for a, d in digests.items())  # the manifest has them
    out = tmp_path / "out"
    assert read_archive(file, out) == made
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
    with pytest.raises(BackupError, match=f"database.sqlite does not match its {algorithm}$"):
        read_archive(bad, tmp_path / "o-bad")


def test_an_unknown_format_version_is_named(tmp_path: Path) -> None:
    member = tmp_path / "database.sqlite"
    member.write_bytes(b"x" * 100)
    file = tmp_path / "b.kbb"
    write_archive(file, manifest(), {"database.sqlite": member})
    whole = file.read_bytes()
    file.write_bytes(whole.replace(b'"version": 2', b'"version": 9'))
    with pytest.raises(BackupError, match="format version 9: this version reads versions 1, 2$"):
        read_archive(file, tmp_path / "out")
