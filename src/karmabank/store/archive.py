"""The karmabank backup file: an uncompressed tar of the payload's members, then
`manifest.json` (written last, when the members' digests are known).

The manifest says what the file is (`format`, `version`), what made it (`source_backend`,
`payload`: `sqlite` (a SQLite database file), `portable` (one Parquet file per table) or
`pg_dump` (PostgreSQL's custom format)), when (`created_at`), at which schema
(`schema_revision`, the Alembic revision), how many rows each table held (`counts`), and each
member's size and digests (`members`): its sha256, and from version 2 on also its XXH3-128
(`xxh3_128`), which a restore checks (a checksum that finds any damage as surely, 8x faster
than sha256 on this machine); a version 1 file, which has the sha256 only, is checked by it.
Neither is a signature: whoever can change the file can change its manifest too. Reading
checks all of it before anything is written anywhere: a member missing, short, longer,
unlisted or with another digest, or a file cut off, is a `BackupError`. Members are extracted
under names made here, never the tar's own paths.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import re
import sys
import tarfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import IO, Any, Protocol

import xxhash

from karmabank.errors import BackupError

FORMAT = "karmabank-backup"
VERSION = 2  # what is written
WRITTEN = {1: ("sha256",), 2: ("sha256", "xxh3_128")}  # format version -> members' digests
CHECKED = {1: "sha256", 2: "xxh3_128"}  # format version -> the digest a restore checks
MANIFEST = "manifest.json"
PAYLOADS = ("sqlite", "portable", "pg_dump")
_MEMBER = re.compile(
    r"^(README\.txt|database\.sqlite|database\.pgdump|tables/[a-z_][a-z0-9_]*\.parquet)$"
)
_CHUNK = 1 << 20
_MAP_AT_LEAST, _MAP_STEP = 1 << 24, 1 << 24  # hashed from a map of the file: bigger ranges


@dataclass(frozen=True)
class Member:
    bytes: int
    digests: dict[str, str]  # algorithm -> hex digest (`WRITTEN`)


@dataclass(frozen=True)
class Manifest:
    payload: str
    source_backend: str
    schema_revision: str
    created_at: str  # ISO-8601, UTC
    karmabank_version: str
    counts: dict[str, int]
    members: dict[str, Member] = field(default_factory=dict)
    format: str = FORMAT
    version: int = VERSION

    @property
    def checked(self) -> str:
        """The digest a restore checks: XXH3-128, or sha256 in a version 1 file."""
        return CHECKED[self.version]

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["members"] = {name: {"bytes": m.bytes, **m.digests}
                          for name, m in self.members.items()}  # fmt: skip
        return out

    @classmethod
    def parse(cls, raw: bytes, shown: str) -> Manifest:
        try:
            data = json.loads(raw)
            if data.get("format") != FORMAT:
                raise BackupError(f"{shown} is not a karmabank backup")
            version = data.get("version")
            if version not in WRITTEN:
                raise BackupError(
                    f"{shown} is a karmabank backup of format version {version}: this version "
                    f"reads versions {', '.join(map(str, WRITTEN))}"
                )
            members = {str(k): Member(int(v["bytes"]), {a: str(v[a]) for a in WRITTEN[version]})
                       for k, v in data["members"].items()}  # fmt: skip
            manifest = cls(
                payload=str(data["payload"]), source_backend=str(data["source_backend"]),
                schema_revision=str(data["schema_revision"]), created_at=str(data["created_at"]),
                karmabank_version=str(data["karmabank_version"]),
                counts={str(k): int(v) for k, v in data["counts"].items()}, members=members,
                version=version,
            )  # fmt: skip
        except (ValueError, KeyError, TypeError, AttributeError):
            raise BackupError(f"{shown}: its manifest is damaged") from None
        if manifest.payload not in PAYLOADS or not all(_MEMBER.match(m) for m in members):
            raise BackupError(f"{shown}: its manifest is damaged")
        return manifest


def write_archive(
    path: Path, manifest: Manifest, members: dict[str, Path], *, version: int = VERSION
) -> Manifest:
    """Write `members` (name in the archive -> file) and then the manifest, with each member's
    size and digests (format `version`'s: `WRITTEN`), to `path` (through a temporary file beside
    it, renamed at the end).

    The first member's file is consumed: where the file system can insert a range at the start
    of a file (Linux `fallocate` INSERT_RANGE: ext4, XFS), the archive is made around it in
    place, its bytes never copied (a README member fills the inserted block before it); else
    it is copied by the kernel (`copy_file_range`). A thread hashes it meanwhile."""
    algorithms = WRITTEN[version]
    tmp = path.with_name(f".{path.name}.partial")
    names = list(members)
    first, size = members[names[0]], members[names[0]].stat().st_size
    listed: dict[str, Member] = {}
    try:
        out, offset = _adopt(first, names[0], tmp)
        with out:
            if offset is None:  # not adopted: README, then the first member copied
                listed[README] = _add_bytes(out, README, _readme(0), algorithms)
                with ThreadPoolExecutor(1) as pool:
                    digest = pool.submit(_digests, algorithms, first, 0, size)
                    _add_file(out, names[0], first)
                    listed[names[0]] = Member(size, digest.result())
            else:
                readme = _readme(offset)  # written by `_adopt`
                listed[README] = Member(len(readme), _digests_of(algorithms, readme))
                listed[names[0]] = Member(size, _digests(algorithms, tmp, offset, size))
                out.seek(0, os.SEEK_END)
                out.write(_padding(out.tell()))
            for name in names[1:]:
                n = _add_file(out, name, members[name])
                listed[name] = Member(n, _digests(algorithms, members[name], 0, n))
            done = replace(manifest, members=listed, version=version)
            raw = json.dumps(done.as_json(), indent=2, sort_keys=True).encode()
            _add_bytes(out, MANIFEST, raw, algorithms)
            out.write(b"\0" * (2 * tarfile.BLOCKSIZE))  # the end of the archive
            out.write(_padding(out.tell(), tarfile.RECORDSIZE))
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return done


README = "README.txt"
_README = (
    "A karmabank backup: restore it with `karmabank restore FILE --db TARGET`.\n"
    "manifest.json (the last member) says what it holds, with each member's size and digest.\n"
)


def _readme(block: int) -> bytes:
    """The README member's text, padded so that with its header and the next member's it
    fills `block` bytes (0: unpadded)."""
    text = _README.encode()
    if block:
        text = text.ljust(block - 2 * tarfile.BLOCKSIZE, b" ")
    return text


class _Hash(Protocol):
    def update(self, data: bytes | memoryview, /) -> None: ...

    def hexdigest(self) -> str: ...


def _hasher(algorithm: str) -> _Hash:
    return xxhash.xxh3_128() if algorithm == "xxh3_128" else hashlib.sha256()


def _digests_of(algorithms: tuple[str, ...], data: bytes) -> dict[str, str]:
    out = {}
    for algorithm in algorithms:
        h = _hasher(algorithm)
        h.update(data)
        out[algorithm] = h.hexdigest()
    return out


def _adopt(source: Path, name: str, tmp: Path) -> tuple[IO[bytes], int | None]:
    """`source` moved to `tmp` with one file system block inserted before its bytes, the README
    and `name`'s tar headers written in it: open, and where its bytes start. Else a new empty
    `tmp`, open, and None."""
    size = source.stat().st_size
    block = os.statvfs(source.parent).f_bsize
    if block >= 4 * tarfile.BLOCKSIZE and block % tarfile.BLOCKSIZE == 0 and _insert(source, block):
        source.replace(tmp)
        out = open(tmp, "r+b")  # noqa: SIM115 - the caller closes it
        readme = _readme(block)
        out.write(_header(README, len(readme)) + readme + _header(name, size))
        return out, block
    return open(tmp, "wb"), None  # noqa: SIM115


def _insert(path: Path, length: int) -> bool:
    """Insert `length` zero bytes at the start of `path` without moving its data (Linux)."""
    if sys.platform != "linux":
        return False
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDWR)
    try:
        insert_range = 0x20  # FALLOC_FL_INSERT_RANGE
        fallocate = libc.fallocate
        fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
        return bool(fallocate(fd, insert_range, 0, length) == 0)
    finally:
        os.close(fd)


def _header(name: str, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, int(time.time())
    return info.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape")


def _padding(size: int, block: int = tarfile.BLOCKSIZE) -> bytes:
    return b"\0" * (-size % block)


def _add_bytes(out: IO[bytes], name: str, data: bytes, algorithms: tuple[str, ...]) -> Member:
    out.write(_header(name, len(data)) + data + _padding(len(data)))
    return Member(len(data), _digests_of(algorithms, data))


def _add_file(out: IO[bytes], name: str, source: Path) -> int:
    size = source.stat().st_size
    out.write(_header(name, size))
    out.flush()
    with open(source, "rb") as f:
        _copy(f, out, size)
    out.write(_padding(size))
    return size


def _copy(src: IO[bytes], out: IO[bytes], size: int) -> int:
    """Copy `size` bytes from `src`'s position to the end of `out`; returns how many there were."""
    start, left = src.tell(), size
    try:
        while left:
            n = os.copy_file_range(src.fileno(), out.fileno(), min(left, 1 << 30))
            if n == 0:
                break
            left -= n
    except OSError:  # a file system without it: copy through user space
        pass
    out.seek(0, os.SEEK_END)
    src.seek(start + size - left)
    while left > 0 and (chunk := src.read(min(_CHUNK, left))):
        out.write(chunk)
        left -= len(chunk)
    return size - left


def _digests(algorithms: tuple[str, ...], path: Path, offset: int, size: int) -> dict[str, str]:
    """The digests (`algorithms`: xxh3_128, sha256) of `size` bytes of `path` from `offset`
    (fewer if the file ends before), in one pass.

    A big range is hashed straight from the page cache through a read-only map of the file
    (both release the GIL on big buffers; no copy into a buffer of ours), a small one read."""
    hashers = [_hasher(a) for a in algorithms]

    def update(data: bytes | memoryview) -> None:
        for h in hashers:
            h.update(data)

    with open(path, "rb") as f:
        size = max(0, min(size, os.fstat(f.fileno()).st_size - offset))  # never map past the end
        if size >= _MAP_AT_LEAST:
            start = offset - offset % mmap.ALLOCATIONGRANULARITY
            with mmap.mmap(
                f.fileno(), size + offset - start, offset=start, access=mmap.ACCESS_READ
            ) as m:
                if hasattr(mmap, "MADV_SEQUENTIAL"):
                    m.madvise(mmap.MADV_SEQUENTIAL)
                view = memoryview(m)
                try:
                    for at in range(offset - start, offset - start + size, _MAP_STEP):
                        update(view[at : min(at + _MAP_STEP, offset - start + size)])
                finally:
                    view.release()
        else:
            f.seek(offset)
            while size > 0 and (chunk := f.read(min(_CHUNK, size))):
                update(chunk)
                size -= len(chunk)
    return {a: h.hexdigest() for a, h in zip(algorithms, hashers, strict=True)}


def read_archive(path: Path, into: Path) -> Manifest:
    """Check the backup at `path` whole and extract its members into the folder `into` (same
    relative names); returns the manifest. Any damage is a `BackupError`.

    The tar's headers are read first (the manifest, the last member, says which digest to
    check: `Manifest.checked`), then each member is extracted while it is hashed."""
    shown = str(path)
    if not path.is_file():
        raise BackupError(f"no backup file at {shown}")
    infos: list[tarfile.TarInfo] = []
    raw: bytes | None = None
    try:
        with tarfile.open(path, "r:") as tar:
            for info in tar:
                if info.name == MANIFEST and info.isfile() and raw is None:
                    f = tar.extractfile(info)
                    raw = f.read() if f is not None else b""
                    if len(raw) != info.size:
                        raise BackupError(f"{shown} is truncated")
                    continue
                if not info.isfile() or not _MEMBER.match(info.name) or info.name in {
                    i.name for i in infos
                }:
                    raise BackupError(f"{shown} holds a member no backup has: {info.name!r}")
                infos.append(info)
    except (tarfile.TarError, EOFError):
        raise BackupError(f"{shown} is truncated or not a karmabank backup") from None
    if raw is None:
        raise BackupError(f"{shown} is truncated or not a karmabank backup (no manifest)")
    manifest = Manifest.parse(raw, shown)
    checked = manifest.checked
    found = {i.name: _extract(path, i, into / i.name, shown, checked) for i in infos}
    for name, want in manifest.members.items():
        got = found.get(name)
        if got is None:
            raise BackupError(f"{shown} is truncated: {name} is missing")
        if got.bytes != want.bytes or got.digests[checked] != want.digests[checked]:
            raise BackupError(
                f"{shown} was changed or damaged: {name} does not match its {checked}"
            )
    extra = set(found) - set(manifest.members)
    if extra:
        raise BackupError(f"{shown} holds members its manifest does not list: {sorted(extra)}")
    return manifest


def _extract(path: Path, info: tarfile.TarInfo, dest: Path, shown: str, algorithm: str) -> Member:
    """Copy a member's bytes out of the archive at `path` into `dest` (by the kernel), hashing
    them meanwhile in a thread; a member cut off is a `BackupError`."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(1) as pool:
        digest = pool.submit(_digests, (algorithm,), path, info.offset_data, info.size)
        with open(path, "rb") as src, open(dest, "wb") as out:
            src.seek(info.offset_data)
            n = _copy(src, out, info.size)
        digests = digest.result()
    if n != info.size:
        raise BackupError(f"{shown} is truncated: {info.name} is cut off")
    return Member(n, digests)
